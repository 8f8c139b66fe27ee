#!/bin/bash
# NATS JetStream end-to-end checks (issue 10), one case per ctest test:
#   run.sh CASE NAHR PUBTOOL      CASE = basic | kill | poison | sigterm
# Starts its own nats-server -js on 127.0.0.1 (free port, temporary store),
# publishes generated articles with nats_pubtool, runs `nahr run --until-idle`
# with a JSONL export, and checks the output. Prints "skip: ..." and exits 0
# when nats-server is missing or cannot start.
set -u
CASE=$1
NAHR=$2
PUB=$3
BUILD=${NAHR_BUILD_DIR:-$(dirname "$NAHR")}
TP=$BUILD/testplugins

if ! command -v nats-server >/dev/null 2>&1 && [ ! -x /usr/sbin/nats-server ]; then
    echo "skip: nats-server not installed (Debian package nats-server)"
    exit 0
fi
NATS_SERVER=$(command -v nats-server || echo /usr/sbin/nats-server)

T=$(mktemp -d /tmp/nahr-nats-$CASE.XXXXXX)
PIDS=()
cleanup() {
    for p in "${PIDS[@]}"; do kill -9 "$p" 2>/dev/null; done
    [ -f "$T/server.pid" ] && kill "$(cat "$T/server.pid")" 2>/dev/null
    sleep 0.2
    rm -rf "$T"
}
trap cleanup EXIT

fail() {
    echo "FAIL ($CASE): $*"
    for f in "$T"/*.log; do [ -f "$f" ] && { echo "--- $f"; tail -n 30 "$f"; }; done
    exit 1
}

# ---- server ----
"$NATS_SERVER" -js -a 127.0.0.1 -p -1 -sd "$T/store" --ports_file_dir "$T" -l "$T/server.log" &
echo $! >"$T/server.pid"
URL=""
for _ in $(seq 1 50); do
    URL=$(cat "$T"/*.ports 2>/dev/null | grep -o 'nats://[^"]*' | head -n 1)
    [ -n "$URL" ] && break
    sleep 0.1
done
if [ -z "$URL" ]; then
    echo "skip: nats-server did not start on 127.0.0.1 (see its log below)"
    tail -n 5 "$T/server.log" 2>/dev/null
    exit 0
fi
echo "nats-server at $URL"

# config NAME STREAM SUBJECTS DURABLE OUT [PLUGIN] [EXTRA-INPUT-KEYS] [WORKERS]
config() {
    local plugin=${6:-tp_good}
    cat >"$T/$1.cfg" <<EOF
pipeline: {
  workers = ${8:-2};
  dead_letter = "$T/$1.dead.jsonl";
  input: { type = "nats"; url = "$URL"; stream = "$2"; subjects = "$3"; durable = "$4";
           batch = 64; ack_wait_s = 2; max_deliver = 5; nak_delay_s = 0; ${7:-} };
  stages = ( { plugin = "$TP/$plugin.so"; },
             { plugin = "export"; format = "jsonl"; path = "$5"; batch_bytes = 0; } );
};
EOF
}

# ids of the complete records of JSONL files (a killed writer may leave a partial last line)
ids() { cat "$@" 2>/dev/null | grep -a '}$' | sed -n 's/^{"id":"\([^"]*\)".*/\1/p'; }

consumer() { "$PUB" consumer "$URL" "$1" "$2"; }

# publish ARGS...: one retry (same message ids: the server stores each once);
# a first failure is shown, so a flaky publisher stays visible
publish() {
    "$PUB" publish "$URL" "$@" >"$T/publish.out" 2>&1 && { cat "$T/publish.out"; return 0; }
    echo "publish failed once, retrying: $(cat "$T/publish.out")" >&2
    "$PUB" publish "$URL" "$@"
}

expect_drained() { # STREAM DURABLE: nothing pending, nothing unacknowledged
    local st
    st=$(consumer "$1" "$2") || fail "cannot read consumer $1/$2"
    echo "consumer $1/$2: $st"
    case "$st" in *"pending=0 ack_pending=0"*) ;; *) fail "consumer $1/$2 not drained: $st" ;; esac
}

case "$CASE" in
basic)
    # config errors: file:line and a suggestion
    config bad ARTICLES 'articles.>' nahr "$T/bad.jsonl" tp_good 'duarble = "x"; batch = "many";'
    sed -i 's/batch = 64; //' "$T/bad.cfg"
    "$NAHR" check -c "$T/bad.cfg" >"$T/check.log" 2>&1 && fail "check accepted a bad input"
    grep -q "bad.cfg:5: input: unknown key 'duarble' (did you mean 'durable'?)" "$T/check.log" ||
        fail "no suggestion for 'duarble': $(cat "$T/check.log")"
    grep -q "bad.cfg:5: input: 'batch' must be an integer" "$T/check.log" || fail "no type error for batch"
    config bad2 'A.B' 'articles.>.x' nahr "$T/bad.jsonl" tp_good 'ack_wait_s = 0; max_deliver = 0;'
    sed -i 's/ack_wait_s = 2; max_deliver = 5; //' "$T/bad2.cfg"
    "$NAHR" check -c "$T/bad2.cfg" >"$T/check2.log" 2>&1 && fail "check accepted bad values"
    for m in "'stream' = \"A.B\" is not a valid JetStream name" "\"articles.>.x\" is not a valid subject" \
        "'ack_wait_s' = 0 is out of range" "'max_deliver' = 0 is out of range"; do
        grep -qF "$m" "$T/check2.log" || fail "missing error: $m; got: $(cat "$T/check2.log")"
    done

    # first run on a fresh server: creates the stream and the consumer, says so
    config run ARTICLES 'articles.>' nahr "$T/out1.jsonl"
    "$NAHR" run -c "$T/run.cfg" --until-idle 1 >"$T/run1.log" 2>&1 || fail "empty run failed"
    grep -q "created stream=ARTICLES subjects=\[articles.>\]" "$T/run1.log" || fail "stream creation not logged"
    grep -q "created durable pull consumer=nahr" "$T/run1.log" || fail "consumer creation not logged"

    publish articles.news 500 >"$T/pub.log" 2>&1 || fail "publish failed"
    "$NAHR" run -c "$T/run.cfg" --until-idle 1 >"$T/run2.log" 2>&1 || fail "run 2 failed (exit $?)"
    grep -q "created" "$T/run2.log" && fail "run 2 created the stream or consumer again"
    n=$(ids "$T/out1.jsonl" | sort -u | wc -l)
    [ "$n" = 500 ] || fail "expected 500 articles, got $n"
    grep -q '"origin":"nats:ARTICLES:' "$T/out1.jsonl" || true # origin is optional in the output
    expect_drained ARTICLES nahr

    # nothing is redelivered to a later run
    config run3 ARTICLES 'articles.>' nahr "$T/out3.jsonl"
    "$NAHR" run -c "$T/run3.cfg" --until-idle 1 >"$T/run3.log" 2>&1 || fail "run 3 failed"
    [ "$(ids "$T/out3.jsonl" | wc -l)" = 0 ] || fail "acknowledged articles were delivered again"

    # the NATS sink (export format = "nats"): a stream OUT captures nahr.out (created here by a reader run)
    config outreader OUT 'nahr.out' reader "$T/outread.jsonl"
    "$NAHR" run -c "$T/outreader.cfg" --until-idle 1 >"$T/outinit.log" 2>&1 || fail "creating stream OUT failed"
    cat >"$T/tonats.cfg" <<EOF
pipeline: {
  workers = 2;
  dead_letter = "$T/tonats.dead.jsonl";
  input: { type = "nats"; url = "$URL"; stream = "NEWS2"; subjects = "news2.>"; durable = "tonats"; };
  stages = ( { plugin = "$TP/tp_good.so"; },
             { plugin = "export"; format = "nats"; url = "$URL"; subject = "nahr.out"; } );
};
EOF
    "$NAHR" run -c "$T/tonats.cfg" --until-idle 1 >"$T/tonats0.log" 2>&1 || fail "creating stream NEWS2 failed: $(cat "$T/tonats0.log")"
    "$PUB" publish "$URL" news2.x 300 --prefix s >"$T/pub2.log" 2>&1 || fail "publish to news2 failed: $(cat "$T/pub2.log")"
    "$NAHR" run -c "$T/tonats.cfg" --until-idle 1 >"$T/tonats.log" 2>&1 || fail "nats sink run failed: $(tail -3 "$T/tonats.log")"
    "$NAHR" run -c "$T/outreader.cfg" --until-idle 1 >"$T/outread.log" 2>&1 || fail "reading OUT failed"
    n=$(ids "$T/outread.jsonl" | sort -u | wc -l)
    [ "$n" = 300 ] || fail "NATS sink: expected 300 articles in stream OUT, got $n"
    expect_drained NEWS2 tonats
    echo "nats sink: 300 articles published to nahr.out and read back"

    # an existing stream is never changed: a different subject list is an error
    config mismatch ARTICLES 'other.>' nahr "$T/mm.jsonl"
    "$NAHR" run -c "$T/mismatch.cfg" --until-idle 1 >"$T/mismatch.log" 2>&1 && fail "mismatching stream accepted"
    grep -q "stream=ARTICLES exists with subjects=\[articles.>\] but the config says subjects=\[other.>\]" \
        "$T/mismatch.log" || fail "unclear mismatch error: $(cat "$T/mismatch.log")"
    # ... and an existing consumer with other settings too
    config mismatch2 ARTICLES 'articles.>' nahr "$T/mm.jsonl" tp_good 'max_deliver = 9;'
    sed -i 's/max_deliver = 5; nak/nak/' "$T/mismatch2.cfg"
    "$NAHR" run -c "$T/mismatch2.cfg" --until-idle 1 >"$T/mismatch2.log" 2>&1 && fail "mismatching consumer accepted"
    grep -q "consumer=nahr of stream=ARTICLES exists with" "$T/mismatch2.log" || fail "unclear consumer mismatch"

    # the publisher refuses a subject no stream captures
    "$PUB" publish "$URL" nowhere.x 1 >"$T/pub2.log" 2>&1 && fail "publish to a subject without stream succeeded"
    grep -q "no JetStream stream captures subject 'nowhere.x'" "$T/pub2.log" || fail "unclear publisher error"
    # a publish with an id already stored is acknowledged but stored once (dedup)
    "$PUB" publish "$URL" articles.news 10 >"$T/pub3.log" 2>&1 || fail "republish failed"
    "$NAHR" run -c "$T/run3.cfg" --until-idle 1 >"$T/run4.log" 2>&1 || fail "run 4 failed"
    [ "$(ids "$T/out3.jsonl" | wc -l)" = 0 ] || fail "duplicate publish (same msg id) was stored twice"
    ;;

kill)
    # two workers share one durable consumer; one dies of SIGKILL halfway
    N=10000
    config a ARTICLES 'articles.>' nahr "$T/a.jsonl"
    config b ARTICLES 'articles.>' nahr "$T/b.jsonl"
    "$NAHR" run -c "$T/a.cfg" --until-idle 1 >"$T/create.log" 2>&1 || fail "create run failed"
    publish articles.news $N >"$T/pub.log" 2>&1 || fail "publish failed"
    "$NAHR" run -c "$T/a.cfg" --until-idle 3 >"$T/a.log" 2>&1 &
    A=$!
    PIDS+=("$A")
    "$NAHR" run -c "$T/b.cfg" --until-idle 3 >"$T/b.log" 2>&1 &
    B=$!
    PIDS+=("$B")
    for _ in $(seq 1 600); do
        got=$(cat "$T/a.jsonl" "$T/b.jsonl" 2>/dev/null | wc -l)
        [ "$got" -ge $((N / 2)) ] && break
        sleep 0.05
    done
    kill -9 "$A"
    wait "$A" 2>/dev/null
    ina=$(ids "$T/a.jsonl" | wc -l)
    echo "killed worker A after $got records in total ($ina from A)"
    wait "$B"
    rc=$?
    [ "$rc" = 0 ] || fail "worker B exited $rc"
    [ "$ina" -gt 0 ] || fail "worker A wrote nothing before the kill: the test did not share the work"
    total=$(ids "$T/a.jsonl" "$T/b.jsonl" | wc -l)
    uniq=$(ids "$T/a.jsonl" "$T/b.jsonl" | sort -u | wc -l)
    echo "records: $total, distinct ids: $uniq, duplicates: $((total - uniq))"
    [ "$uniq" = $N ] || fail "lost articles: $uniq of $N distinct ids in the output"
    expect_drained ARTICLES nahr
    ;;

poison)
    # a failing article is dead-lettered once and acknowledged; the others pass
    config p ARTICLES 'articles.>' nahr "$T/p.jsonl"
    "$NAHR" run -c "$T/p.cfg" --until-idle 1 >"$T/create.log" 2>&1 || fail "create run failed"
    publish articles.news 300 --poison 17,250 >"$T/pub.log" 2>&1 || fail "publish failed"
    "$NAHR" run -c "$T/p.cfg" --until-idle 1 >"$T/p.log" 2>&1
    rc=$?
    [ "$rc" = 0 ] || [ "$rc" = 1 ] || fail "run exited $rc"
    [ "$(ids "$T/p.jsonl" | sort -u | wc -l)" = 298 ] || fail "expected 298 good articles"
    [ "$(grep -c '"id":"poison-' "$T/p.dead.jsonl")" = 2 ] || fail "expected 2 dead-letter records"
    grep -q '"id":"poison-000017"' "$T/p.dead.jsonl" || fail "poison-000017 not dead-lettered"
    expect_drained ARTICLES nahr
    cp "$T/p.dead.jsonl" "$T/dead.before"
    "$NAHR" run -c "$T/p.cfg" --until-idle 3 >"$T/p2.log" 2>&1 || fail "second run failed"
    cmp -s "$T/p.dead.jsonl" "$T/dead.before" || fail "a poison article came back after it was dead-lettered"

    # max_deliver: an article that kills its worker (tp_crash) is redelivered;
    # past max_deliver it is dead-lettered without running the stages again
    config c1 CRASH 'crash.>' crashers "$T/c1.jsonl" tp_crash 'max_deliver = 1;' 1
    sed -i 's/max_deliver = 5; nak/nak/' "$T/c1.cfg"
    "$NAHR" run -c "$T/c1.cfg" --until-idle 1 >"$T/c0.log" 2>&1 || fail "create run (crash) failed"
    publish crash.x 1 --prefix crash- >"$T/pub2.log" 2>&1 || fail "publish failed"
    "$NAHR" run -c "$T/c1.cfg" --until-idle 2 >"$T/c1.log" 2>&1 && fail "tp_crash did not crash"
    # a fresh dead-letter file, so the runner's own crash record does not decide
    config c2 CRASH 'crash.>' crashers "$T/c2.jsonl" tp_crash 'max_deliver = 1;' 1
    sed -i 's/max_deliver = 5; nak/nak/' "$T/c2.cfg"
    "$NAHR" run -c "$T/c2.cfg" --until-idle 4 >"$T/c2.log" 2>&1
    grep -q '"id":"crash-000001".*delivered 2 times without being acknowledged (max_deliver = 1)' \
        "$T/c2.dead.jsonl" || fail "crashing article not dead-lettered after max_deliver: $(cat "$T/c2.dead.jsonl" 2>&1)"
    expect_drained CRASH crashers
    ;;

sigterm)
    # SIGTERM: exit 0, whole records only, what was not acknowledged comes back
    N=3000
    config s1 ARTICLES 'articles.>' nahr "$T/s1.jsonl" tp_jitter '' 1
    config s2 ARTICLES 'articles.>' nahr "$T/s2.jsonl" tp_good
    "$NAHR" run -c "$T/s1.cfg" --until-idle 1 >"$T/create.log" 2>&1 || fail "create run failed"
    publish articles.news $N >"$T/pub.log" 2>&1 || fail "publish failed"
    "$NAHR" run -c "$T/s1.cfg" --until-idle 5 >"$T/s1.log" 2>&1 &
    S=$!
    PIDS+=("$S")
    for _ in $(seq 1 400); do
        [ "$(cat "$T/s1.jsonl" 2>/dev/null | wc -l)" -ge 200 ] && break
        sleep 0.02
    done
    kill -TERM "$S"
    wait "$S"
    rc=$?
    [ "$rc" = 0 ] || fail "SIGTERM: exit $rc, expected 0"
    n1=$(ids "$T/s1.jsonl" | wc -l)
    [ "$n1" -lt $N ] || fail "the run finished before SIGTERM: nothing tested"
    [ "$(wc -l <"$T/s1.jsonl")" = "$n1" ] || fail "half-written record after SIGTERM"
    [ -z "$(tail -c 1 "$T/s1.jsonl")" ] || fail "output does not end with a newline"
    echo "stopped after $n1 of $N"
    "$NAHR" run -c "$T/s2.cfg" --until-idle 3 >"$T/s2.log" 2>&1 || fail "second run failed"
    uniq=$(ids "$T/s1.jsonl" "$T/s2.jsonl" | sort -u | wc -l)
    total=$(ids "$T/s1.jsonl" "$T/s2.jsonl" | wc -l)
    echo "after the second run: $uniq distinct of $N, $((total - uniq)) duplicates"
    [ "$uniq" = $N ] || fail "articles lost across SIGTERM: $uniq of $N"
    expect_drained ARTICLES nahr
    ;;

*)
    echo "unknown case $CASE"
    exit 2
    ;;
esac
grep -h "publish failed once" "$T"/*.log 2>/dev/null # visible in the ctest log
echo "ok: nats $CASE"
exit 0
