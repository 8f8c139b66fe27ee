#!/bin/sh
# Builds the libFuzzer harness fuzz_reader with clang (fuzzer + ASan + UBSan);
# see ../fuzz_build.sh.
#   tests/fuzz/reader/build.sh [OUT_BINARY]        (default /tmp/fuzz_reader)
set -e
. "$(dirname "$0")/../fuzz_build.sh"
fuzz_build reader "${1:-/tmp/fuzz_reader}"
