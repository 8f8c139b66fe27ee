/* nats_publish.h - a small JetStream publisher for the export plugin's
 * format = "nats" (libnats, nats.c 3.x).
 *
 * Messages are published asynchronously with a message id (the server drops
 * a second message with the same id inside the stream's duplicate window, so
 * a redelivered article published twice is stored once). nats_pub_sync()
 * waits until the server has acknowledged every message sent so far; only
 * then is an article durably exported. Publishes that time out are resent
 * (same id) by nats_pub_sync(); transient publish errors (no stream leader
 * yet, disconnected) are resent up to NATS_PUB_RETRIES times; other failures
 * are reported by the next nats_pub_sync().
 *
 * The subject must be captured by an existing JetStream stream (nahr does
 * not create output streams: an operator decides their retention).
 *
 * Errors: every function returns 0 on success, a negative NAHR_E* code on
 * failure with a one-line message in err (errlen bytes, may be NULL/0).
 * Threading: one nats_pub is used by one thread at a time (the export plugin
 * runs ordered, on the writer thread); libnats' own threads only touch the
 * error state, under a lock. */
#ifndef EXPORT_NATS_PUBLISH_H
#define EXPORT_NATS_PUBLISH_H

#include <stddef.h>

#define NATS_PUB_RETRIES 3          /* resends of one message on a transient error */
#define NATS_PUB_MAX_PENDING 4096   /* unacknowledged messages before send() waits */
#define NATS_PUB_SYNC_TIMEOUT_MS 10000

typedef struct nats_pub nats_pub;

/* Connects to url (comma-separated list for a cluster) and checks that a
 * stream captures subject. *out is owned by the caller: nats_pub_close(). */
int nats_pub_open(const char *url, const char *subject, nats_pub **out, char *err, size_t errlen);
/* Queues one message (data is copied). msg_id: de-duplication id, or NULL.
 * Blocks while NATS_PUB_MAX_PENDING messages wait for acknowledgement. */
int nats_pub_send(nats_pub *p, const char *data, size_t len, const char *msg_id, char *err, size_t errlen);
/* Waits until every message sent so far is acknowledged by the server.
 * Fails if any of them could not be stored (those must be sent again). */
int nats_pub_sync(nats_pub *p, char *err, size_t errlen);
/* Counters since open: messages sent, acknowledged, resent, failed. */
void nats_pub_stats(const nats_pub *p, unsigned long long *sent, unsigned long long *acked,
                    unsigned long long *resent, unsigned long long *failed);
/* Closes the connection. Messages not synced are dropped: sync first. NULL is fine. */
void nats_pub_close(nats_pub *p);

#endif
