#!/bin/sh
# Builds the libFuzzer harness fuzz_config with clang (fuzzer + ASan + UBSan);
# see ../fuzz_build.sh. It dlopen()s the plugins of an ordinary build
# (NAHR_BUILD_DIR, default build/), so build those first.
#   tests/fuzz/config/build.sh [OUT_BINARY]        (default /tmp/fuzz_config)
set -e
. "$(dirname "$0")/../fuzz_build.sh"
fuzz_build config "${1:-/tmp/fuzz_config}"
