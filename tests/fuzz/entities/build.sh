#!/bin/sh
# Builds the libFuzzer harness fuzz_entities with clang (fuzzer + ASan + UBSan)
# with the entities plugin and its NER model compiled in (../fuzz_build.sh).
# The NER model's GCC vector builtin gets a clang spelling (clang_shuffle.h).
#   tests/fuzz/entities/build.sh [OUT_BINARY]        (default /tmp/fuzz_entities)
set -e
here=$(cd "$(dirname "$0")" && pwd)
ent=$(cd "$here/../../.." && pwd)/plugins/entities
. "$here/../fuzz_build.sh"
fuzz_build entities "${1:-/tmp/fuzz_entities}" \
    -I"$ent" -I"$ent/ner" -DENT_HAVE_NER=1 -include "$here/clang_shuffle.h" \
    "$ent"/entities.c "$ent"/lexicon.c "$ent"/rules.c "$ent"/tagger.c \
    "$ent"/ner/ner_model.c "$ent"/ner/ner_file.c "$ent"/ner/ner_aux.c "$ent"/ner/ner_hist.c "$ent"/ner/ner_actx.c
