#!/bin/sh
# Builds the libFuzzer harness fuzz_export with clang (fuzzer + ASan + UBSan):
# the export plugin's record, JSONL and CSV sources compiled in; jansson
# checks the JSON. See ../fuzz_build.sh.
#   tests/fuzz/export/build.sh [OUT_BINARY]        (default /tmp/fuzz_export)
set -e
. "$(dirname "$0")/../fuzz_build.sh"
ex=$(cd "$(dirname "$0")/../../../plugins/export" && pwd)
fuzz_build export "${1:-/tmp/fuzz_export}" -I"$ex" "$ex/record.c" "$ex/jsonl.c" "$ex/csv.c" \
    $(pkg-config --cflags --libs jansson)
