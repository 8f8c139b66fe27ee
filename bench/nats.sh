#!/bin/bash
# Throughput through NATS JetStream on loopback vs stdin, same pipeline and
# the same articles (issue 10: NATS must reach at least 80% of stdin).
#
#   bench/nats.sh [--workers N] [--batch N] [--repeat N] [CORPUS.jsonl]
#     CORPUS     default: ../shared/data/news/*.jsonl, else 20 MB from bench/gen_jsonl.py
#     --workers  nahr workers (default 2)
#     --batch    NATS fetch batch (default 256)
#     --repeat   runs of each kind, best kept (default 3)
#   STAGES='( {...}, ... )' overrides the pipeline (default: the stages of
#   configs/default.cfg that are built - clean_repeats, clean, entities,
#   sentiment - and a JSONL export to a file); STAGES=passthrough: the export
#   alone (what the input costs, nothing else).
# Needs build/nahr and build/tests/nats/nats_pubtool (a build with libnats)
# and nats-server (Debian). Starts its own server on 127.0.0.1 (free port,
# temporary store); nothing else is touched.
set -eu
cd "$(dirname "$0")/.."
ROOT=$(pwd)
BUILD=${NAHR_BUILD_DIR:-$ROOT/build}
NAHR=${NAHR:-$BUILD/nahr}
PUB=$BUILD/tests/nats/nats_pubtool
workers=2 batch=256 repeat=3 corpus=""
while [ $# -gt 0 ]; do
    case "$1" in
    --workers) workers=$2; shift 2 ;;
    --batch) batch=$2; shift 2 ;;
    --repeat) repeat=$2; shift 2 ;;
    -*) echo "bench/nats.sh: unknown option $1" >&2; exit 2 ;;
    *) corpus=$1; shift ;;
    esac
done
[ -x "$NAHR" ] || { echo "bench/nats.sh: no $NAHR (build first)" >&2; exit 2; }
[ -x "$PUB" ] || { echo "bench/nats.sh: no $PUB (build with libnats-dev installed)" >&2; exit 2; }
SERVER=$(command -v nats-server || echo /usr/sbin/nats-server)
[ -x "$SERVER" ] || { echo "bench/nats.sh: nats-server not installed" >&2; exit 2; }

T=$(mktemp -d /tmp/nahr-bench-nats-XXXXXX)
trap '[ -f "$T/server.pid" ] && kill "$(cat "$T/server.pid")" 2>/dev/null; sleep 0.2; rm -rf "$T"' EXIT

if [ -z "$corpus" ]; then
    if ls ../shared/data/news/*.jsonl >/dev/null 2>&1; then
        cat ../shared/data/news/*.jsonl >"$T/corpus.jsonl"
    else
        python3 bench/gen_jsonl.py 20 >"$T/corpus.jsonl"
    fi
    corpus=$T/corpus.jsonl
fi
[ -s "$corpus" ] || { echo "bench/nats.sh: empty corpus $corpus" >&2; exit 2; }
NART=$(grep -c . "$corpus")
MB=$(stat -c %s "$corpus" | awk '{printf "%.1f", $1/1e6}')

if [ "${STAGES:-}" = passthrough ]; then
    STAGES="( { plugin = \"export\"; format = \"jsonl\"; path = \"$T/out.jsonl\"; } )"
elif [ -z "${STAGES:-}" ]; then
    plugins=$("$NAHR" plugins 2>/dev/null || true)
    STAGES="( "
    for p in clean_repeats clean entities sentiment; do
        echo "$plugins" | grep -q "^$p " && STAGES+="{ plugin = \"$p\"; }, "
    done
    STAGES+="{ plugin = \"export\"; format = \"jsonl\"; path = \"$T/out.jsonl\"; } )"
fi

"$SERVER" -js -a 127.0.0.1 -p -1 -sd "$T/store" --ports_file_dir "$T" -l "$T/server.log" &
echo $! >"$T/server.pid"
URL=""
for _ in $(seq 1 50); do
    URL=$(cat "$T"/*.ports 2>/dev/null | grep -o 'nats://[^"]*' | head -n 1)
    [ -n "$URL" ] && break
    sleep 0.1
done
[ -n "$URL" ] || { echo "bench/nats.sh: nats-server did not start" >&2; exit 2; }

cat >"$T/stdin.cfg" <<EOF
pipeline: { workers = $workers; dead_letter = "$T/dead.jsonl"; stages = $STAGES; };
EOF
IDLE=0.5
nats_cfg() { # durable
    cat >"$T/nats.cfg" <<EOF
pipeline: { workers = $workers; dead_letter = "$T/dead.jsonl";
  input: { type = "nats"; url = "$URL"; stream = "BENCH"; subjects = "bench.>"; durable = "$1"; batch = $batch; };
  stages = $STAGES; };
EOF
}

# seconds from the run summary ("... in 1.23 s ...")
secs_of() {
    local s
    s=$(sed -n 's/.* in \([0-9.]*\) s .*/\1/p' "$1" | tail -n 1)
    [ -n "$s" ] || { echo "bench/nats.sh: no summary in the run's log:" >&2; tail -n 5 "$1" >&2; exit 1; }
    echo "$s"
}

nats_cfg setup
"$NAHR" run -c "$T/nats.cfg" --until-idle 0.2 >"$T/setup.log" 2>&1 || { cat "$T/setup.log" >&2; exit 1; }
t0=$(date +%s.%N)
"$PUB" file "$URL" bench.in "$corpus" >"$T/pub.log" 2>&1 || { cat "$T/pub.log" >&2; exit 1; }
t1=$(date +%s.%N)
pub_rate=$(awk -v n="$NART" -v a="$t0" -v b="$t1" 'BEGIN{printf "%.0f", n/(b-a)}')

best_stdin=0 best_nats=0
for i in $(seq 1 "$repeat"); do
    "$NAHR" run -c "$T/stdin.cfg" --no-progress - <"$corpus" >"$T/stdin.log" 2>&1 || true
    s=$(secs_of "$T/stdin.log")
    r=$(awk -v n="$NART" -v s="$s" 'BEGIN{printf "%.0f", (s > 0 ? n / s : 0)}')
    [ "$r" -gt "$best_stdin" ] && best_stdin=$r
    # a new durable consumer per run reads the whole stream again
    nats_cfg "run$i"
    "$NAHR" run -c "$T/nats.cfg" --no-progress --until-idle $IDLE >"$T/nats.log" 2>&1 || { tail -n 5 "$T/nats.log" >&2; exit 1; }
    s=$(secs_of "$T/nats.log")
    n=$(sed -n 's/^nahr: \([0-9]*\) read.*/\1/p' "$T/nats.log" | tail -n 1)
    [ "$n" = "$NART" ] || { echo "bench/nats.sh: NATS run read $n of $NART" >&2; exit 1; }
    r=$(awk -v n="$NART" -v s="$s" -v i=$IDLE 'BEGIN{printf "%.0f", (s > i ? n / (s - i) : 0)}')
    [ "$r" -gt "$best_nats" ] && best_nats=$r
done
mbs() { awk -v r="$1" -v n="$NART" -v mb="$MB" 'BEGIN{printf "%.1f", r*mb/n}'; }
echo "corpus: $corpus ($NART articles, $MB MB); workers=$workers batch=$batch; best of $repeat"
echo "pipeline: $STAGES" | sed "s#$T#\$TMP#g"
printf "%-28s %12s %10s\n" "input" "articles/s" "MB/s"
printf "%-28s %12s %10s\n" "stdin (JSONL)" "$best_stdin" "$(mbs "$best_stdin")"
printf "%-28s %12s %10s\n" "NATS JetStream (loopback)" "$best_nats" "$(mbs "$best_nats")"
printf "%-28s %12s %10s\n" "(publishing, nats_pubtool)" "$pub_rate" "$(mbs "$pub_rate")"
awk -v a="$best_nats" -v b="$best_stdin" 'BEGIN{printf "NATS / stdin: %.0f%% (issue 10 asks for >= 80%%)\n", (b > 0 ? 100 * a / b : 0)}'
