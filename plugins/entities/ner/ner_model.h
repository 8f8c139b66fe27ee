/* ner_model.h - the statistical Arabic NER tagger of the entities plugin.
 *
 * An averaged structured perceptron over tokens with first-order Viterbi
 * decoding (see docs/ner.md). The model is trained by nahr-train-ner and
 * stored as a compact versioned binary file; it is read-only after
 * ner_model_load() and may be shared by any number of threads, each calling
 * ner_model_tag() with its own scratch buffer.
 */
#ifndef NAHR_NER_MODEL_H
#define NAHR_NER_MODEL_H

#include <nahr/nahr.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct ner_model ner_model;

/* Output tags (tags[i] of ner_model_tag). */
enum {
    NER_O = 0,
    NER_B_PER = 1, NER_I_PER = 2,
    NER_B_LOC = 3, NER_I_LOC = 4,
    NER_B_ORG = 5, NER_I_ORG = 6,
    NER_B_MISC = 7, NER_I_MISC = 8,
    NER_NTAGS = 9
};

/* Loads a model file. Returns 0 and sets *out (free with ner_model_free), or
 * a negative NAHR_E* code with a one-line message in err (errlen bytes,
 * may be 0): missing file, wrong magic, unsupported version, truncated file
 * or checksum mismatch. */
int ner_model_load(const char *path, ner_model **out, char *err, size_t errlen);
void ner_model_free(ner_model *m);

/* Bytes of per-call scratch ner_model_tag() needs for ntok tokens. Bounded:
 * at most ~215 KB whatever ntok (decoding works sentence by sentence, and a
 * run of more than 1024 tokens without a sentence end is cut there; the
 * scratch also holds a small token cache and, for a model with prediction
 * history, the article's history table). A model with two-sided history
 * (second pass) needs 72 KB and 40 bytes per token more, for calls of up
 * to 16384 tokens (longer ones get the first pass only, in ~215 KB). */
size_t ner_model_scratch_size(const ner_model *m, size_t ntok);

/* Tags toks[0..ntok) (byte spans into text, as nahr_tokenize() gives them).
 * tags[i] gets the tag of toks[i]: 0=O 1=B-PER 2=I-PER 3=B-LOC 4=I-LOC
 * 5=B-ORG 6=I-ORG 7=B-MISC 8=I-MISC. The output is always a valid BIO
 * sequence. A token flagged NAHR_TOK_SENT_END ends a sentence: context
 * features and decoding do not cross it; a model with prediction history
 * remembers, across the sentences of one call (one article), how each word
 * was tagged (a two-sided one then decodes again the sentences whose words
 * got an entity type only later in the call). scratch must hold
 * ner_model_scratch_size(m, ntok) bytes (any alignment). Thread-safe for
 * distinct scratch buffers. Returns 0, or NAHR_EINVAL on bad arguments. */
int ner_model_tag(const ner_model *m, const char *text, const nahr_token *toks, size_t ntok,
                  void *scratch, uint8_t *tags);

/* A one-line description of a loaded model for logs: its size and which
 * feature groups are on, e.g. "70874 features; gazetteers (...), training
 * dictionary, word clusters (75494 words), prediction history (20),
 * news evidence (99916 words)". Writes at most len bytes (always
 * NUL-terminated when len > 0); returns the length it needed. */
size_t ner_model_describe(const ner_model *m, char *buf, size_t len);

/* Tag names: "O", "B-PER", ... ; NULL when t >= NER_NTAGS. */
const char *ner_tag_name(unsigned t);
/* Entity type of a tag ("PER", "LOC", "ORG", "MISC"), NULL for O. */
const char *ner_tag_type(unsigned t);

#ifdef __cplusplus
}
#endif
#endif
