#!/bin/sh
# Builds the libFuzzer harness fuzz_repeats with clang (fuzzer + ASan + UBSan):
# repeats_plugin.c and the clean library compiled in. See ../fuzz_build.sh.
#   tests/fuzz/repeats/build.sh [OUT_BINARY]        (default /tmp/fuzz_repeats)
set -e
. "$(dirname "$0")/../fuzz_build.sh"
cl=$(cd "$(dirname "$0")/../../../plugins/clean" && pwd)
fuzz_build repeats "${1:-/tmp/fuzz_repeats}" -I"$cl" -DCLEAN_NO_DESCRIPTOR "$cl/repeats_plugin.c" \
    "$cl/clean_unicode.c" "$cl/clean_phrases.c" "$cl/clean_date.c" "$cl/clean_lines.c" "$cl/clean_html.c" \
    $(pkg-config --cflags --libs libxml-2.0 icu-uc)
