#!/bin/sh
# Builds the libFuzzer harness with clang (fuzzer + ASan + UBSan), linked
# against a built libnahr.
#   plugins/clean/fuzz/build.sh BUILD_DIR [OUT_BINARY]
set -e
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../../.." && pwd)
build=$(cd "${1:?usage: build.sh BUILD_DIR [OUT]}" && pwd)
out=${2:-$build/fuzz_clean}
clang -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined -std=c11 -D_GNU_SOURCE \
  -I"$root/core/include" -I"$here/.." $(pkg-config --cflags libxml-2.0 icu-uc) -DCLEAN_NO_DESCRIPTOR \
  "$here/fuzz_clean.c" "$here"/../clean_unicode.c "$here"/../clean_phrases.c "$here"/../clean_date.c \
  "$here"/../clean_lines.c "$here"/../clean_html.c "$here"/../clean_plugin.c \
  -L"$build" -Wl,-rpath,"$build" -lnahr $(pkg-config --libs libxml-2.0 icu-uc) -o "$out"
echo "built $out"
