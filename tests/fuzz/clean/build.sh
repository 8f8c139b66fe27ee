#!/bin/sh
# Builds the libFuzzer harness with clang (fuzzer + ASan + UBSan), linked
# against a built libnahr.
#   tests/fuzz/clean/build.sh BUILD_DIR [OUT_BINARY]
set -e
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../../.." && pwd)
src=$root/plugins/clean
build=$(cd "${1:?usage: build.sh BUILD_DIR [OUT]}" && pwd)
out=${2:-$build/fuzz_clean}
clang -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined -std=c11 -D_GNU_SOURCE \
  -I"$root/core/include" -I"$src" $(pkg-config --cflags libxml-2.0 icu-uc) -DCLEAN_NO_DESCRIPTOR \
  "$here/fuzz_clean.c" "$src"/clean_unicode.c "$src"/clean_phrases.c "$src"/clean_date.c \
  "$src"/clean_lines.c "$src"/clean_html.c "$src"/clean_plugin.c \
  -L"$build" -Wl,-rpath,"$build" -lnahr $(pkg-config --libs libxml-2.0 icu-uc) -o "$out"
echo "built $out"
