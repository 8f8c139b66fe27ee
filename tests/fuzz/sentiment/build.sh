#!/bin/sh
# Builds the libFuzzer harness fuzz_sentiment with clang (fuzzer + ASan + UBSan)
# with the sentiment plugin compiled in (../fuzz_build.sh).
#   tests/fuzz/sentiment/build.sh [OUT_BINARY]        (default /tmp/fuzz_sentiment)
set -e
here=$(cd "$(dirname "$0")" && pwd)
sen=$(cd "$here/../../.." && pwd)/plugins/sentiment
. "$here/../fuzz_build.sh"
fuzz_build sentiment "${1:-/tmp/fuzz_sentiment}" \
    -I"$sen" "$sen"/sentiment.c "$sen"/lexicon.c "$sen"/model.c "$sen"/analyze.c
