#!/bin/sh
# Builds the libFuzzer harness fuzz_sentiment with clang (fuzzer + ASan + UBSan).
# The core sources (and the plugin's) are compiled into it, instrumented, so
# the fuzzer sees their coverage; no build directory is needed.
#   tests/fuzz/sentiment/build.sh [OUT_BINARY]        (default /tmp/fuzz_sentiment)
set -e
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../../.." && pwd)
out=${1:-/tmp/fuzz_sentiment}
core=$root/core/src
sen=$root/plugins/sentiment
clang -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined -std=gnu11 -D_GNU_SOURCE \
  -DNAHR_LIBFUZZER -DNAHR_PLUGIN_INSTALL_FULLDIR='"/nonexistent"' -I"$root/core/include" -I"$core" \
  -I"$sen" "$here/fuzz_sentiment.c" "$sen"/sentiment.c "$sen"/lexicon.c "$sen"/model.c "$sen"/analyze.c \
  "$core"/common.c "$core"/doc.c "$core"/encoding.c "$core"/json.c "$core"/jsonparse.c "$core"/text.c \
  "$core"/token.c "$core"/config.c "$core"/loader.c "$core"/reader.c "$core"/pipeline.c "$core"/metrics.c \
  "$core"/source_nats_stub.c $(pkg-config --cflags --libs libconfig zlib libzstd) -lpthread -ldl -lm -o "$out"
echo "built $out"
