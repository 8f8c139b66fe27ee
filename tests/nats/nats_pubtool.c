/* nats_pubtool.c - test and benchmark helper: publishes articles to a
 * JetStream subject through plugins/export/nats_publish.c (so the NATS tests
 * exercise the publisher too), and reads a consumer's state.
 *
 *   nats_pubtool publish URL SUBJECT COUNT [--prefix P] [--start K] [--poison I,J,...]
 *       COUNT generated Arabic articles, ids P000001..; the articles whose
 *       numbers are listed after --poison get ids "poison-..." instead.
 *   nats_pubtool file URL SUBJECT FILE.jsonl
 *       one message per non-empty line (message id = line number).
 *   nats_pubtool consumer URL STREAM DURABLE
 *       prints "pending=N ack_pending=N redelivered=N delivered=N acked_floor=N".
 *   nats_pubtool stream URL STREAM SUBJECT [MAX_MSGS]
 *       creates stream STREAM capturing SUBJECT (file storage) unless it exists;
 *       with MAX_MSGS, a full stream refuses new messages (discard new).
 *   nats_pubtool dump URL STREAM
 *       prints every message stored in STREAM, one per line, in sequence order.
 * Exit 0 on success, 1 with a message on stderr otherwise. */
#include "../../plugins/export/nats_publish.h"

#include <nats/nats.h>

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Our own sentences (written for these tests), combined per article. */
static const char *const sentences[] = {
    "افتتحت البلدية حديقة عامة جديدة قرب النهر صباح اليوم.",
    "قال المتحدث باسم الوزارة إن الطرق ستفتح بعد انتهاء الصيانة.",
    "يشارك فريق المدرسة في مسابقة العلوم التي تقام في عمّان.",
    "ارتفعت أسعار الخضار في السوق المركزي بعد موجة البرد.",
    "أعلنت المكتبة الوطنية عن معرض للمخطوطات القديمة في بيروت.",
    "وصل القطار السريع إلى الرباط متأخرًا ساعة بسبب الأمطار.",
    "نظّم طلاب الجامعة حملة لتنظيف الشاطئ في الإسكندرية.",
    "تتوقع الأرصاد الجوية طقسًا معتدلًا في نهاية الأسبوع.",
};
#define NSENT (sizeof sentences / sizeof *sentences)

static int usage(void)
{
    fprintf(stderr, "usage: nats_pubtool publish URL SUBJECT COUNT [--prefix P] [--start K] [--poison I,J]\n"
                    "       nats_pubtool file URL SUBJECT FILE.jsonl\n"
                    "       nats_pubtool consumer URL STREAM DURABLE\n"
                    "       nats_pubtool stream URL STREAM SUBJECT [MAX_MSGS]\n"
                    "       nats_pubtool dump URL STREAM\n");
    return 1;
}

static int finish(nats_pub *p, unsigned long long n)
{
    char err[512];
    int rc = nats_pub_sync(p, err, sizeof err);
    unsigned long long sent, acked, resent, failed;
    nats_pub_stats(p, &sent, &acked, &resent, &failed);
    nats_pub_close(p);
    if (rc < 0) {
        fprintf(stderr, "nats_pubtool: %s\n", err);
        return 1;
    }
    fprintf(stderr, "nats_pubtool: published %llu (sent %llu, acked %llu, resent %llu, failed %llu)\n", n, sent,
            acked, resent, failed);
    return 0;
}

static bool listed(const char *list, long i)
{
    for (const char *p = list; p && *p;) {
        char *end;
        long v = strtol(p, &end, 10);
        if (end == p)
            break;
        if (v == i)
            return true;
        p = *end == ',' ? end + 1 : end;
    }
    return false;
}

static int cmd_publish(int argc, char **argv)
{
    if (argc < 5)
        return usage();
    const char *prefix = "a", *poison = NULL;
    long start = 1, count = strtol(argv[4], NULL, 10);
    for (int i = 5; i + 1 < argc; i += 2) {
        if (strcmp(argv[i], "--prefix") == 0)
            prefix = argv[i + 1];
        else if (strcmp(argv[i], "--start") == 0)
            start = strtol(argv[i + 1], NULL, 10);
        else if (strcmp(argv[i], "--poison") == 0)
            poison = argv[i + 1];
        else
            return usage();
    }
    char err[512];
    nats_pub *p;
    if (nats_pub_open(argv[2], argv[3], &p, err, sizeof err) < 0) {
        fprintf(stderr, "nats_pubtool: %s\n", err);
        return 1;
    }
    char id[64], rec[4096];
    for (long i = start; i < start + count; i++) {
        if (poison && listed(poison, i))
            snprintf(id, sizeof id, "poison-%06ld", i);
        else
            snprintf(id, sizeof id, "%s%06ld", prefix, i);
        int n = snprintf(rec, sizeof rec, "{\"id\":\"%s\",\"title\":\"%s\",\"text\":\"%s %s %s\"}", id,
                         sentences[i % NSENT], sentences[i % NSENT], sentences[(i / 3) % NSENT],
                         sentences[(i / 7) % NSENT]);
        if (nats_pub_send(p, rec, (size_t)n, id, err, sizeof err) < 0) {
            fprintf(stderr, "nats_pubtool: %s\n", err);
            nats_pub_close(p);
            return 1;
        }
    }
    return finish(p, (unsigned long long)count);
}

static int cmd_file(int argc, char **argv)
{
    if (argc != 5)
        return usage();
    FILE *f = fopen(argv[4], "r");
    if (!f) {
        perror(argv[4]);
        return 1;
    }
    char err[512];
    nats_pub *p;
    if (nats_pub_open(argv[2], argv[3], &p, err, sizeof err) < 0) {
        fprintf(stderr, "nats_pubtool: %s\n", err);
        fclose(f);
        return 1;
    }
    char *line = NULL;
    size_t cap = 0;
    ssize_t len;
    unsigned long long n = 0, lineno = 0;
    char id[64];
    while ((len = getline(&line, &cap, f)) > 0) {
        lineno++;
        while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
            len--;
        if (len == 0)
            continue;
        snprintf(id, sizeof id, "%s:%llu", argv[4], lineno);
        if (nats_pub_send(p, line, (size_t)len, id, err, sizeof err) < 0) {
            fprintf(stderr, "nats_pubtool: %s\n", err);
            free(line);
            fclose(f);
            nats_pub_close(p);
            return 1;
        }
        n++;
    }
    free(line);
    fclose(f);
    return finish(p, n);
}

/* Connects to url and opens its JetStream context; js_close() frees both (either may be NULL). */
static natsStatus js_open(const char *url, natsConnection **nc, jsCtx **js)
{
    natsStatus st = natsConnection_ConnectTo(nc, url);
    if (st == NATS_OK)
        st = natsConnection_JetStream(js, *nc, NULL);
    return st;
}

static void js_close(natsConnection *nc, jsCtx *js)
{
    jsCtx_Destroy(js);
    natsConnection_Destroy(nc);
}

static int cmd_consumer(int argc, char **argv)
{
    if (argc != 5)
        return usage();
    natsConnection *nc = NULL;
    jsCtx *js = NULL;
    jsConsumerInfo *ci = NULL;
    jsErrCode jerr = 0;
    natsStatus st = js_open(argv[2], &nc, &js);
    if (st == NATS_OK)
        st = js_GetConsumerInfo(&ci, js, argv[3], argv[4], NULL, &jerr);
    int rc = 1;
    if (st == NATS_OK) {
        printf("pending=%" PRIu64 " ack_pending=%" PRId64 " redelivered=%" PRId64 " delivered=%" PRIu64
               " acked_floor=%" PRIu64 "\n",
               ci->NumPending, ci->NumAckPending, ci->NumRedelivered, ci->Delivered.Stream, ci->AckFloor.Stream);
        rc = 0;
    } else {
        fprintf(stderr, "nats_pubtool: consumer %s/%s: %s (JetStream error %d)\n", argv[3], argv[4],
                natsStatus_GetText(st), (int)jerr);
    }
    jsConsumerInfo_Destroy(ci);
    js_close(nc, js);
    return rc;
}

static int cmd_stream(int argc, char **argv)
{
    if (argc != 5 && argc != 6)
        return usage();
    natsConnection *nc = NULL;
    jsCtx *js = NULL;
    jsStreamInfo *si = NULL;
    jsErrCode jerr = 0;
    natsStatus st = js_open(argv[2], &nc, &js);
    if (st == NATS_OK && js_GetStreamInfo(&si, js, argv[3], NULL, &jerr) != NATS_OK) {
        jsStreamConfig cfg;
        jsStreamConfig_Init(&cfg);
        const char *subj = argv[4];
        cfg.Name = argv[3];
        cfg.Subjects = &subj;
        cfg.SubjectsLen = 1;
        cfg.Storage = js_FileStorage;
        if (argc == 6) {
            cfg.MaxMsgs = strtoll(argv[5], NULL, 10);
            cfg.Discard = js_DiscardNew;
        }
        jerr = 0;
        st = js_AddStream(&si, js, &cfg, NULL, &jerr);
    }
    if (st != NATS_OK)
        fprintf(stderr, "nats_pubtool: stream %s: %s (JetStream error %d)\n", argv[3], natsStatus_GetText(st), (int)jerr);
    jsStreamInfo_Destroy(si);
    js_close(nc, js);
    return st == NATS_OK ? 0 : 1;
}

static int cmd_dump(int argc, char **argv)
{
    if (argc != 4)
        return usage();
    natsConnection *nc = NULL;
    jsCtx *js = NULL;
    jsStreamInfo *si = NULL;
    jsErrCode jerr = 0;
    natsStatus st = js_open(argv[2], &nc, &js);
    if (st == NATS_OK)
        st = js_GetStreamInfo(&si, js, argv[3], NULL, &jerr);
    for (uint64_t seq = si ? si->State.FirstSeq : 1; st == NATS_OK && si && seq <= si->State.LastSeq; seq++) {
        natsMsg *m = NULL;
        jerr = 0;
        natsStatus gs = js_GetMsg(&m, js, argv[3], seq, NULL, &jerr);
        if (gs == NATS_OK)
            printf("%.*s\n", natsMsg_GetDataLength(m), natsMsg_GetData(m));
        else if (gs != NATS_NOT_FOUND && jerr != JSNoMessageFoundErr) /* a deleted message leaves a gap */
            st = gs;
        natsMsg_Destroy(m);
    }
    if (st != NATS_OK)
        fprintf(stderr, "nats_pubtool: dump %s: %s (JetStream error %d)\n", argv[3], natsStatus_GetText(st), (int)jerr);
    jsStreamInfo_Destroy(si);
    js_close(nc, js);
    return st == NATS_OK ? 0 : 1;
}

int main(int argc, char **argv)
{
    if (argc < 2)
        return usage();
    int rc;
    if (strcmp(argv[1], "publish") == 0)
        rc = cmd_publish(argc, argv);
    else if (strcmp(argv[1], "file") == 0)
        rc = cmd_file(argc, argv);
    else if (strcmp(argv[1], "consumer") == 0)
        rc = cmd_consumer(argc, argv);
    else if (strcmp(argv[1], "stream") == 0)
        rc = cmd_stream(argc, argv);
    else if (strcmp(argv[1], "dump") == 0)
        rc = cmd_dump(argc, argv);
    else
        rc = usage();
    nats_CloseAndWait(2000);
    return rc;
}
