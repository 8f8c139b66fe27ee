#!/bin/bash
# SDK test: install the build into a temporary prefix, build the out-of-tree
# example plugin with nothing but pkg-config and the installed headers, and run
# it through the installed nahr. Usage: run.sh BUILD_DIR SOURCE_DIR
set -eu
BUILD=$(realpath "$1")
SRC=$(realpath "$2")
T=$(mktemp -d /tmp/nahr-sdk-XXXXXX)
trap 'rm -rf "$T"' EXIT
cmake --install "$BUILD" --prefix "$T/prefix" >/dev/null
export PKG_CONFIG_PATH="$T/prefix/lib/pkgconfig"
mkdir "$T/plugins"
# C and C++ compilers both accept the public headers
echo '#include <nahr/nahr.h>
int main(void) { return nahr_version() == 0; }' >"$T/x.cpp"
c++ -Wall -Wextra -Werror -fsyntax-only $(pkg-config --cflags nahr) "$T/x.cpp"
cc -std=c99 -Wall -Wextra -Werror -pedantic -fsyntax-only $(pkg-config --cflags nahr) -x c "$T/x.cpp"
cc -Wall -Wextra -Werror -shared -fPIC -o "$T/plugins/wordcount.so" "$SRC/examples/plugins/wordcount/wordcount.c" \
    $(pkg-config --cflags --libs nahr)
cat >"$T/wc.cfg" <<CFG
pipeline: {
  plugin_path = "$T/plugins";
  stages = ( { plugin = "wordcount"; min_letters = 5; }, { plugin = "export"; path = "-"; } );
};
CFG
printf '{"id":"w1","text":"قالت الوزيرة إن الاتفاق مهم"}\n' >"$T/in.jsonl"
out=$("$T/prefix/bin/nahr" run -c "$T/wc.cfg" "$T/in.jsonl" 2>"$T/err")
echo "$out" | grep -q '"wordcount":{"words":5,"long_words":2}' || { echo "FAIL: $out $(cat "$T/err")"; exit 1; }
"$T/prefix/bin/nahr" plugins -c "$T/wc.cfg" | grep -q '^wordcount' || { echo "FAIL: plugins does not list wordcount"; exit 1; }
"$T/prefix/bin/nahr" plugins | grep -q '^export' || { echo "FAIL: installed nahr does not find its installed plugins"; exit 1; }
echo "sdk: installed headers, pkg-config, out-of-tree plugin: ok"
