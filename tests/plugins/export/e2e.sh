#!/bin/bash
# export plugin, end to end: one nahr run writes JSONL (.gz, .zst), CSV,
# SQLite and PostgreSQL; jq, sqlite3, psql and Python's csv module read the
# outputs back and the counts must agree with each other and with the run
# summary. Then: kill -9 in the middle of large SQLite/PostgreSQL exports and
# re-run (every article exactly once), PostgreSQL restarted mid-run (nothing
# lost), and bad input (unwritable path, full disk, locked database, wrong
# password). PostgreSQL parts are skipped, with the reason printed, when a
# server cannot be started. Usage: e2e.sh path/to/nahr
set -u
NAHR=$(realpath "${1:-build/nahr}")
BUILD=$(dirname "$NAHR")
HERE=$(cd "$(dirname "$0")" && pwd)
SHARED=${NAHR_SHARED_DIR:-$HERE/../../../../shared}
T=$(mktemp -d /tmp/nahr-export-e2e-XXXXXX)
chmod 755 "$T"
. "$HERE/pg.sh"
cleanup() { pg_stop; [ -n "${KEEP:-}" ] && echo "# kept $T" || rm -rf "$T"; }
trap cleanup EXIT
cd "$T"
pass=0 fail=0 skip=0
ok() { pass=$((pass + 1)); echo "ok   - $1 [${SECONDS}s]"; }
bad() { fail=$((fail + 1)); echo "FAIL - $1"; [ -n "${2:-}" ] && echo "       $2"; }
skipped() { skip=$((skip + 1)); echo "SKIP - $1"; }
check() { if eval "$2"; then ok "$1"; else bad "$1" "${3:-}"; fi; }
for tool in jq sqlite3 python3; do
    command -v $tool >/dev/null || { echo "SKIP - $tool not installed: cannot read the outputs back"; exit 0; }
done

if pg_start "$T"; then
    echo "# PostgreSQL $($PG_BIN/postgres --version | awk '{print $3}') on port $PGPORT"
else
    echo "SKIP - PostgreSQL parts: $PG_SKIP"
fi

# Tagging plugin: the test plugin (tags a word as MISC); entities plugin when built.
TAG="{ plugin = \"tp_good\"; word = \"القاهرة\"; },"
PLUGPATH="plugin_path = \"$BUILD/testplugins\";"
[ -e "$BUILD/testplugins/tp_good.so" ] || { TAG=""; PLUGPATH=""; }
PGSTAGE=""
[ "$PG_OK" = 1 ] && PGSTAGE=", { plugin = \"export\"; name = \"pg\"; format = \"postgres\"; batch = 2; }"
cat >all.cfg <<CFG
pipeline: {
  workers = 2;
  dead_letter = "dl.jsonl";
  $PLUGPATH
  stages = (
    $TAG
    { plugin = "export"; name = "jsonl"; path = "out.jsonl"; },
    { plugin = "export"; name = "gz"; path = "out.jsonl.gz"; },
    { plugin = "export"; name = "zst"; path = "out.jsonl.zst"; },
    { plugin = "export"; name = "csv"; format = "csv"; path = "out.csv"; bom = true; fields = ["testplug.worker_count"]; },
    { plugin = "export"; name = "sqlite"; format = "sqlite"; path = "out.db"; batch = 2; }
    $PGSTAGE
  );
};
CFG

# our own articles (commas, quotes, tabs, CR/LF, backslashes, an id with a
# comma, a duplicate id), plus the team's examples and the seeds when present
cp "$HERE/articles.jsonl" in.jsonl
INPUTS="in.jsonl"
[ -d "$HERE/../../../examples" ] && INPUTS="$INPUTS $HERE/../../../examples"
[ -d "$SHARED/seeds" ] && INPUTS="$INPUTS $SHARED/seeds"
"$NAHR" run -c all.cfg $INPUTS >stdout 2>err
rc=$?
check "all sinks in one run: exit 0" '[ $rc = 0 ]' "rc=$rc $(cat err)"
N=$(sed -n 's/.* \([0-9]*\) exported.*/\1/p' err)
check "summary names the exported count" '[ -n "$N" ] && [ "$N" -gt 5 ]' "$(cat err)"
check "jq reads JSONL: one record per exported article" '[ "$(jq -s length out.jsonl)" = "$N" ]'
check "jq reads .gz: same records" '[ "$(gzip -dc out.jsonl.gz | jq -c . | md5sum)" = "$(jq -c . out.jsonl | md5sum)" ]'
if command -v zstd >/dev/null; then
    check "jq reads .zst: same records" '[ "$(zstd -dc out.jsonl.zst | jq -c . | md5sum)" = "$(jq -c . out.jsonl | md5sum)" ]'
else
    skipped "zstd CLI not installed (Debian package zstd): .zst not read back here (the unit test decodes it)"
fi
NDIST=$(jq -r .id out.jsonl | sort -u | wc -l)
NMEN=$(jq -s 'map(.entities // [] | length) | add' out.jsonl)
check "the input has entity mentions to export" '[ "$NMEN" -gt 0 ]' "NMEN=$NMEN"

cat >readcsv.py <<'PY'
import csv, json, sys
recs = [json.loads(l) for l in open("out.jsonl", encoding="utf-8")]
with open("out.csv", encoding="utf-8-sig", newline="") as f:
    rows = list(csv.DictReader(f))
assert len(rows) == len(recs), (len(rows), len(recs))
for r, j in zip(rows, recs):
    assert r["id"] == j["id"] and r["text"] == j["text"], (r["id"], j["id"])
    assert r["title"] == j.get("title", ""), r["id"]
    assert int(r["mentions"]) == len(j.get("entities", [])), r["id"]
with open("out.mentions.csv", encoding="utf-8-sig", newline="") as f:
    men = list(csv.DictReader(f))
want = [(j["id"], e["type"], e["text"], e["start"], e["end"]) for j in recs for e in j.get("entities", [])]
got = [(m["article_id"], m["type"], m["text"], int(m["start"]), int(m["end"])) for m in men]
assert got == want, (got[:3], want[:3])
k = 0
for j in recs:  # mentions come in article order
    for e in j.get("entities", []):
        m = men[k]
        k += 1
        assert j["text"][int(m["start"]):int(m["end"])] == m["text"], (j["id"], m)
assert k == len(men)
print(len(rows), len(men))
PY
check "Python csv reads both CSV files: same records, quoting round-trips, text[start:end]" \
    'python3 readcsv.py >csvcount 2>csverr' "$(cat csverr)"

check "sqlite3: one row per distinct article id (upsert)" \
    '[ "$(sqlite3 out.db "select count(*) from articles")" = "$NDIST" ]'
check "sqlite3: the later copy of a duplicated id wins" \
    '[ "$(sqlite3 out.db "select title from articles where id = '"'"'exp-001'"'"'")" = "افتتاح معرض الكتاب في القاهرة (محدث)" ]'
LASTMEN=$(jq -s 'map({key: .id, value: (.entities // [] | length)}) | from_entries | [.[]] | add' out.jsonl)
check "sqlite3: mentions of the distinct articles" '[ "$(sqlite3 out.db "select count(*) from mentions")" = "$LASTMEN" ]'
check "sqlite3: entities count mentions" \
    '[ "$(sqlite3 out.db "select sum(count) from entities")" = "$LASTMEN" ]'
check "sqlite3: a declared field reaches the fields table" \
    '[ "$(sqlite3 out.db "select count(distinct article_id) from fields where key = '"'"'testplug'"'"'")" = "$NDIST" ] || [ -z "$TAG" ]'
check "sqlite3: example query (top entities)" \
    'sqlite3 out.db "select canonical, sum(count) from entities group by canonical order by 2 desc limit 5" | grep -q "القاهرة"  || [ -z "$TAG" ]'

if [ "$PG_OK" = 1 ]; then
    q() { psql -X -A -t -q -c "$1"; }
    check "psql: one row per distinct article id" '[ "$(q "select count(*) from articles")" = "$NDIST" ]'
    check "psql: the later copy of a duplicated id wins" \
        '[ "$(q "select title from articles where id = '"'"'exp-001'"'"'")" = "افتتاح معرض الكتاب في القاهرة (محدث)" ]'
    check "psql: mentions and entity counts agree with SQLite" \
        '[ "$(q "select count(*) from mentions")" = "$LASTMEN" ] && [ "$(q "select sum(count) from entities")" = "$LASTMEN" ]'
    check "psql: text with tabs, CR/LF and backslashes survives COPY" \
        '[ "$(q "select md5(string_agg(id || text, '"'"'|'"'"' order by id)) from articles")" = "$(sqlite3 out.db "select group_concat(id || text, '"'"'|'"'"') from (select id, text from articles order by id)" | python3 -c "import sys,hashlib;print(hashlib.md5(sys.stdin.buffer.read()[:-1]).hexdigest())")" ]'
    check "psql: fields are jsonb" '[ "$(q "select count(*) from fields where jsonb_typeof(value) = '"'"'object'"'"'")" -ge 1 ] || [ -z "$TAG" ]'
else
    skipped "psql read-back: $PG_SKIP"
fi

# --- same input again: SQL sinks update, never duplicate
"$NAHR" run -c all.cfg $INPUTS >/dev/null 2>err2
check "re-run: SQLite still one row per article" '[ "$(sqlite3 out.db "select count(*) from articles")" = "$NDIST" ] && [ "$(sqlite3 out.db "select count(*) from mentions")" = "$LASTMEN" ]'
[ "$PG_OK" = 1 ] && check "re-run: PostgreSQL still one row per article" '[ "$(q "select count(*) from articles")" = "$NDIST" ] && [ "$(q "select count(*) from mentions")" = "$LASTMEN" ]'

# --- kill -9 in the middle of a large export, then run again
BIGN=6000
python3 - <<'PY'
import json
with open("big.jsonl", "w", encoding="utf-8") as f:
    for i in range(6000):
        f.write(json.dumps({"id": "big-%05d" % i, "title": "خبر رقم %d" % i,
                            "text": "اجتمع المجلس البلدي في القاهرة، وناقش %d بندا. ثم أعلن \"قرارات\" جديدة." % i},
                           ensure_ascii=False) + "\n")
PY
kill_run() { # kill_run CFG CHECK_CMD: starts a run, kills -9 it once CHECK_CMD reports progress
    "$NAHR" run -c "$1" big.jsonl >/dev/null 2>kill.err &
    local pid=$! i
    for i in $(seq 1 200); do
        sleep 0.05
        local n; n=$(eval "$2" 2>/dev/null || echo 0)
        [ "${n:-0}" -gt 0 ] && break
    done
    kill -9 $pid 2>/dev/null
    wait $pid 2>/dev/null
}
cat >big-sqlite.cfg <<CFG
pipeline: { workers = 2; $PLUGPATH stages = ( $TAG { plugin = "export"; format = "sqlite"; path = "big.db"; batch = 200; } ); };
CFG
kill_run big-sqlite.cfg 'sqlite3 big.db "select count(*) from articles"'
K=$(sqlite3 big.db "select count(*) from articles")
check "kill -9 (SQLite): interrupted mid-run ($K of $BIGN), whole articles only" \
    '[ "$K" -gt 0 ] && [ "$K" -lt $BIGN ] && [ "$(sqlite3 big.db "select count(*) from articles a where n_mentions <> (select count(*) from mentions m where m.article_id = a.id)")" = 0 ]'
"$NAHR" run -c big-sqlite.cfg big.jsonl >/dev/null 2>err3; rc=$?
check "kill -9 (SQLite): re-run completes, every article exactly once" \
    '[ $rc = 0 ] && [ "$(sqlite3 big.db "select count(*), count(distinct id) from articles")" = "$BIGN|$BIGN" ]' "rc=$rc $(tail -2 err3)"

if [ "$PG_OK" = 1 ]; then
    cat >big-pg.cfg <<CFG
pipeline: { workers = 2; $PLUGPATH stages = ( $TAG { plugin = "export"; format = "postgres"; schema = "big"; batch = 200; } ); };
CFG
    kill_run big-pg.cfg 'psql -X -A -t -q -c "select count(*) from big.articles"'
    K=$(q "select count(*) from big.articles")
    check "kill -9 (PostgreSQL): interrupted mid-run ($K of $BIGN), whole articles only" \
        '[ "$K" -gt 0 ] && [ "$K" -lt $BIGN ] && [ "$(q "select count(*) from big.articles a where n_mentions <> (select count(*) from big.mentions m where m.article_id = a.id)")" = 0 ]'
    "$NAHR" run -c big-pg.cfg big.jsonl >/dev/null 2>err4; rc=$?
    check "kill -9 (PostgreSQL): re-run completes, every article exactly once" \
        '[ $rc = 0 ] && [ "$(q "select count(*) || '"'"'|'"'"' || count(distinct id) from big.articles")" = "$BIGN|$BIGN" ]' "rc=$rc $(tail -2 err4)"

    # server restarted while exporting: reconnect with backoff, nothing lost
    sed 's/schema = "big"; batch = 200;/schema = "restart"; batch = 100; retry_delay_ms = 100;/' big-pg.cfg >restart.cfg
    "$NAHR" run -c restart.cfg big.jsonl >/dev/null 2>restart.err &
    pid=$!
    for i in $(seq 1 200); do
        sleep 0.05
        n=$(q "select count(*) from restart.articles" 2>/dev/null || echo 0)
        [ "${n:-0}" -gt 0 ] && break
    done
    pg_restart
    wait $pid; rc=$?
    check "PostgreSQL restarted mid-run: exit 0, all $BIGN articles there" \
        '[ $rc = 0 ] && [ "$(q "select count(*) from restart.articles")" = "$BIGN" ]' "rc=$rc $(tail -3 restart.err)"
    check "PostgreSQL restarted mid-run: the reconnect was logged" 'grep -q "reconnecting" restart.err' "$(cat restart.err)"

    # wrong password: clear error, exit 2 (config), nothing exported
    q "create role nahr_test login password 'right'" >/dev/null
    cat >badpw.cfg <<CFG
pipeline: { stages = ( { plugin = "export"; format = "postgres";
  conninfo = "host=127.0.0.1 port=$PGPORT dbname=postgres user=nahr_test password=wrong connect_timeout=5"; } ); };
CFG
    "$NAHR" run -c badpw.cfg in.jsonl >out 2>err5; rc=$?
    check "wrong PostgreSQL password: exit 2 and a clear error" \
        '[ $rc = 2 ] && grep -q "password authentication failed" err5 && grep -q "conninfo" err5' "rc=$rc $(cat err5)"
else
    skipped "PostgreSQL kill -9, restart and wrong password: $PG_SKIP"
fi

# --- bad input
cat >unwritable.cfg <<CFG
pipeline: { stages = ( { plugin = "export"; path = "/nonexistent-dir/out.jsonl"; } ); };
CFG
"$NAHR" run -c unwritable.cfg in.jsonl >out 2>err; rc=$?
check "unwritable path: exit 2, names the path and the reason" \
    '[ $rc = 2 ] && grep -q "/nonexistent-dir/out.jsonl" err && grep -q "No such file" err' "rc=$rc $(cat err)"
cat >unwritable-db.cfg <<CFG
pipeline: { stages = ( { plugin = "export"; format = "sqlite"; path = "/nonexistent-dir/out.db"; } ); };
CFG
"$NAHR" run -c unwritable-db.cfg in.jsonl >out 2>err; rc=$?
check "unwritable SQLite path: exit 2 with the reason" '[ $rc = 2 ] && grep -q "out.db" err' "rc=$rc $(cat err)"

cat >full.cfg <<CFG
pipeline: { stages = ( { plugin = "export"; path = "/dev/full"; batch_bytes = 0; } ); };
CFG
"$NAHR" run -c full.cfg in.jsonl >out 2>err; rc=$?
check "full disk (/dev/full): exit 1, 'No space left', nothing reported exported" \
    '[ $rc = 1 ] && grep -q "No space left on device" err && grep -q " 0 exported" err' "rc=$rc $(cat err)"

cat >locked.cfg <<CFG
pipeline: { stages = ( { plugin = "export"; format = "sqlite"; path = "locked.db"; busy_timeout_ms = 100; } ); };
CFG
sqlite3 locked.db "create table x(y)"
sqlite3 locked.db "begin exclusive; insert into x values(1);" ".shell sleep 2" "commit;" >/dev/null 2>&1 &
lockpid=$!
sleep 0.5
"$NAHR" run -c locked.cfg in.jsonl >out 2>err; rc=$?
check "locked SQLite database: non-zero exit and 'locked' in the error" \
    '[ $rc != 0 ] && grep -q "locked" err && ! grep -q " [1-9][0-9]* exported" err' "rc=$rc $(cat err)"
wait $lockpid

cat >wrongopt.cfg <<CFG
pipeline: { stages = ( { plugin = "export"; format = "sqlite"; path = "x.db"; compress = "gzip"; } ); };
CFG
"$NAHR" check -c wrongopt.cfg >out 2>err; rc=$?
check "option of another format: exit 2 naming the option" \
    '[ $rc = 2 ] && grep -q "compress" err && grep -q "only to jsonl" err' "rc=$rc $(cat err)"

echo "# $pass passed, $fail failed, $skip skipped"
[ $fail = 0 ]
