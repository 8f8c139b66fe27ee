/* ner_lstm.h - an experimental BiLSTM tagger beside the perceptron (issue 6,
 * docs/ner-lstm.md): one bidirectional LSTM layer over, per token, the
 * fasttext vector of the normalised word (frozen; else of its shortest known
 * proclitic strip; else a learned unknown vector), the sum of learned
 * embeddings of hashed affixes (word, stem, prefixes, suffixes), and a few
 * bits (gazetteer marks, shape); a softmax over the 9 BIO tags per token
 * (or a linear-chain CRF layer, ner_nn_opts.crf), decoded by the BIO-constrained
 * Viterbi over the log-probabilities (CRF: the log tag marginals).
 * Training: cross-entropy, Adam, dropout, gradient-norm clipping,
 * mini-batches of sentences, one thread, deterministic for a seed. Tokens
 * are described by a perceptron model (ner_describe: its gazetteers). */
#ifndef NAHR_NER_LSTM_H
#define NAHR_NER_LSTM_H

#include <stdint.h>
#include <stdio.h>

#include "ner_internal.h"

#define NER_NN_NFEAT 10 /* hashed affix features per token */
#define NER_NN_NBITS 18 /* indicator inputs per token */
#define NER_NN_MAXWDIM 512

/* What the network reads of one token (ner_nn_tokens). */
typedef struct ner_nn_tok {
    int32_t vec;                /* row of the word vectors, -1: the learned unknown vector */
    uint32_t row[NER_NN_NFEAT]; /* rows of the affix embedding table */
    float bits[NER_NN_NBITS];
} ner_nn_tok;

typedef struct ner_nn_opts {
    unsigned hidden;    /* LSTM units per direction */
    unsigned cdim;      /* dimensions of the affix embeddings */
    unsigned rows_log2; /* rows of the affix table = 2^rows_log2 */
    unsigned epochs;
    unsigned batch; /* sentences per update */
    double lr;      /* Adam step */
    double dropout; /* on the input and on the LSTM outputs */
    double clip;    /* gradient-norm clipping (0: none) */
    double holdout; /* last fraction of the training sentences: early stopping */
    uint64_t seed;
    int no_word_rows; /* the affix table without the rows of the word and the stem */
    int crf;          /* a linear-chain CRF layer (learned transitions) instead of the softmax;
                       * ner_nn_logprobs then gives the log tag marginals */
    int verbose;
} ner_nn_opts;
void ner_nn_opts_default(ner_nn_opts *o);

/* Word vectors: nvec rows of wdim floats and the normalised-word hash
 * (ner_word_hash) of each. */
typedef struct ner_nn_vectors {
    size_t n, dim;
    float *v;
    uint32_t *key;
} ner_nn_vectors;
/* Reads a fasttext .vec file (header "count dim", then "word v1 .. vdim"). */
int ner_nn_vectors_load(const char *path, ner_nn_vectors *out, char *err, size_t errlen);
void ner_nn_vectors_free(ner_nn_vectors *v);

typedef struct ner_nn_lstm ner_nn_lstm;

/* A new network with random weights (o->seed); takes the vectors (v is
 * emptied). NULL when out of memory. */
ner_nn_lstm *ner_nn_lstm_new(const ner_nn_opts *o, ner_nn_vectors *v);
void ner_nn_lstm_free(ner_nn_lstm *L);
size_t ner_nn_lstm_nparams(const ner_nn_lstm *L);
/* The parameters (ner_nn_lstm_nparams floats, updated by training). */
float *ner_nn_lstm_params(ner_nn_lstm *L);
unsigned ner_nn_lstm_hidden(const ner_nn_lstm *L);

/* The inputs of n described tokens (ner_describe with the perceptron model
 * whose gazetteers the network was trained with). */
void ner_nn_tokens(const ner_nn_lstm *L, const ner_tokdesc *d, size_t n, ner_nn_tok *out);

/* Floats of scratch for a sentence of n tokens (ner_nn_logprobs, ner_nn_loss). */
size_t ner_nn_work_size(const ner_nn_lstm *L, size_t n);
/* Log-probabilities of the 9 tags (n x NER_NTAGS) of a sentence. */
void ner_nn_logprobs(const ner_nn_lstm *L, const ner_nn_tok *t, size_t n, float *work, float *lp);
/* The BIO-constrained Viterbi path over the log-probabilities. bp: n x 9
 * bytes of scratch. */
void ner_nn_decode(const float *lp, size_t n, uint8_t *bp, uint8_t *out);
/* Cross-entropy of gold (sum over the tokens, natural log; CRF: the negative
 * log-likelihood of the sentence, an I-X not continuing X read as B-X);
 * adds its gradient to grad (ner_nn_lstm_nparams floats) when grad is not NULL.
 * Dropout with rate p, masks drawn from *rng (p = 0: none, rng unused). */
double ner_nn_loss(const ner_nn_lstm *L, const ner_nn_tok *t, const uint8_t *gold, size_t n,
                   double p, uint64_t *rng, float *grad, float *work);

/* A corpus of token inputs. */
typedef struct ner_nn_data {
    const ner_nn_tok *tok;
    const uint8_t *gold;
    const size_t *sent; /* sentence k = tokens [sent[k], sent[k+1]) */
    size_t nsent;
} ner_nn_data;

/* Entity-level F1 of the network on d (decoded with ner_nn_decode); pred (NULL:
 * not wanted) gets the tags. */
double ner_nn_eval(const ner_nn_lstm *L, const ner_nn_data *d, uint8_t *pred);
/* Trains: the last o->holdout of the sentences are held out, and the
 * weights of the epoch with the best F1 there are kept (holdout 0: the last
 * epoch's). Progress to log (may be NULL). 0 or NAHR_ENOMEM. */
int ner_nn_train(ner_nn_lstm *L, const ner_nn_opts *o, const ner_nn_data *d, FILE *log);

/* Model files: "NAHRLSTM", version, dimensions, the vectors and the
 * parameters (little-endian floats). Errors name the file. */
int ner_nn_lstm_save(const ner_nn_lstm *L, const char *path, char *err, size_t errlen);
int ner_nn_lstm_load(const char *path, ner_nn_lstm **out, char *err, size_t errlen);

#endif
