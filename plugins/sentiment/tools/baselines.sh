#!/bin/sh
# Reproduces the sentiment figures of docs/sentiment.md with one command:
#   plugins/sentiment/tools/baselines.sh BUILD_DIR [SHARED_DIR]
# BUILD_DIR holds sentiment-train and sentiment-eval; SHARED_DIR defaults to
# ../shared next to the source tree. Needs fasttext (Debian: fasttext) for the
# fastText row; it is skipped with a message when absent. Work files go to a
# temporary directory that is removed at the end.
set -eu
BUILD=${1:?usage: baselines.sh BUILD_DIR [SHARED_DIR]}
SRC=$(cd "$(dirname "$0")/../../.." && pwd)
SHARED=${2:-$SRC/../shared}
A=$SHARED/data/sentiment/astd
NEWS=$SRC/plugins/sentiment/eval/news_own.tsv
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
row() { printf '%-58s %s\n' "$1" "$(grep -E '^(accuracy|macro-F1)' | tr '\n' ' ')"; }

echo "== ASTD 3-way (positive / negative / neutral = mixed+objective), train on train.tsv, report test.tsv"
"$BUILD/sentiment-train" -o "$T/astd.model" --bits 16 --word-ngrams 2 --char 2 4 -C 4 --balance "$A/train.tsv" 2>/dev/null
cmp -s "$T/astd.model" "$SRC/plugins/sentiment/data/astd.model" && echo "(retrained model is identical to the shipped data/astd.model)"
"$BUILD/sentiment-eval" --model "$T/astd.model" "$A/test.tsv" | row "plugin default (lexicon + model, w=0.4, band=0.2)"
"$BUILD/sentiment-eval" --model "$T/astd.model" --argmax "$A/test.tsv" | row "model alone, argmax (word 1-2 + char 2-4 grams)"
"$BUILD/sentiment-eval" --model none "$A/test.tsv" | row "lexicon alone"
"$BUILD/sentiment-train" -o "$T/bow.model" --bits 18 --word-ngrams 1 --char 0 0 -C 1 "$A/train.tsv" 2>/dev/null
"$BUILD/sentiment-eval" --model "$T/bow.model" --argmax "$A/test.tsv" | row "liblinear BoW baseline (unigrams, LR, C=1)"
"$BUILD/sentiment-train" -o "$T/bowb.model" --bits 18 --word-ngrams 1 --char 0 0 -C 1 --balance "$A/train.tsv" 2>/dev/null
"$BUILD/sentiment-eval" --model "$T/bowb.model" --argmax "$A/test.tsv" | row "liblinear BoW baseline, class-balanced"
if command -v fasttext >/dev/null 2>&1; then
  for s in train test; do
    awk -F'\t' '{l=$1; if (l=="mixed"||l=="objective") l="neutral"; print "__label__" l " " $2}' "$A/$s.tsv" > "$T/ft_$s.txt"
  done
  fasttext supervised -input "$T/ft_train.txt" -output "$T/ftd" -seed 1 -thread 1 -verbose 0
  fasttext predict "$T/ftd.bin" "$T/ft_test.txt" > "$T/ftd.pred"
  "$BUILD/sentiment-eval" --pred "$T/ftd.pred" "$A/test.tsv" | row "fastText supervised, defaults"
  fasttext supervised -input "$T/ft_train.txt" -output "$T/ftt" -seed 1 -thread 1 -verbose 0 -epoch 50 -lr 0.5 -wordNgrams 2
  fasttext predict "$T/ftt.bin" "$T/ft_test.txt" > "$T/ftt.pred"
  "$BUILD/sentiment-eval" --pred "$T/ftt.pred" "$A/test.tsv" | row "fastText supervised, -epoch 50 -lr 0.5 -wordNgrams 2"
else
  echo "fasttext not installed (apt-get install fasttext): fastText rows skipped"
fi
echo "== own news-style set ($NEWS)"
"$BUILD/sentiment-eval" --model "$T/astd.model" "$NEWS" | row "plugin default"
"$BUILD/sentiment-eval" --model none "$NEWS" | row "lexicon alone"
"$BUILD/sentiment-eval" --model "$T/astd.model" --argmax "$NEWS" | row "model alone, argmax"
echo "== second own set, written after the lexicons (news_holdout.tsv)"
"$BUILD/sentiment-eval" --model "$T/astd.model" "$SRC/plugins/sentiment/eval/news_holdout.tsv" | row "plugin default"
