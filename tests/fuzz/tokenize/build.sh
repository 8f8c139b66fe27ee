#!/bin/sh
# Builds the libFuzzer harness fuzz_tokenize with clang (fuzzer + ASan + UBSan).
# The core sources (and the plugin's) are compiled into it, instrumented, so
# the fuzzer sees their coverage; no build directory is needed.
#   tests/fuzz/tokenize/build.sh [OUT_BINARY]        (default /tmp/fuzz_tokenize)
set -e
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../../.." && pwd)
out=${1:-/tmp/fuzz_tokenize}
core=$root/core/src
clang -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined -std=gnu11 -D_GNU_SOURCE \
  -DNAHR_LIBFUZZER -DNAHR_PLUGIN_INSTALL_FULLDIR='"/nonexistent"' -I"$root/core/include" -I"$core"   \
  "$here/fuzz_tokenize.c"  \
  "$core"/common.c "$core"/doc.c "$core"/encoding.c "$core"/json.c "$core"/jsonparse.c "$core"/text.c \
  "$core"/token.c "$core"/config.c "$core"/loader.c "$core"/reader.c "$core"/pipeline.c "$core"/metrics.c \
  "$core"/source_nats_stub.c $(pkg-config --cflags --libs libconfig zlib libzstd) -lpthread -ldl -lm -o "$out"
echo "built $out"
