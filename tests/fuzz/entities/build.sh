#!/bin/sh
# Builds the libFuzzer harness fuzz_entities with clang (fuzzer + ASan + UBSan).
# The core sources (and the plugin's) are compiled into it, instrumented, so
# the fuzzer sees their coverage; no build directory is needed. The NER
# model's GCC vector builtin gets a clang spelling (clang_shuffle.h).
#   tests/fuzz/entities/build.sh [OUT_BINARY]        (default /tmp/fuzz_entities)
set -e
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../../.." && pwd)
out=${1:-/tmp/fuzz_entities}
core=$root/core/src
ent=$root/plugins/entities
clang -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined -std=gnu11 -D_GNU_SOURCE \
  -DNAHR_LIBFUZZER -DNAHR_PLUGIN_INSTALL_FULLDIR='"/nonexistent"' -I"$root/core/include" -I"$core" \
  -I"$ent" -I"$ent/ner" -DENT_HAVE_NER=1 -include "$here/clang_shuffle.h" \
  "$here/fuzz_entities.c" "$ent"/entities.c "$ent"/lexicon.c "$ent"/rules.c "$ent"/tagger.c \
  "$ent"/ner/ner_model.c "$ent"/ner/ner_file.c "$ent"/ner/ner_aux.c "$ent"/ner/ner_hist.c "$ent"/ner/ner_actx.c \
  "$core"/common.c "$core"/doc.c "$core"/encoding.c "$core"/json.c "$core"/jsonparse.c "$core"/text.c \
  "$core"/token.c "$core"/config.c "$core"/loader.c "$core"/reader.c "$core"/pipeline.c "$core"/metrics.c \
  "$core"/source_nats_stub.c $(pkg-config --cflags --libs libconfig zlib libzstd) -lpthread -ldl -lm -o "$out"
echo "built $out"
