#!/bin/sh
# Trains the shipped NER model from scratch, one command:
#   plugins/entities/ner/tools/train_model.sh BUILD_DIR [OUTPUT]
# BUILD_DIR holds nahr-train-ner (cmake --build BUILD_DIR). OUTPUT defaults
# to plugins/entities/ner/data/anercorp.nermodel. Shared data are read from
# $NAHR_SHARED_DIR (default: ../shared next to the source tree).
#
# Needs (training only, not at run time): the `fasttext` command (Debian
# package fasttext) and the Arabic spelling dictionary with libhunspell
# (hunspell-ar, libhunspell-dev: nahr-train-ner built with it), see
# ../packages.txt. Steps:
#  1. the unlabelled news (../shared/data/news/*.jsonl) tokenised and
#     normalised as the tagger sees it (nahr-train-ner --write-tokens);
#  2. fasttext skipgram word vectors over it (one thread: deterministic;
#     64 dimensions, 3 epochs, no character n-grams: ~7-8 min of CPU);
#  3. nahr-train-ner: the vectors clustered into nested word-cluster ids,
#     the entities plugin's lists as gazetteers, the jackknifed training-data
#     dictionary, the prediction history (ANERcorp cut into pseudo-articles
#     of 20 sentences), news evidence (the first 8 news files, 26.6 MB,
#     tagged by the jackknifed first-pass models: how often each word came
#     out as each type), the spelling-dictionary class of every Arabic word
#     of the same 8 news files (hunspell-ar: in / stem in / out), a mean of
#     3 perceptrons; dev = the last 10% of
#     train, then a refit on all of train for the best epoch count. The test
#     split is never read here.
# Set NAHR_NER_ACCURATE=1 to train the more accurate, slower model instead
#     (session 6: + --actx --topic, the article context of every mention and
#     a sports-article bit conjoined with place-like features; ANERcorp test
#     F1 0.748 against 0.741, +39 % tagging instructions; docs/ner.md). The
#     shipped model is the default one: it keeps the pipeline's speed target.
# Set NAHR_NER_LISTS=DIR to take the entities lists (gazetteers) from DIR
# instead of plugins/entities/data: the shipped model was trained with the
# lists of commit 4c90f3d (session 5's model, the session 4 lists); the lists
# have changed since, so the byte-identical rebuild needs those:
#   mkdir /tmp/l && git archive 4c90f3d plugins/entities/data | tar -x -C /tmp/l
#   NAHR_NER_LISTS=/tmp/l/plugins/entities/data train_model.sh build
# Set NAHR_NER_HUNSPELL=DIR to read ar.aff/ar.dic from DIR instead of
# /usr/share/hunspell.
# Set NAHR_NER_VECTORS=FILE.vec to reuse vectors from an earlier run (skips
# steps 1-2). Deterministic: the same inputs and seed give the same file,
# byte for byte. 5.3 minutes from scratch on a quiet machine (session 5: 318.6 s
# of CPU, 321 s wall, fasttext most of it), one core.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
src=$(cd "$here/../../../.." && pwd)
build=${1:?usage: train_model.sh BUILD_DIR [OUTPUT]}
out=${2:-$src/plugins/entities/ner/data/anercorp.nermodel}
shared=${NAHR_SHARED_DIR:-$src/../shared}
ent=${NAHR_NER_LISTS:-$src/plugins/entities/data}
hun=${NAHR_NER_HUNSPELL:-/usr/share/hunspell}

vec=${NAHR_NER_VECTORS:-}
tmp=
if [ -z "$vec" ]; then
    if ! command -v fasttext >/dev/null 2>&1; then
        echo "train_model.sh: needs the fasttext command (Debian: apt-get install fasttext)" >&2
        exit 1
    fi
    tmp=$(mktemp -d)
    trap 'rm -rf "$tmp"' EXIT
    set --
    for f in "$shared"/data/news/news-*.jsonl; do
        set -- "$@" --unlabelled "$f"
    done
    "$build/nahr-train-ner" "$@" --write-tokens "$tmp/news.tok"
    fasttext skipgram -input "$tmp/news.tok" -output "$tmp/news" -thread 1 -seed 0 \
        -dim 64 -epoch 3 -minCount 5 -maxn 0 -verbose 0
    vec=$tmp/news.vec
fi
# news evidence from a subset of the news (22 taggings of it: 10 folds and
# one model on all of train, for the dev run and again for the refit)
set --
for i in 000 001 002 003 004 005 006 007; do
    set -- "$@" --news "$shared/data/news/news-$i.jsonl"
done
accurate=
[ "${NAHR_NER_ACCURATE:-0}" = 1 ] && accurate="--actx --topic"
# shellcheck disable=SC2086 # $accurate: zero or two words
"$build/nahr-train-ner" $accurate --train "$shared/data/anercorp/train.txt" --dev-fraction 0.1 \
    --epochs 12 --seed 1 --refit --dict --min-count 2 --history 20 --ensemble 3 \
    --vectors "$vec" "$@" --news-min 3 --hunspell "$hun" --lex-min 1 \
    --gazetteer LOC:"$ent/loc.txt" --gazetteer PER:"$ent/per.txt" \
    --gazetteer PER:"$ent/first_names.txt" --gazetteer PER:"$ent/last_names.txt" \
    --gazetteer ORG:"$ent/org.txt" --gazetteer MISC:"$ent/misc.txt" \
    -o "$out"
