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
# the generator: a skeleton that builds with find_package(nahr), passes its own test and runs as generated
(cd "$T" && "$T/prefix/bin/nahr" new-plugin skel 2>/dev/null)
"$T/prefix/bin/nahr" new-plugin "Bad-Name" 2>/dev/null && { echo "FAIL: new-plugin accepted a bad name"; exit 1; }
# a sanitizer build's libnahr needs programs linked against it to be sanitized too
san=""
nm -D "$T/prefix/lib/libnahr.so" 2>/dev/null | grep -q __asan_init && san="-fsanitize=address,undefined"
cmake -S "$T/skel" -B "$T/skel/build" -DCMAKE_PREFIX_PATH="$T/prefix" -DCMAKE_C_FLAGS="-Wall -Wextra -Werror $san" \
    -DCMAKE_EXE_LINKER_FLAGS="$san" >/dev/null
cmake --build "$T/skel/build" >/dev/null
(cd "$T/skel/build" && ctest --output-on-failure >/dev/null) || { echo "FAIL: generated plugin's own test"; exit 1; }
out=$(cd "$T/skel" && printf '{"id":"s","text":"وصل الوفد. بدأت المحادثات"}\n' | "$T/prefix/bin/nahr" run -c skel.cfg - 2>"$T/err")
echo "$out" | grep -q '"skel":{"sentences":2,"arabic_share":1}' || { echo "FAIL: generated plugin: $out $(cat "$T/err")"; exit 1; }
# a plugin written in C++
c++ -std=c++11 -Wall -Wextra -Werror -shared -fPIC -o "$T/plugins/cppwords.so" "$SRC/tests/sdk/cpp_plugin.cpp" \
    $(pkg-config --cflags --libs nahr) $san
cat >"$T/cpp.cfg" <<CFG
pipeline: { plugin_path = "$T/plugins"; stages = ( { plugin = "cppwords"; }, { plugin = "export"; path = "-"; } ); };
CFG
out=$(printf '{"id":"c","text":"ثلاث كلمات هنا"}\n' | "$T/prefix/bin/nahr" run -c "$T/cpp.cfg" - 2>"$T/err")
echo "$out" | grep -q '"cpp_words":3' || { echo "FAIL: C++ plugin: $out $(cat "$T/err")"; exit 1; }

# the keywords example plugin: built with find_package against the installed SDK, run on examples/
cmake -S "$SRC/examples/plugins/keywords" -B "$T/kw" -DCMAKE_PREFIX_PATH="$T/prefix" -DCMAKE_C_FLAGS="-Wall -Wextra -Werror" >/dev/null
cmake --build "$T/kw" >/dev/null
cat >"$T/kw.cfg" <<CFG
pipeline: { plugin_path = "$T/kw"; stages = ( { plugin = "keywords"; top = 3; }, { plugin = "export"; path = "-"; } ); };
CFG
"$T/prefix/bin/nahr" run -c "$T/kw.cfg" "$SRC/examples" >"$T/kw.jsonl" 2>"$T/err" || { echo "FAIL: keywords run: $(cat "$T/err")"; exit 1; }
python3 - "$T/kw.jsonl" <<'PY' || exit 1
import json, sys
recs = [json.loads(l) for l in open(sys.argv[1], encoding="utf-8")]
assert len(recs) >= 4, len(recs)
for r in recs:
    kws = r.get("keywords")
    assert kws and len(kws) == 3 and all(k["term"] and k["score"] > 0 for k in kws), r["id"]
    assert [k["score"] for k in kws] == sorted((k["score"] for k in kws), reverse=True), kws
dam = next(r for r in recs if r["id"] == "001_dam_river")
assert dam["keywords"][0]["term"] == "مياه", dam["keywords"]
PY
# ... and its field reaches the SQLite and CSV exports with no exporter change
cat >"$T/kw2.cfg" <<CFG
pipeline: { plugin_path = "$T/kw"; stages = ( { plugin = "keywords"; top = 3; },
  { plugin = "export"; name = "db"; format = "sqlite"; path = "$T/kw.db"; },
  { plugin = "export"; name = "sheet"; format = "csv"; path = "$T/kw.csv"; fields = [ "keywords" ]; } ); };
CFG
"$T/prefix/bin/nahr" run -c "$T/kw2.cfg" "$SRC/examples" >/dev/null 2>"$T/err" || { echo "FAIL: keywords to sqlite/csv: $(cat "$T/err")"; exit 1; }
python3 - "$T/kw.db" "$T/kw.csv" <<'PY' || exit 1
import csv, json, sqlite3, sys
db = sqlite3.connect(sys.argv[1])
cols = [r[1] for r in db.execute("pragma table_info(fields)")] if db.execute(
    "select count(*) from sqlite_master where name='fields'").fetchone()[0] else []
dump = " ".join(str(r) for t in ("articles", "fields") for r in db.execute("select * from " + t)) if cols else \
    " ".join(str(r) for r in db.execute("select * from articles"))
assert "مياه" in dump, "keywords not in the SQLite export"
rows = list(csv.DictReader(open(sys.argv[2], encoding="utf-8-sig")))
assert rows and "keywords" in rows[0], list(rows[0].keys()) if rows else "no rows"
dam = next(r for r in rows if r["id"] == "001_dam_river")
assert json.loads(dam["keywords"])[0]["term"] == "مياه", dam["keywords"]
PY
echo "sdk: installed headers, pkg-config, find_package, generator, out-of-tree plugins: ok"
