#!/bin/sh
# Trains the shipped NER model from scratch, one command:
#   plugins/entities/ner/tools/train_model.sh BUILD_DIR [OUTPUT]
# BUILD_DIR holds nahr-train-ner (cmake --build BUILD_DIR). OUTPUT defaults
# to plugins/entities/ner/data/anercorp.nermodel. Shared data are read from
# $NAHR_SHARED_DIR (default: ../shared next to the source tree).
#
# Deterministic: the same inputs and seed give the same file, byte for byte.
# Word clusters are learned from the unlabelled news corpus, the gazetteers
# are the lists of the entities plugin, the dictionary is built from the
# training annotations (jackknifed); dev = the last 10% of train, then a
# refit on all of train for the best epoch count. The test split is never
# read here. Takes about 1-2 minutes on 2 cores.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
src=$(cd "$here/../../../.." && pwd)
build=${1:?usage: train_model.sh BUILD_DIR [OUTPUT]}
out=${2:-$src/plugins/entities/ner/data/anercorp.nermodel}
shared=${NAHR_SHARED_DIR:-$src/../shared}
ent=$src/plugins/entities/data

set --
for f in "$shared"/data/news/news-*.jsonl; do
    set -- "$@" --unlabelled "$f"
done
exec "$build/nahr-train-ner" --train "$shared/data/anercorp/train.txt" --dev-fraction 0.1 \
    --epochs 12 --seed 1 --refit --dict --min-count 2 "$@" \
    --gazetteer LOC:"$ent/loc.txt" --gazetteer PER:"$ent/per.txt" \
    --gazetteer PER:"$ent/first_names.txt" --gazetteer PER:"$ent/last_names.txt" \
    --gazetteer ORG:"$ent/org.txt" --gazetteer MISC:"$ent/misc.txt" \
    -o "$out"
