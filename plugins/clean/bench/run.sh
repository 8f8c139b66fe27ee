#!/bin/sh
# Clean-only throughput next to ICU's uconv over the same bytes.
#   plugins/clean/bench/run.sh BUILD_DIR [FILES...]
# default FILES: $NAHR_SHARED_DIR/data/news/*.jsonl (NAHR_SHARED_DIR defaults to ../shared)
set -e
build=${1:?usage: run.sh BUILD_DIR [FILES...]}
shift
here=$(cd "$(dirname "$0")" && pwd)
src=$(cd "$here/../../.." && pwd)
shared=${NAHR_SHARED_DIR:-$src/../shared}
[ $# -gt 0 ] || set -- "$shared"/data/news/*.jsonl
cmake --build "$build" --target bench_clean >/dev/null
dump=$(mktemp)
trap 'rm -f "$dump"' EXIT
NAHR_SOURCE_DIR=$src "$build/plugins/clean/bench_clean" -r 3 -d "$dump" "$@"
NAHR_SOURCE_DIR=$src "$build/plugins/clean/bench_clean" -r 3 -f nfkc "$@" | tail -1
bytes=$(wc -c < "$dump")
# uconv's CPU time (user + sys), best of 3, like bench_clean's
for form in NFKC NFC; do
  times=""
  for r in 1 2 3; do
    t=$( { /usr/bin/time -f "%U %S" uconv -f utf-8 -t utf-8 -x "$form" < "$dump" > /dev/null; } 2>&1 | awk '{print $1+$2}')
    times="$times $t"
  done
  echo "$times" | awk -v b="$bytes" -v f="$form" '{m=$1; for(i=2;i<=NF;i++) if($i<m) m=$i;
    printf "uconv -x %s: %.3f s CPU  %.1f MB/s  [best of 3]\n", f, m, b/1e6/m}'
done
