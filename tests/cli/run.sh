#!/bin/bash
# CLI-level tests: run the nahr binary on fixture inputs and check stdout,
# stderr, exit codes and the dead-letter file. Usage: run.sh path/to/nahr
set -u
NAHR=$(realpath "${1:-build/nahr}")
BUILD=$(dirname "$NAHR")
SRC=${NAHR_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
SHARED=${NAHR_SHARED_DIR:-$SRC/../shared}
T=$(mktemp -d /tmp/nahr-cli-XXXXXX)
trap 'rm -rf "$T"' EXIT
cd "$T"
pass=0 fail=0
ok() { pass=$((pass + 1)); echo "ok   - $1"; }
bad() { fail=$((fail + 1)); echo "FAIL - $1"; [ -n "${2:-}" ] && echo "       $2"; }
check() { if eval "$2"; then ok "$1"; else bad "$1" "${3:-}"; fi; }

# a pipeline with the span-adding test plugin before the exporter
cat >tp.cfg <<CFG
pipeline: {
  workers = 2;
  dead_letter = "dl.jsonl";
  plugin_path = "$BUILD/testplugins";
  stages = (
    { plugin = "tp_good"; word = "nahr"; },
    { plugin = "export"; path = "-"; }
  );
};
CFG
sed 's/workers = 2;/workers = 2; on_error = "fail";/' tp.cfg >fail.cfg

# --- basic commands
"$NAHR" --version >out 2>&1; check "--version exits 0 and names the ABI" '[ $? = 0 ] && grep -q "plugin ABI 1" out'
"$NAHR" --help >out 2>&1; check "--help exits 0" '[ $? = 0 ] && grep -q "nahr run" out'
"$NAHR" run --help >out 2>&1; check "run --help exits 0" '[ $? = 0 ] && grep -q -- "--workers" out'
"$NAHR" bogus >out 2>&1; check "unknown command exits 2" '[ $? = 2 ]'
"$NAHR" run >out 2>&1; check "run without -c exits 2" '[ $? = 2 ] && grep -q "missing -c" out'
"$NAHR" run -c tp.cfg /nonexistent.txt >out 2>&1; check "missing input exits 2" '[ $? = 2 ] && grep -q "does not exist" out'
"$NAHR" run -c tp.cfg -w many - </dev/null >out 2>&1; check "bad --workers value exits 2, names it" '[ $? = 2 ] && grep -q "not .many." out'
"$NAHR" run -c tp.cfg --until-idle -1 - </dev/null >out 2>&1; check "bad --until-idle value exits 2" '[ $? = 2 ] && grep -q "until-idle" out'
"$NAHR" plugins --json >out 2>/dev/null; check "plugins --json is valid JSON listing export" 'python3 -c "import json;assert any(p[\"name\"]==\"export\" for p in json.load(open(\"out\")))"'
"$NAHR" plugins -v >out 2>&1; check "plugins -v lists export options" 'grep -q "^export" out && grep -q "batch_bytes" out'
"$NAHR" check -c "$SRC/configs/default.cfg" >out 2>&1; check "check default.cfg exits 0" '[ $? = 0 ]' "$(cat out)"

# --- config errors: exit 2, file:line and the key
sed 's/word = "nahr";/word = "nahr"; wrod = 1;/' tp.cfg >typo.cfg
"$NAHR" check -c typo.cfg >out 2>err; rc=$?
check "unknown option: exit 2, line, suggestion" '[ $rc = 2 ] && grep -q "typo.cfg:6: stage 1 (tp_good): unknown option .wrod. (did you mean .word.?)" err' "$(cat err)"
"$NAHR" run -c typo.cfg - </dev/null >out 2>err; check "run with a bad config exits 2 and reads nothing" '[ $? = 2 ] && [ ! -s out ]'
# @include: libconfig opens the files itself, so nahr vets each first (a FIFO blocked it, a directory made it exit)
mkdir -p inc && printf 'workers = 1;\n' >inc/one.cfg && mkfifo inc/fifo
for what in fifo:FIFO dir:directory missing:relative; do
    case ${what%%:*} in fifo) p=inc/fifo ;; dir) p=inc ;; missing) p=inc/none.cfg ;; esac
    printf 'pipeline: {\n  /* @include "inc/fifo" */\n  @include "%s"\n  stages = ( { plugin = "export"; } );\n};\n' "$p" >inc.cfg
    timeout 20 "$NAHR" check -c inc.cfg >out 2>err; rc=$?
    check "@include of a ${what%%:*}: exit 2, FILE:LINE and why" "[ \$rc = 2 ] && grep -q '^inc.cfg:3: @include \"$p\": .*${what#*:}' err && ! grep -q flex err" "rc=$rc $(cat err)"
done
sed 's#inc/none.cfg#inc/one.cfg#' inc.cfg >inc_ok.cfg
"$NAHR" check -c inc_ok.cfg >out 2>err; rc=$?
check "@include of a file (commented-out FIFO include ignored): 1 worker" '[ $rc = 0 ] && cat out err | grep -q "1 worker(s)"' "$(cat out err)"
"$NAHR" check -c <(cat inc_ok.cfg) >out 2>err; rc=$?
check "a config given as a pipe (-c <(...)) is read" '[ $rc = 0 ] && cat out err | grep -q "1 worker(s)"' "$(cat out err)"
printf '\nworkers = "two";\nstages = ( { plugin = "clean"; },\n  { plugin = "export"; pth = "-"; } );\n' >inc/body.cfg
printf 'pipeline: {\n  @include "inc/body.cfg"\n};\n' >inc_body.cfg
"$NAHR" check -c inc_body.cfg >out 2>err; rc=$?
check "errors in an included file name that file and its lines" \
  '[ $rc = 2 ] && grep -q "^inc/body.cfg:2: pipeline: .workers. must be an integer" err && grep -q "^inc/body.cfg:4: stage 2 (export): unknown option .pth." err' "$(cat err)"
printf '@include "loop.cfg"\n' >loop.cfg
"$NAHR" check -c loop.cfg >out 2>err; rc=$?
check "an @include loop: exit 2, nested too deep" '[ $rc = 2 ] && grep -q "loop.cfg:1: @include \"loop.cfg\": includes nested more than 10 deep" err' "$(cat err)"
sed 's/{ plugin = "entities"; }/{ plugin = "entities"; model_veto_org = -1.0; }/' "$SRC/configs/default.cfg" >veto.cfg
"$NAHR" check -c veto.cfg >out 2>err; rc=$?
check "entities model_veto_org below 0: exit 2, file:line and the key" \
  '[ $rc = 2 ] && grep -q "veto.cfg:[0-9]*: .*option .model_veto_org.: must be in \[0, inf\]" err' "$(cat err)"

# --- the default pipeline (with the NER model): an amount with its currency is MONEY, not the model's MISC
printf '%s\n' '{"id":"m","text":"خصصت الحكومة 1.5 مليار دولار للمشروع الجديد."}' >money.jsonl
"$NAHR" run -c "$SRC/configs/default.cfg" money.jsonl >out 2>err
check "default pipeline: 1.5 مليار دولار is one MONEY span with its value" \
  'python3 -c "
import json
es=json.loads(open(\"out\").readline())[\"entities\"]
assert [(e[\"type\"],e[\"text\"],e.get(\"value\")) for e in es]==[(\"MONEY\",\"1.5 مليار دولار\",1500000000)], es"' "$(cat out err)"
sed 's/{ plugin = "entities"; }/{ plugin = "entities"; money_first = false; }/' "$SRC/configs/default.cfg" >mf.cfg
"$NAHR" run -c mf.cfg money.jsonl >out 2>err
check "money_first = false: the model's MISC currency (ANERcorp's convention)" \
  'python3 -c "
import json
es=json.loads(open(\"out\").readline())[\"entities\"]
assert [(e[\"type\"],e[\"text\"]) for e in es]==[(\"MISC\",\"دولار\")], es"' "$(cat out err)"

# --- JSONL from stdin with a broken line
printf '%s\n' '{"id":"a","text":"زار nahr موسكو."}' '{"id":"b","text":' '{"id":"c","text":"عاد الوزير."}' >broken.jsonl
"$NAHR" run -c tp.cfg - <broken.jsonl >out 2>err; rc=$?
check "broken line: exit 1" '[ $rc = 1 ]'
check "broken line: others exported in order" '[ "$(python3 -c "import json,sys;print(\",\".join(json.loads(l)[\"id\"] for l in open(\"out\")))")" = "a,c" ]'
check "broken line: stderr names <stdin>:2" 'grep -q "<stdin>:2" err'
check "broken line: dead-letter has origin, stage, reason, input" \
  'python3 -c "import json;r=json.loads(open(\"dl.jsonl\").readline());assert r[\"origin\"]==\"<stdin>:2\" and r[\"stage\"]==\"reader\" and \"JSON\" in r[\"reason\"] and r[\"input\"]==\"{\\\"id\\\":\\\"b\\\",\\\"text\\\":\""'
check "summary adds up" 'grep -q "3 read, 2 exported, 0 skipped, 1 dead-lettered" err' "$(cat err)"

# --- records without an id are named after their origin, never "" (keyed exporters would merge them)
printf '%s\n' '{"text":"نص أول."}' '{"id":"","text":"نص ثان."}' '{"id":7,"text":"نص ثالث."}' >noid.jsonl
"$NAHR" run -c tp.cfg noid.jsonl >out 2>/dev/null
check "missing or empty id: file:line; a number kept as text" \
  '[ "$(python3 -c "import json;print(\",\".join(json.loads(l)[\"id\"] for l in open(\"out\")))")" = "noid.jsonl:1,noid.jsonl:2,7" ]' "$(cat out)"
"$NAHR" run -c tp.cfg - <noid.jsonl >out 2>/dev/null
check "missing id on stdin: <stdin>:line" 'python3 -c "import json;assert json.loads(open(\"out\").readline())[\"id\"]==\"<stdin>:1\""' "$(cat out)"

# --- spans: code-point offsets index the exported text
"$NAHR" run -c tp.cfg - <broken.jsonl >out 2>/dev/null
check "entity start/end are code points: text[start:end] == entity text" \
  'python3 -c "
import json
r=json.loads(open(\"out\").readline())
e=r[\"entities\"][0]
assert r[\"text\"][e[\"start\"]:e[\"end\"]]==e[\"text\"]==\"nahr\", e
assert e[\"start\"]==4 and r[\"testplug\"][\"worker_count\"]==1
"'

# --- skip and plugin errors are accounted for
rm -f dl.jsonl
printf '%s\n' '{"id":"one","text":"a"}' '{"id":"poison-1","text":"b"}' '{"id":"skip-1","text":"c"}' '{"id":"two","text":"d"}' >mixed.jsonl
"$NAHR" run -c tp.cfg mixed.jsonl >out 2>err; rc=$?
check "plugin error: exit 1, counted, others exported" '[ $rc = 1 ] && grep -q "4 read, 2 exported, 1 skipped, 1 dead-lettered" err && [ $(wc -l <out) = 2 ]' "$(cat err)"
check "plugin error: dead-letter names the stage and message" \
  'python3 -c "import json;r=json.loads(open(\"dl.jsonl\").readline());assert r[\"stage\"]==\"tp_good\" and r[\"reason\"]==\"cannot digest article poison-1\" and r[\"origin\"].endswith(\"mixed.jsonl:2\")"'

# --- on_error = "fail" stops reading after the first failure
python3 -c "
import json
for i in range(2000): print(json.dumps({'id': ('poison-%d' % i) if i == 10 else 'n%d' % i, 'text': 'x'}))" >fail.jsonl
"$NAHR" run -c fail.cfg fail.jsonl >out 2>err; rc=$?
check "on_error=fail: exit 1 and stops early" '[ $rc = 1 ] && [ $(wc -l <out) -lt 1999 ] && grep -q "stopping the run" err' "$(tail -3 err)"

# --- order and completeness: 3000 articles, 2 workers
python3 -c "
import json
for i in range(3000): print(json.dumps({'id':'n%d'%i,'text':'التقى nahr الرئيس في موسكو. '*(1+i%13)},ensure_ascii=False))" >many.jsonl
"$NAHR" run -c tp.cfg -w 2 - <many.jsonl >out 2>err; rc=$?
check "3000 articles, 2 workers: exit 0, complete, in order" \
  '[ $rc = 0 ] && python3 -c "import json,sys;ids=[json.loads(l)[\"id\"] for l in open(\"out\")];sys.exit(0 if ids==[\"n%d\"%i for i in range(3000)] else 1)"'
"$NAHR" run -c tp.cfg -w 1 - <many.jsonl >out1 2>/dev/null
"$NAHR" run -c tp.cfg -w 7 - <many.jsonl >out7 2>/dev/null
check "output identical for 1, 2 and 7 workers" 'cmp -s out out1 && cmp -s out out7'

# --- oversized article, binary junk, empty input
sed 's/workers = 2;/workers = 2; max_article_bytes = 2048;/' tp.cfg >small.cfg
python3 -c "
import json
print(json.dumps({'id':'ok','text':'x'}))
print(json.dumps({'id':'huge','text':'y'*10000}))
print(json.dumps({'id':'ok2','text':'z'}))" >big.jsonl
rm -f dl.jsonl
"$NAHR" run -c small.cfg big.jsonl >out 2>err; rc=$?
check "oversized article: dead-lettered with reason, others exported" \
  '[ $rc = 1 ] && [ $(wc -l <out) = 2 ] && grep -q "exceeds max_article_bytes (2048)" dl.jsonl && grep -q "\"input_truncated\":true" dl.jsonl && ! grep -q input_base64 dl.jsonl'
head -c 300000 /dev/urandom >junk.txt
rm -f dl.jsonl
"$NAHR" run -c tp.cfg junk.txt >out 2>err; rc=$?
check "binary junk: no crash, dead-lettered as not text" '[ $rc = 1 ] && grep -q "not text" dl.jsonl && python3 -c "import json;json.loads(open(\"dl.jsonl\").readline())"'
check "binary junk: input_base64 holds the exact bytes" \
  'python3 -c "import json,base64,sys;r=json.loads(open(\"dl.jsonl\").readline());sys.exit(base64.b64decode(r[\"input_base64\"])!=open(\"junk.txt\",\"rb\").read())"'
printf '{"id":"w","text":"\xc7\xe1\xd1\xc8\xc7\xd8 \xd3\xc7\xe1\xe3"}\n' >cp1256.jsonl
rm -f dl.jsonl
"$NAHR" run -c tp.cfg cp1256.jsonl >out 2>err
check "a Windows-1256 record: dead-lettered, its bytes recoverable from input_base64" \
  '[ "$(python3 -c "import json,base64;print(base64.b64decode(json.loads(open(\"dl.jsonl\").readline())[\"input_base64\"]).decode(\"cp1256\"))")" = "{\"id\":\"w\",\"text\":\"الرباط سالم\"}" ]' "$(cat dl.jsonl err)"
"$NAHR" run -c tp.cfg --encoding WINDOWS-1256 cp1256.jsonl >out 2>err; rc=$?
check "--encoding WINDOWS-1256: the same record read as Arabic" \
  '[ $rc = 0 ] && [ "$(python3 -c "import json;print(json.loads(open(\"out\").readline())[\"text\"])")" = "الرباط سالم" ]' "$(cat out err)"
sed 's/workers = 2;/workers = 2; encoding = "CP1256";/' tp.cfg >cp.cfg
"$NAHR" run -c cp.cfg - <cp1256.jsonl >out 2>err; rc=$?
check "pipeline.encoding = CP1256 on stdin" '[ $rc = 0 ] && grep -q "الرباط" out' "$(cat out err)"
"$NAHR" run -c tp.cfg --encoding KLINGON-8 cp1256.jsonl >out 2>err; rc=$?
check "--encoding with an unknown name: exit 2, names it" '[ $rc = 2 ] && grep -q "KLINGON-8.* is not an encoding" err' "$(cat err)"
"$NAHR" run -c tp.cfg --encoding UTF-16 cp1256.jsonl >out 2>err; rc=$?
check "--encoding UTF-16 refused: records cannot be split in it" '[ $rc = 2 ] && grep -q "does not keep ASCII bytes as ASCII" err' "$(cat err)"
sed 's/workers = 2;/workers = 2; encoding = "KLINGON-8";/' tp.cfg >badenc.cfg
"$NAHR" check -c badenc.cfg >out 2>err; rc=$?
check "pipeline.encoding unknown: exit 2, file:line and the key" '[ $rc = 2 ] && grep -q "badenc.cfg:2: pipeline: .encoding. \"KLINGON-8\" is not an encoding" err' "$(cat err)"
printf '<html><head><meta http-equiv="Content-Type" content="text/html; charset=windows-1256"></head><p>\xc7\xe1\xd1\xc8\xc7\xd8</p>' >old.html
printf '<meta charset="utf-8"><p>\xc7\xe1\xd1\xc8\xc7\xd8</p>' >liar.html
rm -f dl.jsonl
"$NAHR" run -c tp.cfg old.html liar.html >out 2>err; rc=$?
check "an HTML page in the windows-1256 it declares is read as Arabic" \
  '[ "$(python3 -c "import json;print(json.loads(open(\"out\").readline())[\"text\"])")" = "<html><head><meta http-equiv=\"Content-Type\" content=\"text/html; charset=windows-1256\"></head><p>الرباط</p>" ]' "$(cat out err)"
check "an HTML page declaring UTF-8 but not UTF-8 stays under the utf8 policy (not text)" \
  '[ $rc = 1 ] && grep -q "\"liar\".*not text" dl.jsonl' "$(cat dl.jsonl err)"
printf 'الرباط' | iconv -f UTF-8 -t UTF-16 >u16.txt
printf '\xff\xfe\x27\x06\x44' >u16odd.txt
rm -f dl.jsonl
"$NAHR" run -c tp.cfg u16.txt u16odd.txt >out 2>err; rc=$?
check "a .txt file with a UTF-16 byte-order mark is read as UTF-16" \
  '[ "$(python3 -c "import json;print(json.loads(open(\"out\").readline())[\"text\"])")" = "الرباط" ]' "$(cat out err)"
check "a UTF-16 file cut mid-character: dead-lettered, says why" \
  '[ $rc = 1 ] && grep -q "not valid UTF-16 at byte 4 (the file starts with a UTF-16 byte-order mark)" dl.jsonl' "$(cat dl.jsonl err)"
python3 -c "
import json
t='عاد الوفد nahr إلى العاصمة بعد لقاء مع الوزير في المدينة'
r=lambda i: json.dumps({'id':i,'text':t},ensure_ascii=False)+'\n'
open('mixed.jsonl','wb').write(r('u').encode()+r('w').encode('cp1256')+r('i').encode('iso-8859-6')+b'{\"id\":\"l\",\"text\":\"caf\xe9 nahr au lait\"}\n')"
"$NAHR" run -c tp.cfg --encoding auto mixed.jsonl >out 2>err; rc=$?
check "--encoding auto: UTF-8, Windows-1256 and ISO-8859-6 records of one archive all read as Arabic; Latin-1 left to the utf8 policy" \
  '[ $rc = 0 ] && python3 -c "
import json
rs=[json.loads(l) for l in open(\"out\")]
assert [r[\"id\"] for r in rs]==[\"u\",\"w\",\"i\",\"l\"]
assert rs[0][\"text\"]==rs[1][\"text\"]==rs[2][\"text\"] and \"\ufffd\" in rs[3][\"text\"]"' "$(cat out err)"
printf '\xd3\xe4\xa1\xe5' >iso.txt
rm -f dl.jsonl
"$NAHR" run -c tp.cfg --encoding ISO-8859-6 iso.txt >out 2>err; rc=$?
check "a byte the encoding does not define: dead-lettered with its offset" '[ $rc = 1 ] && grep -q "not valid ISO-8859-6 at byte 2" dl.jsonl' "$(cat dl.jsonl err)"
"$NAHR" run -c tp.cfg - </dev/null >out 2>err; rc=$?
check "empty stdin: exit 0, nothing out" '[ $rc = 0 ] && [ ! -s out ] && grep -q "0 read" err'
printf '\xef\xbb\xbfplain text with a bad byte \xfe here and enough good text around it\n' >bad-utf8.txt
"$NAHR" run -c tp.cfg bad-utf8.txt >out 2>err; rc=$?
check "malformed UTF-8 is repaired with U+FFFD and a warning naming the input" '[ $rc = 0 ] && grep -q "bad-utf8.txt: replaced 1 invalid UTF-8" err && grep -q "�" out' "$(cat err)"

# --- a JSONL file starting with a UTF-8 byte-order mark (Windows tools), CRLF line ends
printf '\xef\xbb\xbf{"id":"bom","text":"نص nahr أول"}\r\n{"id":"two","text":"نص ثان"}\r\n' >bom.jsonl
"$NAHR" run -c tp.cfg bom.jsonl >out 2>err; rc=$?
check "JSONL with a byte-order mark and CRLF: every record exported" \
  '[ $rc = 0 ] && [ "$(python3 -c "import json;print(\",\".join(json.loads(l)[\"id\"] for l in open(\"out\")))")" = "bom,two" ]' "$(cat out err)"

python3 -c "
import json
lines=''.join(json.dumps({'id':'w%d'%i,'text':'نص nahr رقم %d 😀'%i},ensure_ascii=False)+'\r\n' for i in range(30000))
open('u16.jsonl','wb').write(lines.encode('utf-16'))
open('u16cut.jsonl','wb').write(lines.encode('utf-16')[:-1])"
"$NAHR" run -c tp.cfg u16.jsonl >out 2>err; rc=$?
check "a UTF-16 JSONL file (PowerShell's > writes one) is read whole, astral characters too" \
  '[ $rc = 0 ] && [ "$(wc -l <out)" = 30000 ] && python3 -c "import json;r=json.loads(open(\"out\").readlines()[29999]);assert r[\"id\"]==\"w29999\" and r[\"text\"].endswith(\"29999 😀\")"' "$(tail -3 err)"
python3 -c "import sys;sys.stdout.buffer.write(open('u16.jsonl','rb').read()[:4000])" | "$NAHR" run -c tp.cfg - >out 2>err; rc=$?
check "UTF-16 JSONL on stdin (a byte-order mark) is converted too" \
  '[ "$(python3 -c "import json;print(json.loads(open(\"out\").readline())[\"id\"])")" = w0 ] && [ "$(wc -l <out)" -gt 10 ]' "$(tail -3 err)"
rm -f dl.jsonl
"$NAHR" run -c tp.cfg u16cut.jsonl >out 2>err; rc=$?
check "a UTF-16 JSONL file cut inside a character: the last record dead-lettered, says why" \
  '[ $rc = 1 ] && [ "$(wc -l <out)" = 29999 ] && grep -q "u16cut.jsonl:30000.*UTF-16 file cut inside a character" dl.jsonl' "$(tail -3 err)"

# --- numbers in pass-through fields are written back as read (no digits lost to double precision)
printf '%s\n' '{"id":"num","text":"نص nahr","a":12345678901234567890123,"b":3.14159265358979323846,"c":1e400,"d":[0.1,-0.0,2E-7],"e":{"f":9007199254740993}}' >num.jsonl
"$NAHR" run -c tp.cfg num.jsonl >out 2>err; rc=$?
check "numbers of input fields pass through unchanged" \
  '[ $rc = 0 ] && grep -qF "\"a\":12345678901234567890123,\"b\":3.14159265358979323846,\"c\":1e400,\"d\":[0.1,-0.0,2E-7],\"e\":{\"f\":9007199254740993}" out' "$(cat out err)"

# --- gzip-compressed JSONL (corpus dumps): read as they are, a cut file accounted for
python3 -c "
import json
for i in range(400): print(json.dumps({'id':'g%d'%i,'text':'عاد الوفد nahr إلى عمّان بعد جولة %d.'%i},ensure_ascii=False))" >gz.jsonl
gzip -c gz.jsonl >gz.jsonl.gz
"$NAHR" run -c tp.cfg gz.jsonl >out.plain 2>/dev/null
"$NAHR" run -c tp.cfg gz.jsonl.gz >out 2>err; rc=$?
check ".jsonl.gz: same output as the plain file" '[ $rc = 0 ] && [ -s out ] && cmp -s out out.plain' "$(cat err)"
mkdir -p gzdir && cp gz.jsonl.gz gzdir/a.ndjson.gz && printf 'x' >gzdir/b.gz
"$NAHR" run -c tp.cfg gzdir >out 2>err; rc=$?
check "a directory: .ndjson.gz read, other .gz skipped" '[ $rc = 0 ] && cmp -s out out.plain' "$(cat err)"
head -c $(( $(stat -c %s gz.jsonl.gz) / 2 )) gz.jsonl.gz >cut.jsonl.gz
rm -f dl.jsonl
"$NAHR" run -c tp.cfg cut.jsonl.gz >out 2>err; rc=$?
n=$(wc -l <out)
check "a cut .jsonl.gz: exit 1, the records before the cut exported, the cut dead-lettered with the line" \
  '[ $rc = 1 ] && [ $n -gt 0 ] && head -n $n out.plain | cmp -s - out && grep -q "cut.jsonl.gz:$((n + 1))\".*gzip file cut short; the rest of the input was not read" dl.jsonl && grep -q "$((n + 1)) read, $n exported, 0 skipped, 1 dead-lettered" err' "$(cat err dl.jsonl | head -c 600)"
sed 's|path = "-";|path = "rt.jsonl.zst";|' tp.cfg >zst.cfg
"$NAHR" run -c zst.cfg gz.jsonl >/dev/null 2>err
"$NAHR" run -c tp.cfg rt.jsonl.zst >out 2>err; rc=$?
check ".jsonl.zst (the export plugin's own zstd output) read back: the same records" \
  '[ $rc = 0 ] && [ "$(wc -l <out)" = 400 ] && [ "$(python3 -c "import json;print(json.loads(open(\"out\").readlines()[-1])[\"id\"])")" = g399 ]' "$(cat err)"
head -c $(( $(stat -c %s rt.jsonl.zst) / 2 )) rt.jsonl.zst >cut.jsonl.zst
rm -f dl.jsonl
"$NAHR" run -c tp.cfg cut.jsonl.zst >out 2>err; rc=$?
check "a cut .jsonl.zst: exit 1, dead-lettered as cut short" '[ $rc = 1 ] && grep -q "zstd file cut short" dl.jsonl' "$(cat err)"

# --- .txt and .html ids, directories
mkdir -p dir/sub && printf 'نص أول nahr' >dir/b.txt && printf '<p>صفحة</p>' >dir/sub/a.html && printf 'x' >dir/skip.bin
"$NAHR" run -c tp.cfg dir >out 2>err
check "directory: recursive, sorted, ids from file names" '[ "$(python3 -c "import json;print(\",\".join(json.loads(l)[\"id\"] for l in open(\"out\")))")" = "b,a" ]' "$(cat out err)"

# --- default config with no INPUT uses pipeline.input (examples/)
"$NAHR" run -c "$SRC/configs/default.cfg" >out 2>err; rc=$?
check "default.cfg with no INPUT runs on examples/" '[ $rc = 0 ] && [ $(wc -l <out) -ge 4 ]' "$(cat err)"

# --- the seed articles (shared data), when present
if [ -d "$SHARED/seeds" ]; then
  "$NAHR" run -c "$SRC/configs/default.cfg" "$SHARED"/seeds/*.txt >out 2>err; rc=$?
  check "seed articles: exit 0, five records" '[ $rc = 0 ] && [ $(wc -l <out) = 5 ]' "$(cat err)"
else
  echo "skip - seed articles: $SHARED/seeds not found"
fi

# wait_until SECONDS CONDITION: polls the shell condition every 0.1 s, at most SECONDS
wait_until() {
  local n=$(($1 * 10))
  while [ $n -gt 0 ] && ! eval "$2"; do sleep 0.1; n=$((n - 1)); done
}

# --- a stream: what was read is handed on before the reader waits for more input (articles read
# while the only worker is busy are not held back until the next input arrives)
sed -e 's/tp_good/tp_jitter/' -e 's/workers = 2;/workers = 1;/' tp.cfg >slow.cfg
mkfifo fifo
"$NAHR" run -c slow.cfg - <fifo >out 2>err &
pid=$!
exec 3>fifo
echo '{"id":"slow-1","text":"t"}' >&3
sleep 0.3 # the worker is busy with slow-1 for 1 s
echo '{"id":"q2","text":"t"}' >&3
echo '{"id":"q3","text":"t"}' >&3
wait_until 30 '[ "$(wc -l <out)" = 3 ]'
lines=$(wc -l <out)
exec 3>&-
wait $pid; rc=$?
check "stream: articles read while the worker is busy come out without more input" \
  '[ "$lines" = 3 ] && [ $rc = 0 ]' "lines=$lines rc=$rc $(cat err)"
rm -f fifo

# --- SIGTERM: stop reading, finish in-flight, flush, exit 0
mkfifo fifo
"$NAHR" run -c tp.cfg - <fifo >out 2>err &
pid=$!
exec 3>fifo
for i in 1 2 3; do echo "{\"id\":\"s$i\",\"text\":\"t\"}" >&3; done
# signal only once the run is up and has exported what it read (a loaded machine or a
# sanitizer build can take seconds to start)
wait_until 30 '[ "$(wc -l <out)" = 3 ]'
kill -TERM $pid
wait $pid; rc=$?
exec 3>&-
check "SIGTERM: exit 0 with every article read exported" '[ $rc = 0 ] && [ $(wc -l <out) = 3 ] && grep -q "interrupted" err' "rc=$rc $(cat err)"
rm -f fifo

# --- SIGHUP: the exporter reopens its file (logrotate)
sed 's|path = "-";|path = "hup.jsonl";|' tp.cfg >hup.cfg
mkfifo fifo
"$NAHR" run -c hup.cfg - <fifo >/dev/null 2>err &
pid=$!
exec 3>fifo
echo '{"id":"h1","text":"t"}' >&3
wait_until 30 'grep -q h1 hup.jsonl 2>/dev/null'
mv hup.jsonl hup.jsonl.1
kill -HUP $pid
sleep 0.3 # (the files are reopened before the next article is written)
echo '{"id":"h2","text":"t"}' >&3
exec 3>&-
wait $pid; rc=$?
check "SIGHUP: old records in the rotated file, new ones in a new file" \
  '[ $rc = 0 ] && grep -q h1 hup.jsonl.1 && ! grep -q h2 hup.jsonl.1 && grep -q h2 hup.jsonl' "rc=$rc $(cat err)"

# --- --log-format kv: one line per event, level and key=value fields
printf '%s\n' '{"id":"k1","text":"a b"}' '{"id":"poison-2","text":"x"}' 'broken "line"' >kv.jsonl
"$NAHR" run -c tp.cfg --log-format kv kv.jsonl >out 2>err; rc=$?
check "log-format kv: every stderr line is level=... msg=..." \
  '[ $rc = 1 ] && [ -s err ] && ! grep -qv "^level=\(error\|warning\|info\|debug\) msg=" err' "$(cat err)"
check "log-format kv: a dead letter carries origin, id, stage and a quoted reason" \
  'grep -q "^level=warning msg=\".*\" event=dead_letter origin=kv.jsonl:2 id=poison-2 stage=tp_good reason=\"cannot digest article poison-2\"" err' "$(cat err)"
check "log-format kv: the summary is an event with counts" \
  'grep -q "^level=info msg=summary event=summary read=3 exported=1 skipped=0 dead_lettered=2 " err' "$(cat err)"
printf '%s\n' '{"id":"poison-\"q\"\nx","text":"z"}' | "$NAHR" run -c tp.cfg --log-format kv - >out 2>err
check "log-format kv: quotes and newlines in values are escaped, the event stays on one line" \
  '[ $(grep -c . err) = $(grep -c "^level=" err) ] && grep -qF "id=\"poison-\\\"q\\\"\\nx\" stage=tp_good reason=\"cannot digest article poison-\\\"q\\\"\\nx\"" err' "$(cat err)"
"$NAHR" run -c tp.cfg --log-format xml - </dev/null >out 2>err; rc=$?
check "bad --log-format: exit 2, names the value" '[ $rc = 2 ] && grep -q "log-format wants text or kv, not .xml." err' "$(cat err)"
"$NAHR" run -c tp.cfg kv.jsonl >out 2>err
check "default log format unchanged" 'grep -q "^nahr: warning: kv.jsonl:2: dead-lettered by tp_good: cannot digest article poison-2$" err' "$(cat err)"
sed 's/^pipeline: {$/pipeline: { log_format = "kv";/' tp.cfg >kvcfg.cfg
"$NAHR" run -c kvcfg.cfg kv.jsonl >out 2>err
check "pipeline.log_format = kv: the same logfmt events" \
  'grep -q "^level=info msg=summary event=summary read=3 " err && ! grep -q "^nahr: " err' "$(cat err)"
"$NAHR" run -c kvcfg.cfg --log-format text kv.jsonl >out 2>err
check "--log-format text overrides pipeline.log_format" 'grep -q "^nahr: warning: kv.jsonl:2: " err' "$(cat err)"
sed 's/^pipeline: {$/pipeline: { log_format = "json";/' tp.cfg >kvbad.cfg
"$NAHR" check -c kvbad.cfg >out 2>err; rc=$?
check "bad pipeline.log_format: exit 2, file:line and the key" \
  '[ $rc = 2 ] && grep -q "kvbad.cfg:1: .*log_format. must be \"text\" or \"kv\", not \"json\"" err' "$(cat err)"

# --- --metrics: Prometheus text over HTTP while a run is going on
scrape() { # PORT: the body of GET /metrics (bash /dev/tcp: no curl needed)
  local body
  exec 5<>"/dev/tcp/127.0.0.1/$1" || return 1
  printf 'GET /metrics HTTP/1.0\r\nHost: localhost\r\n\r\n' >&5
  body=$(cat <&5)
  exec 5<&-
  printf '%s\n' "$body" | sed '1,/^\r\{0,1\}$/d'
}
"$NAHR" run -c tp.cfg --metrics 0 - </dev/null >out 2>err; rc=$?
if grep -q "not built in" err; then
  check "--metrics without libmicrohttpd: exit 2, says so" '[ $rc = 2 ]' "$(cat err)"
else
  for bad in abc 70000 "1.2.3:80" ":80" "localhost:" "-5"; do
    "$NAHR" run -c tp.cfg --metrics "$bad" - </dev/null >out 2>err; rc=$?
    check "bad --metrics '$bad': exit 2 with the expected shape" '[ $rc = 2 ] && grep -q "metrics wants \[ADDR:\]PORT" err' "$(cat err)"
  done
  mkfifo mfifo
  "$NAHR" run -c tp.cfg --metrics 0 - <mfifo >out 2>err &
  pid=$!
  exec 3>mfifo
  printf '%s\n' '{"id":"m1","text":"a"}' '{"id":"m2","text":"b"}' '{"id":"poison-3","text":"c"}' 'not json' '{"id":"m5","text":"d"}' >&3
  port=""
  for _ in $(seq 1 50); do
    port=$(sed -n 's/.*serving http:\/\/127\.0\.0\.1:\([0-9]*\)\/metrics.*/\1/p' err)
    [ -n "$port" ] && break
    sleep 0.1
  done
  m=""
  for _ in $(seq 1 100); do # until the five articles went through (exported counts after the exporter's sync)
    m=$(scrape "$port")
    printf '%s\n' "$m" | grep -q '^nahr_articles_read_total 5$' && printf '%s\n' "$m" | grep -q '^nahr_articles_exported_total 3$' && break
    sleep 0.1
  done
  printf '%s\n' "$m" >metrics.txt
  check "metrics: counters while the run is going on" \
    'grep -q "^nahr_articles_read_total 5$" metrics.txt && grep -q "^nahr_articles_exported_total 3$" metrics.txt && grep -q "^nahr_articles_dead_lettered_total 2$" metrics.txt' "port=$port $(head -c 600 metrics.txt)"
  check "metrics: per stage (articles, dead letters) and reader" \
    'grep -q "^nahr_stage_articles_total{stage=\"tp_good\",index=\"1\"} 4$" metrics.txt && grep -q "^nahr_stage_dead_lettered_total{stage=\"tp_good\",index=\"1\"} 1$" metrics.txt && grep -q "^nahr_reader_dead_lettered_total 1$" metrics.txt' "$(grep stage metrics.txt)"
  check "metrics: stage seconds, gauges and TYPE lines" \
    'grep -q "^nahr_stage_seconds_total{stage=\"export\",index=\"2\"} [0-9.]*$" metrics.txt && grep -q "^nahr_queue_depth 0$" metrics.txt && grep -q "^nahr_articles_in_flight 0$" metrics.txt && grep -q "^# TYPE nahr_articles_read_total counter$" metrics.txt'
  # the port is taken now: a second run says so and reads nothing
  "$NAHR" run -c tp.cfg --metrics "127.0.0.1:$port" - </dev/null >out2 2>err2; rc=$?
  check "--metrics on a port in use: exit 2, clear error" '[ $rc = 2 ] && grep -q "127.0.0.1:$port: cannot listen: Address already in use" err2' "$(cat err2)"
  exec 3>&-
  wait $pid; rc=$?
  check "metrics run ends normally when the input ends" '[ $rc = 1 ] && [ $(wc -l <out) = 3 ]' "rc=$rc $(cat err)"
  rm -f mfifo
fi

# --- a plugin that crashes: the article and stage are named, and the next run dead-letters it
sed 's/tp_good"; word = "nahr";/tp_crash";/' tp.cfg >crash.cfg
printf '%s\n' '{"id":"c0","text":"x"}' '{"id":"crash-7","text":"y"}' '{"id":"c2","text":"z"}' >crash.jsonl
rm -f dl.jsonl
"$NAHR" run -c crash.cfg crash.jsonl >out 2>err; rc=$?
check "crash: dies naming stage, article and origin" '[ $rc -ge 128 ] && grep -q "stage .tp_crash. crashed with signal 11 on article .crash-7. (crash.jsonl:2)" err' "rc=$rc $(cat err)"
check "crash: dead-letter record marked crashed" 'grep -q "\"id\":\"crash-7\",\"stage\":\"tp_crash\".*\"crashed\":true" dl.jsonl' "$(cat dl.jsonl)"
"$NAHR" run -c crash.cfg crash.jsonl >out 2>err; rc=$?
check "crash: next run dead-letters the poison article, exports the rest" \
  '[ $rc = 1 ] && [ "$(python3 -c "import json;print(\",\".join(json.loads(l)[\"id\"] for l in open(\"out\")))")" = "c0,c2" ] && grep -q "crashed this stage in an earlier run" dl.jsonl' "rc=$rc $(cat err)"

"$NAHR" run -c crash.cfg -d dlkv.jsonl --log-format kv crash.jsonl >out 2>err; rc=$?
check "crash with --log-format kv: one logfmt event naming stage, article and origin" \
  '[ $rc -ge 128 ] && grep -q "^level=error msg=\"stage crashed\" event=crash signal=11 stage=\"tp_crash\" id=\"crash-7\" origin=\"crash.jsonl:2\"" err' "rc=$rc $(cat err)"

# --- file names that are not UTF-8: origins and ids masked with '?', output stays valid JSON
mkdir -p oddnames && printf 'x\n' >"oddnames/a$(printf '\377').txt" && printf '%s\n' '{"text":"y"}' '{bad' >"oddnames/b$(printf '\376').jsonl"
rm -f dl.jsonl
"$NAHR" run -c tp.cfg oddnames >out 2>err; rc=$?
check "non-UTF-8 file names: id and dead-letter origin masked, valid JSON" \
  '[ $rc = 1 ] && python3 -c "import json;assert [json.loads(l)[\"id\"] for l in open(\"out\",encoding=\"utf-8\")][0]==\"a?\";assert json.loads(open(\"dl.jsonl\",encoding=\"utf-8\").readline())[\"origin\"].endswith(\"b?.jsonl:2\")"' "rc=$rc $(cat err) $(cat out)"

echo "$pass passed, $fail failed"
[ $fail = 0 ]
