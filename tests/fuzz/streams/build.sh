#!/bin/sh
# Builds the libFuzzer harness fuzz_streams with clang (fuzzer + ASan + UBSan);
# see ../fuzz_build.sh.
#   tests/fuzz/streams/build.sh [OUT_BINARY]        (default /tmp/fuzz_streams)
set -e
. "$(dirname "$0")/../fuzz_build.sh"
fuzz_build streams "${1:-/tmp/fuzz_streams}"
