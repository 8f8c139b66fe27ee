#!/bin/sh
# Builds the libFuzzer harness fuzz_tokenize with clang (fuzzer + ASan + UBSan);
# see ../fuzz_build.sh.
#   tests/fuzz/tokenize/build.sh [OUT_BINARY]        (default /tmp/fuzz_tokenize)
set -e
. "$(dirname "$0")/../fuzz_build.sh"
fuzz_build tokenize "${1:-/tmp/fuzz_tokenize}"
