/* nahr-train-ner - trains the NER model on a CoNLL file. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ner_internal.h"

static void usage(FILE *out)
{
    fprintf(out,
            "usage: nahr-train-ner --train FILE -o MODEL [options]\n"
            "  --train FILE         CoNLL training file (token<TAB>tag, blank line between sentences)\n"
            "  -o, --output MODEL   model file to write\n"
            "  --dev-fraction F     hold out the last fraction F of the sentences as dev (default 0.1)\n"
            "  --epochs N           training epochs (default 12); the best dev epoch is kept\n"
            "  --seed S             shuffling seed (default 1); same seed, same model\n"
            "  --refit              after the dev run, retrain on all sentences for the best epoch count\n"
            "  --gazetteer TYPE:FILE  gazetteer features (TYPE = PER LOC ORG MISC; repeatable)\n"
            "  --clusters FILE      word cluster features (lines: word<TAB>id id id)\n"
            "  --vectors FILE.vec   word cluster features from word vectors (fasttext skipgram\n"
            "                       text output), clustered here by hierarchical k-means\n"
            "  --unlabelled FILE    word cluster features learned from unlabelled text (.jsonl with\n"
            "                       a \"text\" key, or one article per line; repeatable)\n"
            "  --cluster-words N    words clustered from --unlabelled (default 50000)\n"
            "  --cluster-contexts N the N most frequent words serve as left/right contexts (default 300)\n"
            "  --vector-words N     cluster the N most frequent words of --vectors (default 100000)\n"
            "  --dict               training-data dictionary features (jackknifed, see docs/ner.md)\n"
            "  --min-count N        use only features seen at least N times in training (default 1)\n"
            "  --quotes             features of short quotations and the word before them\n"
            "  --ensemble K         average K perceptrons trained on different shuffles (1..8)\n"
            "  --learner NAME       perceptron (the default: averaged structured perceptron), crf\n"
            "                       (linear-chain CRF, averaged SGD on the L2-regularised log-\n"
            "                       likelihood: every model of the training; --ensemble K: K CRFs)\n"
            "                       or mix (the --ensemble perceptrons and one CRF, their scores\n"
            "                       brought to one spread, half and half); same model file\n"
            "  --crf-c2 X           CRF: L2 coefficient (default 1; objective: negative\n"
            "                       log-likelihood + X/2 |w|^2)\n"
            "  --crf-eta X          CRF: initial SGD step (default 0.1)\n"
            "  --crf-plain          CRF: keep the last weights, not their mean over the SGD steps\n"
            "  --cluster-more       more cluster features: words -2/+2, cluster bigram, x stem suffix\n"
            "  --history N          prediction-history features (how each word was tagged earlier in\n"
            "                       the article); the corpus has no article marks, so it is cut\n"
            "                       into pseudo-articles of N sentences (0 = off, the default)\n"
            "  --doc2               with --history: two-sided history, a second pass over the\n"
            "                       article gives each word the entity types it got in later\n"
            "                       sentences too (trained on jackknifed first-pass tags)\n"
            "  --actx               with --history: article-context features, per word and stem\n"
            "                       facts about all its mentions in the article (after a title, a\n"
            "                       place or organisation word, a preposition; before bin; word\n"
            "                       forms; repeated pairs; count), label-free (ner_actx.c)\n"
            "  --topic              with --history: article-topic features, a sports article (a few\n"
            "                       words of a sports vocabulary) conjoined with the gazetteer\n"
            "                       types, cluster, word, stem and stems -1/+1 of a token\n"
            "  --news FILE          news-evidence features: unlabelled news (.jsonl or one article\n"
            "                       per line; repeatable) tagged by first models (jackknifed over\n"
            "                       10 folds of train), how often each word came out as each type\n"
            "  --news-min N         only words seen at least N times in the --news text (default 3)\n"
            "  --news-low           lower bucket thresholds for --news (0.03 0.15 0.5; default 0.1 0.3 0.6)\n"
            "  --news-rounds N      tag the --news text N times (1..4, default 1): each round\n"
            "                       by fold models that have the previous round's evidence\n"
            "  --news-round-plain   the fold models of the later rounds without the history\n"
            "  --news-round-keep    keep the first round's tables; the later rounds' models only\n"
            "                       choose the --self-train sentences\n"
            "  --self-train N       with --news: add at most N news sentences that every\n"
            "                       first-pass model tagged alike (with an entity) to training\n"
            "  --self-train-new     only sentences with a word inside an entity unseen in train\n"
            "  --hunspell DIR       spelling-dictionary features: every Arabic word type of the\n"
            "                       --lex-text files (default: the --news files) looked up in\n"
            "                       DIR/ar.aff, DIR/ar.dic (hunspell-ar: /usr/share/hunspell) with\n"
            "                       libhunspell, its surface forms then their clitic-stripped stems;\n"
            "                       the model keeps one class per word (in / stem in / out)\n"
            "  --lex-text FILE      text for --hunspell (.jsonl or one article per line; repeatable)\n"
            "  --lex-min N          only words seen at least N times in that text (default 1)\n"
            "  --lex-spelling       with --hunspell: a letter-trigram score of each word's stem,\n"
            "                       learned from the stems of the dictionary-out and -in words\n"
            "  --tune-o             choose on dev a penalty on tag O (more recall)\n"
            "  --bilou              experiment: the dev-run perceptrons over BILOU tags, dev F1\n"
            "                       only (the model written keeps the first pass's weights)\n"
            "  --bilou-check        the same code over BIO tags (a check of --bilou)\n"
            "  --bilou-share        --bilou, each feature also with weights per BIO tag added\n"
            "                       to those of the BILOU tags they map to\n"
            "  --prune X            drop features whose averaged weights are all below X (default 0)\n"
            "  --write-tokens FILE  write the --unlabelled text tokenised and normalised as the\n"
            "                       tagger sees it (one article per line; input for fasttext),\n"
            "                       then exit (no --train or -o needed)\n"
            "  -q, --quiet          no per-epoch lines\n");
}

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
    enum { O_TRAIN = 256, O_DEV, O_EPOCHS, O_SEED, O_REFIT, O_GAZ, O_CL, O_PRUNE, O_VEC, O_VECN, O_DICT, O_MINC, O_UNL, O_CLW, O_TUNEO, O_CLC, O_WTOK, O_HIST, O_QUOTES, O_CLX, O_ENS, O_NEWS, O_NEWSMIN, O_NEWSLOW, O_DOC2, O_NEWSR, O_SELF, O_SELFNEW, O_NRPLAIN, O_NRKEEP, O_HUNSPELL, O_LEXTEXT, O_LEXMIN, O_LEXSP, O_LEARNER, O_CRFC2, O_CRFETA, O_CRFPLAIN, O_BILOU, O_BILOUCHK, O_BILOUSH, O_ACTX, O_TOPIC };
    static const struct option longopts[] = {
        {"train", required_argument, NULL, O_TRAIN},   {"output", required_argument, NULL, 'o'},
        {"dev-fraction", required_argument, NULL, O_DEV}, {"epochs", required_argument, NULL, O_EPOCHS},
        {"seed", required_argument, NULL, O_SEED},     {"refit", no_argument, NULL, O_REFIT},
        {"gazetteer", required_argument, NULL, O_GAZ}, {"clusters", required_argument, NULL, O_CL},
        {"prune", required_argument, NULL, O_PRUNE},   {"vectors", required_argument, NULL, O_VEC},
        {"vector-words", required_argument, NULL, O_VECN}, {"dict", no_argument, NULL, O_DICT},
        {"tune-o", no_argument, NULL, O_TUNEO},
        {"min-count", required_argument, NULL, O_MINC},
        {"unlabelled", required_argument, NULL, O_UNL}, {"cluster-words", required_argument, NULL, O_CLW},
        {"cluster-contexts", required_argument, NULL, O_CLC},
        {"write-tokens", required_argument, NULL, O_WTOK},
        {"history", required_argument, NULL, O_HIST},
        {"doc2", no_argument, NULL, O_DOC2},
        {"actx", no_argument, NULL, O_ACTX},
        {"topic", no_argument, NULL, O_TOPIC},
        {"quotes", no_argument, NULL, O_QUOTES},
        {"cluster-more", no_argument, NULL, O_CLX},
        {"ensemble", required_argument, NULL, O_ENS},   {"quiet", no_argument, NULL, 'q'},
        {"news", required_argument, NULL, O_NEWS},
        {"news-min", required_argument, NULL, O_NEWSMIN},
        {"news-low", no_argument, NULL, O_NEWSLOW},
        {"news-rounds", required_argument, NULL, O_NEWSR},
        {"self-train", required_argument, NULL, O_SELF},
        {"self-train-new", no_argument, NULL, O_SELFNEW},
        {"news-round-plain", no_argument, NULL, O_NRPLAIN},
        {"news-round-keep", no_argument, NULL, O_NRKEEP},
        {"hunspell", required_argument, NULL, O_HUNSPELL},
        {"lex-text", required_argument, NULL, O_LEXTEXT},
        {"lex-min", required_argument, NULL, O_LEXMIN},
        {"lex-spelling", no_argument, NULL, O_LEXSP},
        {"learner", required_argument, NULL, O_LEARNER},
        {"crf-c2", required_argument, NULL, O_CRFC2},
        {"crf-eta", required_argument, NULL, O_CRFETA},
        {"crf-plain", no_argument, NULL, O_CRFPLAIN},
        {"bilou", no_argument, NULL, O_BILOU},
        {"bilou-check", no_argument, NULL, O_BILOUCHK},
        {"bilou-share", no_argument, NULL, O_BILOUSH},
        {"help", no_argument, NULL, 'h'},              {NULL, 0, NULL, 0}};
    const char *train = NULL, *output = NULL, *clusters = NULL, *vectors = NULL, *wtok = NULL;
    size_t vector_words = 100000, cluster_words = 50000, cluster_contexts = 300, nunl = 0;
    size_t nnews = 0;
    const char *unl[256], *newsf[256], *lexf[256], *hunspell = NULL;
    size_t nlexf = 0;
    unsigned lex_min = 1;
    int lex_sp = 0;
    ner_news *news = NULL;
    const char *gaz[32];
    int ngaz = 0, quiet = 0, quotes = 0, clx = 0, actx = 0, topic = 0;
    ner_train_opts o = {.epochs = 12, .seed = 1, .dev_fraction = 0.1, .news_min = 3};
    char *end;
    int ch;
    while ((ch = getopt_long(argc, argv, "o:qh", longopts, NULL)) != -1) {
        switch (ch) {
        case O_TRAIN: train = optarg; break;
        case 'o': output = optarg; break;
        case O_DEV:
            o.dev_fraction = strtod(optarg, &end);
            if (*end || o.dev_fraction < 0 || o.dev_fraction >= 1) {
                fprintf(stderr, "nahr-train-ner: --dev-fraction must be in [0, 1)\n");
                return 2;
            }
            break;
        case O_EPOCHS:
            o.epochs = (int)strtol(optarg, &end, 10);
            if (*end || o.epochs < 1 || o.epochs > 1000) {
                fprintf(stderr, "nahr-train-ner: --epochs must be 1..1000\n");
                return 2;
            }
            break;
        case O_SEED:
            o.seed = strtoull(optarg, &end, 10);
            if (*end) {
                fprintf(stderr, "nahr-train-ner: --seed must be a number\n");
                return 2;
            }
            break;
        case O_REFIT: o.refit = 1; break;
        case O_DICT: o.dict = 1; break;
        case O_TUNEO: o.tune_o = 1; break;
        case O_MINC: {
            unsigned long v = strtoul(optarg, &end, 10);
            if (*end || v > 1000000) {
                fprintf(stderr, "nahr-train-ner: --min-count must be 0..1000000\n");
                return 2;
            }
            o.min_count = (unsigned)v;
            break;
        }
        case O_GAZ:
            if (ngaz == 32) {
                fprintf(stderr, "nahr-train-ner: at most 32 gazetteers\n");
                return 2;
            }
            gaz[ngaz++] = optarg;
            break;
        case O_CL: clusters = optarg; break;
        case O_WTOK: wtok = optarg; break;
        case O_QUOTES: quotes = 1; break;
        case O_CLX: clx = 1; break;
        case O_ENS:
            o.ensemble = (int)strtol(optarg, &end, 10);
            if (*end || o.ensemble < 1 || o.ensemble > NER_MAX_ENSEMBLE) {
                fprintf(stderr, "nahr-train-ner: --ensemble must be 1..%d\n", NER_MAX_ENSEMBLE);
                return 2;
            }
            break;
        case O_HIST: {
            unsigned long v = strtoul(optarg, &end, 10);
            if (*end || v > 10000) {
                fprintf(stderr, "nahr-train-ner: --history must be 0..10000\n");
                return 2;
            }
            o.hist_window = (unsigned)v;
            break;
        }
        case O_VEC: vectors = optarg; break;
        case O_NEWS:
            if (nnews == 256) {
                fprintf(stderr, "nahr-train-ner: at most 256 --news files\n");
                return 2;
            }
            newsf[nnews++] = optarg;
            break;
        case O_NEWSLOW: o.news_low = 1; break;
        case O_DOC2: o.doc2 = 1; break;
        case O_ACTX: actx = 1; break;
        case O_TOPIC: topic = 1; break;
        case O_SELFNEW: o.self_new = 1; break;
        case O_NRPLAIN: o.news_round_plain = 1; break;
        case O_NRKEEP: o.news_round_keep = 1; break;
        case O_HUNSPELL: hunspell = optarg; break;
        case O_LEXSP: lex_sp = 1; break;
        case O_LEXTEXT:
            if (nlexf == 256) {
                fprintf(stderr, "nahr-train-ner: at most 256 --lex-text files\n");
                return 2;
            }
            lexf[nlexf++] = optarg;
            break;
        case O_LEXMIN: {
            unsigned long v = strtoul(optarg, &end, 10);
            if (*end || v < 1 || v > 1000000) {
                fprintf(stderr, "nahr-train-ner: --lex-min must be 1..1000000\n");
                return 2;
            }
            lex_min = (unsigned)v;
            break;
        }
        case O_SELF: {
            unsigned long v = strtoul(optarg, &end, 10);
            if (*end || v > 1000000) {
                fprintf(stderr, "nahr-train-ner: --self-train must be 0..1000000\n");
                return 2;
            }
            o.self_train = v;
            break;
        }
        case O_NEWSR: {
            unsigned long v = strtoul(optarg, &end, 10);
            if (*end || v < 1 || v > 4) {
                fprintf(stderr, "nahr-train-ner: --news-rounds must be 1..4\n");
                return 2;
            }
            o.news_rounds = (int)v;
            break;
        }
        case O_NEWSMIN: {
            unsigned long v = strtoul(optarg, &end, 10);
            if (*end || v < 1 || v > 1000000) {
                fprintf(stderr, "nahr-train-ner: --news-min must be 1..1000000\n");
                return 2;
            }
            o.news_min = (unsigned)v;
            break;
        }
        case O_UNL:
            if (nunl == 256) {
                fprintf(stderr, "nahr-train-ner: at most 256 --unlabelled files\n");
                return 2;
            }
            unl[nunl++] = optarg;
            break;
        case O_CLC:
            cluster_contexts = strtoul(optarg, &end, 10);
            if (*end || cluster_contexts < 1 || cluster_contexts > 5000) {
                fprintf(stderr, "nahr-train-ner: --cluster-contexts must be 1..5000\n");
                return 2;
            }
            break;
        case O_CLW:
            cluster_words = strtoul(optarg, &end, 10);
            if (*end || cluster_words < 1 || cluster_words > 1000000) {
                fprintf(stderr, "nahr-train-ner: --cluster-words must be 1..1000000\n");
                return 2;
            }
            break;
        case O_VECN:
            vector_words = strtoul(optarg, &end, 10);
            if (*end || vector_words < 1 || vector_words > 5000000) {
                fprintf(stderr, "nahr-train-ner: --vector-words must be 1..5000000\n");
                return 2;
            }
            break;
        case O_LEARNER:
            if (strcmp(optarg, "perceptron") == 0) {
                o.learner = NER_LEARN_PERCEPTRON;
            } else if (strcmp(optarg, "crf") == 0) {
                o.learner = NER_LEARN_CRF;
            } else if (strcmp(optarg, "mix") == 0) {
                o.learner = NER_LEARN_MIX;
            } else {
                fprintf(stderr,
                        "nahr-train-ner: --learner must be perceptron, crf or mix, got '%s'\n",
                        optarg);
                return 2;
            }
            break;
        case O_CRFC2:
            o.crf_c2 = strtod(optarg, &end);
            if (*end || !(o.crf_c2 > 0 && o.crf_c2 <= 1e6)) {
                fprintf(stderr, "nahr-train-ner: --crf-c2 must be a number in (0, 1e6]\n");
                return 2;
            }
            break;
        case O_CRFPLAIN: o.crf_plain = 1; break;
        case O_BILOU: o.bilou = NER_BILOU_TAGS; break;
        case O_BILOUCHK: o.bilou = NER_BILOU_CHECK; break;
        case O_BILOUSH: o.bilou = NER_BILOU_SHARE; break;
        case O_CRFETA:
            o.crf_eta = strtod(optarg, &end);
            if (*end || !(o.crf_eta > 0 && o.crf_eta <= 100)) {
                fprintf(stderr, "nahr-train-ner: --crf-eta must be a number in (0, 100]\n");
                return 2;
            }
            break;
        case O_PRUNE:
            o.prune = strtod(optarg, &end);
            if (*end || o.prune < 0) {
                fprintf(stderr, "nahr-train-ner: --prune must be >= 0\n");
                return 2;
            }
            break;
        case 'q': quiet = 1; break;
        case 'h': usage(stdout); return 0;
        default: usage(stderr); return 2;
        }
    }
    if (wtok && optind == argc) {
        char werr[512];
        if (!nunl) {
            fprintf(stderr, "nahr-train-ner: --write-tokens needs --unlabelled files\n");
            return 2;
        }
        FILE *f = fopen(wtok, "w");
        if (!f) {
            fprintf(stderr, "nahr-train-ner: cannot write %s\n", wtok);
            return 1;
        }
        long wrc = ner_unlabelled_write(unl, nunl, f, werr, sizeof werr);
        if (fclose(f) != 0 && wrc == 0) {
            snprintf(werr, sizeof werr, "cannot write %s", wtok);
            wrc = NAHR_EIO;
        }
        if (wrc != 0) {
            fprintf(stderr, "nahr-train-ner: %s\n", werr);
            return 1;
        }
        return 0;
    }
    if (o.doc2 && !o.hist_window) {
        fprintf(stderr, "nahr-train-ner: --doc2 needs --history N\n");
        return 2;
    }
    if (o.bilou && (o.refit || o.tune_o || o.self_train || o.learner || o.doc2 ||
                    o.dev_fraction <= 0)) {
        fprintf(stderr, "nahr-train-ner: --bilou, --bilou-share, --bilou-check score dev only: "
                        "not with --refit, --tune-o, --self-train, --learner crf|mix, --doc2 or "
                        "--dev-fraction 0\n");
        return 2;
    }
    if ((actx || topic) && !o.hist_window) {
        fprintf(stderr, "nahr-train-ner: --actx and --topic need --history N (the pseudo-article "
                        "length)\n");
        return 2;
    }
    if (!train || !output || optind != argc) {
        usage(stderr);
        return 2;
    }
    if ((o.news_rounds > 1 || o.self_train) && nnews == 0) {
        fprintf(stderr, "nahr-train-ner: --news-rounds and --self-train need --news\n");
        return 2;
    }
    if (hunspell && !nlexf && !nnews) {
        fprintf(stderr, "nahr-train-ner: --hunspell needs --lex-text or --news files\n");
        return 2;
    }
    if ((nlexf || lex_sp) && !hunspell) {
        fprintf(stderr, "nahr-train-ner: --lex-text and --lex-spelling need --hunspell DIR\n");
        return 2;
    }
    double t0 = now();
    char err[512];
    ner_corpus c;
    if (ner_conll_read(train, &c, err, sizeof err) != 0) {
        fprintf(stderr, "nahr-train-ner: %s\n", err);
        return 1;
    }
    ner_model *m = ner_model_new();
    int rc = 1;
    if (!m)
        goto done;
    for (int i = 0; i < ngaz; i++) {
        const char *colon = strchr(gaz[i], ':');
        int type = 0;
        if (colon) {
            char tag[16];
            snprintf(tag, sizeof tag, "B-%.*s", (int)(colon - gaz[i] > 8 ? 8 : colon - gaz[i]),
                     gaz[i]);
            int t = ner_tag_parse(tag, strlen(tag));
            type = t > 0 ? (t + 1) / 2 : 0;
        }
        if (!type) {
            fprintf(stderr, "nahr-train-ner: --gazetteer wants TYPE:FILE with TYPE one of PER LOC ORG MISC, got '%s'\n",
                    gaz[i]);
            goto done;
        }
        long n = ner_gaz_load(m, colon + 1, (unsigned)type, err, sizeof err);
        if (n < 0) {
            fprintf(stderr, "nahr-train-ner: %s\n", err);
            goto done;
        }
        if (!quiet)
            fprintf(stderr, "gazetteer %s: %ld entries\n", gaz[i], n);
        m->flags |= NER_F_GAZ;
    }
    if (hunspell) {
        double tv = now();
        long n = ner_lex_build_hunspell(m, hunspell, nlexf ? lexf : newsf, nlexf ? nlexf : nnews,
                                        lex_min, err, sizeof err);
        if (n < 0) {
            fprintf(stderr, "nahr-train-ner: %s\n", err);
            goto done;
        }
        if (!quiet) {
            size_t cnt[4] = {0};
            for (size_t i = 0; m->lex.mask && i <= m->lex.mask; i++)
                if (m->lex.keys[i] && m->lex.vals[i] < NER_LEX_TRI_BASE)
                    cnt[m->lex.vals[i] & 3u]++;
            fprintf(stderr,
                    "dictionary classes: %ld words (in %zu, stem in %zu, out %zu) in %.1fs\n", n,
                    cnt[NER_LEX_IN], cnt[NER_LEX_STEMIN], cnt[NER_LEX_OUT], now() - tv);
        }
        m->flags |= NER_F_LEX;
        if (lex_sp) {
            long nt = ner_lex_trigrams(m, nlexf ? lexf : newsf, nlexf ? nlexf : nnews, err,
                                       sizeof err);
            if (nt < 0) {
                fprintf(stderr, "nahr-train-ner: %s\n", err);
                goto done;
            }
            if (!quiet)
                fprintf(stderr, "dictionary trigram scores: %ld trigrams\n", nt);
            m->flags |= NER_F_LEXSP;
        }
    }
    if (!!clusters + !!vectors + !!nunl > 1) {
        fprintf(stderr, "nahr-train-ner: give one of --clusters, --vectors, --unlabelled\n");
        goto done;
    }
    if (nunl) {
        double tv = now();
        long n = ner_clusters_from_text(m, unl, nunl, cluster_words, cluster_contexts, o.seed, err,
                                        sizeof err);
        if (n < 0) {
            fprintf(stderr, "nahr-train-ner: %s\n", err);
            goto done;
        }
        if (!quiet)
            fprintf(stderr, "clustered %ld words of %zu unlabelled files in %.1fs\n", n, nunl,
                    now() - tv);
        m->flags |= NER_F_CLUSTERS;
    }
    if (vectors) {
        double tv = now();
        long n = ner_clusters_from_vectors(m, vectors, vector_words, o.seed, err, sizeof err);
        if (n < 0) {
            fprintf(stderr, "nahr-train-ner: %s\n", err);
            goto done;
        }
        if (!quiet)
            fprintf(stderr, "clustered %ld words of %s in %.1fs\n", n, vectors, now() - tv);
        m->flags |= NER_F_CLUSTERS;
    }
    if (clusters) {
        long n = ner_clusters_load(m, clusters, err, sizeof err);
        if (n < 0) {
            fprintf(stderr, "nahr-train-ner: %s\n", err);
            goto done;
        }
        if (!quiet)
            fprintf(stderr, "clusters %s: %ld words\n", clusters, n);
        m->flags |= NER_F_CLUSTERS;
    }
    if (quotes)
        m->flags |= NER_F_QUOTE;
    if (clx)
        m->flags |= NER_F_CLX;
    if (actx || topic) { /* the run-time pass over pseudo-articles of --history sentences */
        m->flags |= (actx ? NER_F_ACTX : 0u) | (topic ? NER_F_TOPIC : 0u);
        m->hist_window = o.hist_window;
    }
    if (nnews) {
        double tv = now();
        if (ner_news_load(newsf, nnews, &news, err, sizeof err) != 0) {
            fprintf(stderr, "nahr-train-ner: %s\n", err);
            goto done;
        }
        if (!quiet)
            fprintf(stderr, "news evidence: read %zu files (%.1f MB) in %.1fs\n", nnews,
                    ner_news_bytes(news) / 1e6, now() - tv);
        o.news = news;
    }
    if (ner_train(&c, &o, m, quiet ? NULL : stdout) != 0) {
        fprintf(stderr, "nahr-train-ner: training failed (out of memory or empty corpus)\n");
        goto done;
    }
    if (ner_model_save(m, output, err, sizeof err) != 0) {
        fprintf(stderr, "nahr-train-ner: %s\n", err);
        goto done;
    }
    printf("wrote %s: %zu features, %.1fs\n", output, m->nfeat, now() - t0);
    rc = 0;
done:
    ner_news_free(news);
    ner_model_free(m);
    ner_corpus_free(&c);
    return rc;
}
