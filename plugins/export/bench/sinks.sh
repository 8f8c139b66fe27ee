#!/bin/bash
# Throughput of each export sink on ../shared/data/news/ (or the files/dirs
# given after the binary). For each sink: an export-only run (the sink alone
# bounds the speed) and, when the analysis plugins are built, the default
# pipeline (clean, entities, sentiment) plus that sink. Prints articles/s of
# the run, of the export stage (articles / its wall-clock stage time) and of
# the sink's CPU time on the exporter thread (logged by the plugin; the
# figure to compare on a busy machine).
# PostgreSQL is measured when PG* points at a server (or BENCH_PG=1 starts a
# throw-away one, as the tests do).
# Usage: sinks.sh path/to/nahr [INPUT...]
set -u
NAHR=$(realpath "${1:-build/nahr}"); shift || true
HERE=$(cd "$(dirname "$0")" && pwd)
INPUT=("$@")
[ ${#INPUT[@]} = 0 ] && INPUT=("${NAHR_SHARED_DIR:-$HERE/../../../../shared}/data/news")
T=$(mktemp -d /tmp/nahr-export-bench-XXXXXX); chmod 755 "$T"
. "$HERE/../../../tests/plugins/export/pg.sh"
trap 'pg_stop; rm -rf "$T"' EXIT
HAVE_PG=0
if [ "${BENCH_PG:-0}" = 1 ]; then pg_start "$T" && HAVE_PG=1 || echo "# no PostgreSQL: $PG_SKIP"; 
elif psql -X -A -t -c "select 1" >/dev/null 2>&1; then HAVE_PG=1; fi
BUILD=$(dirname "$NAHR")
ANALYSIS=""
[ -e "$BUILD/plugins/clean.so" ] && [ -e "$BUILD/plugins/entities.so" ] && [ -e "$BUILD/plugins/sentiment.so" ] &&
    ANALYSIS='{ plugin = "clean"; }, { plugin = "entities"; }, { plugin = "sentiment"; },'
sinks=("jsonl|path = \"$T/o.jsonl\";" "jsonl.gz|path = \"$T/o.jsonl.gz\";" "jsonl.zst|path = \"$T/o.jsonl.zst\";"
       "csv|format = \"csv\"; path = \"$T/o.csv\";" "sqlite|format = \"sqlite\"; path = \"$T/o.db\";")
[ $HAVE_PG = 1 ] && sinks+=("postgres|format = \"postgres\"; schema = \"nahr_bench\";")
printf "%-10s %-9s %9s %10s %13s %13s\n" sink pipeline articles "run art/s" "stage art/s" "sink CPU art/s"
for s in "${sinks[@]}"; do
    name=${s%%|*}; opts=${s#*|}
    for pipe in export default; do
        [ $pipe = default ] && [ -z "$ANALYSIS" ] && continue
        pre=""; [ $pipe = default ] && pre=$ANALYSIS
        rm -f "$T"/o.*
        [ $name = postgres ] && psql -X -q -c "drop schema if exists nahr_bench cascade" >/dev/null 2>&1
        echo "pipeline: { workers = 2; stages = ( $pre { plugin = \"export\"; $opts } ); };" >"$T/b.cfg"
        "$NAHR" run -c "$T/b.cfg" "${INPUT[@]}" >/dev/null 2>"$T/err" || { echo "$name: run failed: $(tail -2 "$T/err")"; continue; }
        n=$(sed -n 's/^nahr: \([0-9]*\) read.*/\1/p' "$T/err")
        rate=$(sed -n 's/.*MB\/s, \([0-9]*\) articles\/s.*/\1/p' "$T/err")
        ms=$(sed -n 's/.*export \([0-9.]*\) ms.*/\1/p' "$T/err")
        cpu=$(sed -n 's/.*ms CPU in the sink (\([0-9]*\) articles\/s).*/\1/p' "$T/err")
        printf "%-10s %-9s %9s %10s %13s %13s\n" "$name" $pipe "$n" "$rate" \
            "$(python3 -c "print(int($n/($ms/1000)) if $ms > 0 else 0)")" "$cpu"
    done
done
