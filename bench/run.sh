#!/bin/bash
# Throughput benchmark: prints MB/s, articles/s, peak RSS and per-stage time
# for the pass-through pipeline (export only) and the default pipeline, with 1
# and 2 workers, on a named corpus.
#   bench/run.sh [CORPUS.jsonl]   default: ../shared/data/news/*.jsonl (SaudiNewsNet subset, 78 MB)
#   BENCH_GEN_MB=100 bench/run.sh   also runs a generated stream of that many MB
# Needs a build in build/ (scripts/bootstrap demo). Figures go to stdout as a Markdown table.
set -eu
cd "$(dirname "$0")/.."
ROOT=$(pwd)
NAHR=${NAHR:-$ROOT/build/nahr}
[ -x "$NAHR" ] || { echo "bench: no $NAHR (build first: scripts/bootstrap demo)" >&2; exit 2; }
command -v /usr/bin/time >/dev/null || { echo "bench: needs /usr/bin/time (Debian package 'time')" >&2; exit 2; }
T=$(mktemp -d /tmp/nahr-bench-XXXXXX)
trap 'rm -rf "$T"' EXIT

corpora=()
if [ $# -ge 1 ]; then
    corpora+=("$1")
elif ls ../shared/data/news/*.jsonl >/dev/null 2>&1; then
    cat ../shared/data/news/*.jsonl >"$T/news.jsonl"
    corpora+=("$T/news.jsonl")
else
    echo "bench: ../shared/data/news not found; give a JSONL corpus as argument" >&2
fi
if [ -n "${BENCH_GEN_MB:-}" ]; then
    python3 bench/gen_jsonl.py "$BENCH_GEN_MB" >"$T/generated.jsonl"
    corpora+=("$T/generated.jsonl")
fi
[ ${#corpora[@]} -gt 0 ] || exit 2

cat >"$T/pass.cfg" <<CFG
pipeline: { dead_letter = "$T/dl.jsonl"; stages = ( { plugin = "export"; path = "-"; } ); };
CFG
sed "s|dead_letter = \"rejected.jsonl\";|dead_letter = \"$T/dl.jsonl\";|" configs/default.cfg >"$T/default.cfg"

echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'); commit $(git rev-parse --short HEAD 2>/dev/null || echo '?')"
echo
echo "| corpus | pipeline | workers | MB | articles | wall s | MB/s | articles/s | peak RSS MB | stage time (ms, summed over workers) |"
echo "|---|---|---|---|---|---|---|---|---|---|"
for corpus in "${corpora[@]}"; do
    for cfg in pass default; do
        for w in 1 2; do
            /usr/bin/time -v "$NAHR" run -c "$T/$cfg.cfg" -w "$w" --no-progress "$corpus" >/dev/null 2>"$T/err" || true
            sum=$(grep -E '^nahr: [0-9]+ read' "$T/err" | tail -1)
            stages=$(grep -E '^nahr: stage time' "$T/err" | sed 's/^nahr: stage time (summed over workers)://')
            rss=$(awk '/Maximum resident set size/ {printf "%.1f", $6/1024}' "$T/err")
            wall=$(echo "$sum" | sed -E 's/.* MB in ([0-9.]+) s .*/\1/')
            mb=$(echo "$sum" | sed -E 's/.*; ([0-9.]+) MB in .*/\1/')
            n=$(echo "$sum" | sed -E 's/^nahr: ([0-9]+) read.*/\1/')
            mbs=$(echo "$sum" | sed -E 's/.*\(([0-9.]+) MB\/s.*/\1/')
            aps=$(echo "$sum" | sed -E 's/.*, ([0-9.]+) articles\/s.*/\1/')
            echo "| $(basename "$corpus") | $cfg | $w | $mb | $n | $wall | $mbs | $aps | $rss |$stages |"
        done
    done
done
