#!/bin/bash
# nahr benchmark: throughput, CPU, peak RSS and per-stage time of the default
# pipeline and of each stage alone, with 1 and 2 workers, side by side with
# cat, uconv (ICU NFKC), grep -F (dictionary matching) and a plain Python
# pipeline on the same bytes; callgrind instructions per MB (stable on a noisy
# machine); peak RSS on 50 MB vs 500 MB of generated input.
#
#   bench/run.sh [--quick] [--memory] [--write] [CORPUS.jsonl]
#     CORPUS    default: ../shared/data/news/*.jsonl (SaudiNewsNet subset, 78 MB)
#     --quick   no callgrind, no baselines
#     --memory  also the 50 MB vs 500 MB memory check (about a minute more)
#     --write   also write docs/benchmarks-latest.md and docs/bench-throughput.svg
# Needs build/ (scripts/bootstrap demo) and the bench packages (scripts/bootstrap bench installs them).
set -eu
cd "$(dirname "$0")/.."
ROOT=$(pwd)
NAHR=${NAHR:-$ROOT/build/nahr}
PY=/usr/bin/python3
quick=0 memory=0 write=0 corpus=""
for a in "$@"; do
    case "$a" in
    --quick) quick=1 ;; --memory) memory=1 ;; --write) write=1 ;;
    -*) echo "bench: unknown option $a" >&2; exit 2 ;;
    *) corpus=$a ;;
    esac
done
[ -x "$NAHR" ] || { echo "bench: no $NAHR (build first: scripts/bootstrap demo)" >&2; exit 2; }
T=$(mktemp -d /tmp/nahr-bench-XXXXXX)
trap 'rm -rf "$T"' EXIT
if [ -z "$corpus" ]; then
    ls ../shared/data/news/*.jsonl >/dev/null 2>&1 || { echo "bench: ../shared/data/news missing; give a corpus" >&2; exit 2; }
    cat ../shared/data/news/*.jsonl >"$T/news.jsonl"
    corpus=$T/news.jsonl
    corpus_name="../shared/data/news/*.jsonl (SaudiNewsNet subset)"
else
    corpus_name=$corpus
fi
MB=$(stat -c %s "$corpus" | awk '{printf "%.2f", $1/1e6}')
NART=$(grep -c . "$corpus")
OUT=$T/report.md
rows=$T/rows.tsv
: >"$rows"

# default pipeline with its dead-letter file in the temp dir
sed "s|dead_letter = \"[^\"]*\";|dead_letter = \"$T/dl.jsonl\";|" configs/default.cfg >"$T/default.cfg"
stages=$(grep -oE 'plugin *= *"[a-z_]+"' configs/default.cfg | sed -E 's/.*"(.*)"/\1/' | grep -v '^export$' || true)
mkcfg() { # mkcfg NAME STAGE... -> config with those stages + JSONL export
    local name=$1; shift
    { echo "pipeline: { dead_letter = \"$T/dl.jsonl\"; stages = ("
      for s in "$@"; do echo "  { plugin = \"$s\"; },"; done
      echo "  { plugin = \"export\"; path = \"-\"; } ); };"; } >"$T/$name.cfg"
}
mkcfg pass

# measure LABEL CFG WORKERS INPUT -> one row: label workers wall cpu mb n rss stages
measure() {
    local label=$1 cfg=$2 w=$3 in=$4
    /usr/bin/time -f 'TIME %e %U %S %M' "$NAHR" run -c "$cfg" -w "$w" --no-progress "$in" >/dev/null 2>"$T/err" || true
    local sum st tm
    sum=$(grep -E '^nahr: [0-9]+ read' "$T/err" | tail -1)
    st=$(grep -E '^nahr: stage time' "$T/err" | sed 's/^nahr: stage time (summed over workers): //')
    tm=$(grep '^TIME' "$T/err")
    echo "$sum" | grep -q read || { echo "bench: run failed: $label: $(tail -3 "$T/err")" >&2; return; }
    local n mb wall cpu rss
    n=$(echo "$sum" | sed -E 's/^nahr: ([0-9]+) read.*/\1/')
    mb=$(echo "$sum" | sed -E 's/.*; ([0-9.]+) MB in .*/\1/')
    wall=$(echo "$tm" | awk '{print $2}')
    cpu=$(echo "$tm" | awk '{printf "%.2f", $3 + $4}')
    rss=$(echo "$tm" | awk '{printf "%.1f", $5/1024}')
    printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$label" "$w" "$wall" "$cpu" "$mb" "$n" "$rss" "$st" >>"$rows"
}

# best of 3 for the main rows: a loaded machine only ever makes runs slower
best_of() { # best_of LABEL CFG W IN
    local saved=$rows best="" bw=999999 i
    for i in 1 2 3; do
        rows=$T/one.tsv; : >"$rows"
        measure "$@"
        local w
        w=$(cut -f3 "$rows" 2>/dev/null || echo 999999)
        if [ -s "$rows" ] && awk -v a="$w" -v b="$bw" 'BEGIN{exit !(a<b)}'; then bw=$w; best=$(cat "$rows"); fi
    done
    rows=$saved
    [ -n "$best" ] && echo "$best" >>"$rows"
    return 0
}

for w in 1 2; do best_of pass-through "$T/pass.cfg" $w "$corpus"; done
# the default pipeline in interleaved pairs (1 worker, then 2): the table takes the best of each, the
# scaling line the median of the three pairs' ratios (a ratio of two minima rewards one lucky run)
pairs=$T/pairs.tsv
: >"$pairs"
saved_rows=$rows
# the machine's own scaling, in the same rounds: two independent 1-worker processes, each on one half of
# the corpus, at the same time (no shared runner, queue or cache: what 2 cores give this work here)
split -n l/2 -d --additional-suffix=.jsonl "$corpus" "$T/half." # .jsonl: the reader goes by the suffix
twohalves() { # -> wall seconds of both halves run at once
    local a b p0 p1 ok=1
    a=$(date +%s.%N)
    "$NAHR" run -c "$T/default.cfg" -w 1 -q "$T/half.00.jsonl" >/dev/null 2>&1 &
    p0=$!
    "$NAHR" run -c "$T/default.cfg" -w 1 -q "$T/half.01.jsonl" >/dev/null 2>&1 &
    p1=$!
    # exit 1 = some articles dead-lettered (counted, as in the other runs); 2 and up: the run failed
    wait $p0 || [ $? = 1 ] || ok=0
    wait $p1 || [ $? = 1 ] || ok=0
    b=$(date +%s.%N)
    [ $ok = 1 ] || { echo "bench: a half run failed" >&2; echo 0; return; }
    awk -v a="$a" -v b="$b" 'BEGIN {printf "%.2f", b - a}'
}
for i in 1 2 3; do
    for w in 1 2; do
        rows=$T/pair-$w-$i.tsv; : >"$rows"
        measure default "$T/default.cfg" $w "$corpus"
    done
    printf '%s\t%s\t%s\n' "$(cut -f3 "$T/pair-1-$i.tsv")" "$(cut -f3 "$T/pair-2-$i.tsv")" "$(twohalves)" >>"$pairs"
done
rows=$saved_rows
for w in 1 2; do cat "$T"/pair-$w-*.tsv | sort -t"$(printf '\t')" -k3,3g | head -1 >>"$rows"; done
for s in $stages; do mkcfg "only-$s" "$s"; best_of "$s alone (+export)" "$T/only-$s.cfg" 1 "$corpus"; done
# the dictionary stage alone: entities with its gazetteers only (no model, rules, coreference, dates, numbers),
# the work grep -F does below
if echo "$stages" | grep -qx entities; then
    { echo "pipeline: { dead_letter = \"$T/dl.jsonl\"; stages = ("
      echo "  { plugin = \"entities\"; model = \"\"; rules = false; coref = false; dates = false; numbers = false; },"
      echo "  { plugin = \"export\"; path = \"-\"; } ); };"; } >"$T/only-dict.cfg"
    best_of "entities lists only (+export)" "$T/only-dict.cfg" 1 "$corpus"
    # the work the Python baseline does: cleaning, dictionary matching, lexicon sentiment, JSON out
    { echo "pipeline: { dead_letter = \"$T/dl.jsonl\"; stages = ("
      echo "  { plugin = \"clean\"; },"
      echo "  { plugin = \"entities\"; model = \"\"; rules = false; coref = false; dates = false; numbers = false; },"
      echo "  { plugin = \"sentiment\"; model = \"\"; },"
      echo "  { plugin = \"export\"; path = \"-\"; } ); };"; } >"$T/comparable.cfg"
    for w in 1 2; do best_of "like the Python pipeline: clean + lists + lexicon sentiment" "$T/comparable.cfg" $w "$corpus"; done
fi

# start-up: config, plugins, data and models loaded, no article
start=$( { /usr/bin/time -f '%e' "$NAHR" run -c "$T/default.cfg" -q - </dev/null >/dev/null; } 2>&1 | tail -1)

{
echo "# nahr benchmark"
echo
echo "- machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(free -g | awk '/Mem:/{print $2}') GiB"
echo "- commit: $(git rev-parse --short HEAD 2>/dev/null || echo '?'), $(date -u +%Y-%m-%d)"
echo "- command: \`bench/run.sh $*\`"
echo "- corpus: $corpus_name — $MB MB, $NART articles"
echo "- start-up of the default pipeline (config, plugins, data, models; no article): ${start} s"
echo
echo "Wall times are the best of 3 runs. MB/s per core = MB / CPU seconds (user + system)."
echo
echo "| run | workers | wall s | CPU s | MB/s | MB/s per core | articles/s | articles/s per core | peak RSS MB | time per stage (ms, summed over workers) |"
echo "|---|---|---|---|---|---|---|---|---|---|"
awk -F'\t' '{printf "| %s | %s | %s | %s | %.1f | %.1f | %.0f | %.0f | %s | %s |\n", $1, $2, $3, $4, $5/$3, $5/($4>0?$4:1), $6/$3, $6/($4>0?$4:1), $7, $8}' "$rows"
echo
awk -F'\t' '$1=="default" && $2==1 {w1=$3} $1=="default" && $2==2 {w2=$3} END {if (w1 && w2) printf "Scaling, default pipeline: %.2fx with 2 workers (best of 3 each); ", w1/w2}' "$rows"
awk -F'\t' '$1 > 0 && $2 > 0 {r[n++] = $1 / $2} END {if (n == 3) {
    for (i = 0; i < 3; i++) for (j = i + 1; j < 3; j++) if (r[j] < r[i]) {t = r[i]; r[i] = r[j]; r[j] = t}
    printf "in three interleaved pairs %.2fx, %.2fx, %.2fx: median **%.2fx**.\n\n", r[0], r[1], r[2], r[1] } else print "\n"}' "$pairs"
awk -F'\t' '$1 > 0 && $3 > 0 {r[n++] = $1 / $3} END {if (n == 3) {
    for (i = 0; i < 3; i++) for (j = i + 1; j < 3; j++) if (r[j] < r[i]) {t = r[i]; r[i] = r[j]; r[j] = t}
    printf "The machine'"'"'s own scaling for this work, in the same rounds: two independent 1-worker processes, each on half of the corpus, at once (no shared runner) against the 1-worker run of the round: %.2fx, %.2fx, %.2fx: median **%.2fx** (the ceiling the runner'"'"'s 2 workers are measured against).\n\n", r[0], r[1], r[2], r[1] }}' "$pairs"
} >"$OUT"

# baseline LABEL WHAT OUTFILE CMD... -> one table row; wall and CPU seconds (user + sys) in $T/bl_wall, $T/bl_cpu
baseline() {
    local label=$1 what=$2 out=$3; shift 3
    local tm w c
    tm=$( { /usr/bin/time -f 'TIME %e %U %S' "$@" >"$out"; } 2>&1 | grep '^TIME' | tail -1)
    w=$(echo "$tm" | awk '{print $2}'); c=$(echo "$tm" | awk '{printf "%.2f", $3 + $4}')
    echo "$w" >"$T/bl_wall"; echo "$c" >"$T/bl_cpu"
    echo "| $label | $what | $w | $c | $(awk -v m=$MB -v t=$w 'BEGIN{printf "%.1f", m/(t>0?t:0.01)}') | $(awk -v m=$MB -v t=$c 'BEGIN{printf "%.1f", m/(t>0?t:0.01)}') |"
}

if [ $quick = 0 ]; then
    {
    echo "## Baselines on the same bytes"
    echo
    echo "| tool | what | wall s | CPU s | MB/s | MB/s per core |"
    echo "|---|---|---|---|---|---|"
    baseline cat "the I/O limit" /dev/null cat "$corpus"
    if command -v uconv >/dev/null; then
        baseline "uconv -x NFKC" "ICU normalisation alone" /dev/null uconv -f utf-8 -t utf-8 -x NFKC "$corpus"
    fi
    gaz=$(ls plugins/entities/data/*.txt 2>/dev/null | head -50 || true)
    if [ -n "$gaz" ]; then
        cat $gaz | grep -v '^#' | cut -f1 | awk 'length($0) > 2' | sort -u >"$T/words.txt"
        # output to a real file: with stdout on /dev/null GNU grep stops at the first match
        baseline "grep -F -o -f (gazetteer lists, $(wc -l <"$T/words.txt") entries)" "dictionary matching alone" \
            "$T/grep.out" grep -F -o -f "$T/words.txt" "$corpus"
        cp "$T/bl_cpu" "$T/grep_t"
    fi
    # the sentiment plugin's default lexicons, in its order (later files override)
    lex=""
    for f in nileulex news_cues modifiers; do
        if [ -f plugins/sentiment/data/$f.tsv ]; then lex="$lex plugins/sentiment/data/$f.tsv"; fi
    done
    if [ -n "$gaz" ] && [ -n "$lex" ] && $PY -c 'import ahocorasick' 2>/dev/null; then
        baseline "Python (re + ahocorasick + lexicon + json)" "the pipeline a user would write, 1 core" /dev/null \
            sh -c "$PY bench/python_pipeline.py plugins/entities/data $lex <'$corpus'"
        cp "$T/bl_cpu" "$T/py_t"; cp "$T/bl_wall" "$T/py_w"
    else
        echo "| Python pipeline | skipped (needs python3-ahocorasick and the plugins' data) | | | | |"
    fi
    echo
    # ratios: CPU time against CPU time, so a loaded machine does not bias them
    echo "Ratios (MB per CPU second, nahr with 1 worker):"
    echo
    awk -F'\t' -v py="$(cat "$T/py_t" 2>/dev/null)" -v pyw="$(cat "$T/py_w" 2>/dev/null)" -v gr="$(cat "$T/grep_t" 2>/dev/null)" -v mb=$MB '
        $1=="default" && $2==1 {d=$5/($4>0?$4:1)}
        $1=="entities lists only (+export)" {e=$5/($4>0?$4:1)}
        $1 ~ /^like the Python pipeline/ && $2==1 {c=$5/($4>0?$4:1)}
        $1 ~ /^like the Python pipeline/ && $2==2 {c2=$5/($3>0?$3:1)}
        END {
            if (py > 0 && c) printf "- the same work as the Python pipeline (clean + lists + lexicon sentiment) vs Python: %.1f vs %.1f MB/s per core: nahr %.2fx\n", c, mb/py, c/(mb/py)
            if (pyw > 0 && c2) printf "- the same work, wall clock on this machine (nahr with 2 workers; the Python script uses one core): %.1f vs %.1f MB/s: nahr %.2fx\n", c2, mb/pyw, c2/(mb/pyw)
            if (py > 0 && d) printf "- default pipeline vs the Python pipeline: %.1f vs %.1f MB/s per core: nahr %.2fx\n", d, mb/py, d/(mb/py)
            if (gr > 0 && e) printf "- entities lists only vs grep -F: %.1f vs %.1f MB/s per core: nahr %.2fx\n", e, mb/gr, e/(mb/gr)
        }' "$rows"
    echo
    } >>"$OUT"

    # callgrind: instructions per MB, repeatable on a loaded machine
    if command -v valgrind >/dev/null; then
        head -c 2000000 "$corpus" | head -n -1 >"$T/sample.jsonl"
        SMB=$(stat -c %s "$T/sample.jsonl" | awk '{printf "%.3f", $1/1e6}')
        {
        echo "## Instructions per MB (valgrind --tool=callgrind, ${SMB} MB sample, 1 worker)"
        echo
        echo "| run | instructions per MB (millions) |"
        echo "|---|---|"
        for cfg in pass default $(for s in $stages; do echo "only-$s"; done) $([ -f "$T/only-dict.cfg" ] && echo only-dict); do
            valgrind --tool=callgrind --callgrind-out-file="$T/cg.out" "$NAHR" run -c "$T/$cfg.cfg" -w 1 -q "$T/sample.jsonl" >/dev/null 2>"$T/cg.err" || true
            ir=$(grep -E '^(summary|totals):' "$T/cg.out" | head -1 | awk '{print $2}')
            echo "| $cfg | $(awk -v i=${ir:-0} -v m=$SMB 'BEGIN{printf "%.0f", i/m/1e6}') |"
        done
        echo
        # who does the work: instructions per thread of the default pipeline. The
        # reader and the writer (ordered stages, output) run beside the workers, so
        # 2 workers on 2 cores can be at most 2 x worker / (worker + reader + writer)
        # times faster than 1 worker: a ceiling that does not depend on the load.
        valgrind --tool=callgrind --separate-threads=yes --callgrind-out-file="$T/cgt.out" "$NAHR" run \
            -c "$T/default.cfg" -w 1 -q "$T/sample.jsonl" >/dev/null 2>"$T/cg.err" || true
        incl() { # incl FUNCTION -> its inclusive instructions over the per-thread files
            for f in "$T"/cgt.out-*; do callgrind_annotate --inclusive=yes "$f" 2>/dev/null; done |
                awk -v fn="$1" '$0 ~ ":"fn" " {gsub(",", "", $1); s += $1} END {print s + 0}'
        }
        # the writer is the main thread's run loop once the stages are set up
        wk=$(incl worker_main) rd=$(incl reader_main)
        wr=$(( $(incl nahr__run) - $(incl stages_init) - $(incl stages_destroy) ))
        awk -v w="$wk" -v r="$rd" -v o="$wr" -v m=$SMB 'BEGIN { t = w + r + o; if (t > 0)
            printf "Per thread, default pipeline (callgrind --separate-threads, 1 worker): workers %.1f %%, reader (parsing, ordered PRE stages) %.1f %%, writer (ordered POST stages, output) %.1f %% of the per-article instructions (%.0f M per MB); ceiling for 2 workers on 2 cores: %.2fx.\n\n", 100*w/t, 100*r/t, 100*o/t, t/m/1e6, 2*w/t }'
        } >>"$OUT"
    fi
fi

if [ $memory = 1 ]; then
    $PY bench/gen_jsonl.py 50 1 >"$T/g50.jsonl"
    $PY bench/gen_jsonl.py 500 2 >"$T/g500.jsonl"
    r50=$( { /usr/bin/time -f '%M' "$NAHR" run -c "$T/default.cfg" -w 2 -q "$T/g50.jsonl" >/dev/null; } 2>&1 | tail -1)
    r500=$( { /usr/bin/time -f '%M' "$NAHR" run -c "$T/default.cfg" -w 2 -q "$T/g500.jsonl" >/dev/null; } 2>&1 | tail -1)
    {
    echo "## Memory is bounded by design"
    echo
    echo "Default pipeline, 2 workers, generated JSONL (bench/gen_jsonl.py): peak RSS $(awk -v r=$r50 'BEGIN{printf "%.1f", r/1024}') MB on 50 MB, $(awk -v r=$r500 'BEGIN{printf "%.1f", r/1024}') MB on 500 MB ($(awk -v a=$r50 -v b=$r500 'BEGIN{printf "%+.1f%%", (b-a)*100/a}'))."
    echo
    } >>"$OUT"
fi

cat "$OUT"
if [ $write = 1 ]; then
    cp "$OUT" docs/benchmarks-latest.md
    if command -v gnuplot >/dev/null; then
        awk -F'\t' '{gsub(/ /, "_", $1); printf "%s_w%s %.2f\n", $1, $2, $5/$3}' "$rows" >"$T/plot.dat"
        gnuplot <<GP
set terminal svg size 900,420 font "sans,11"
set output "docs/bench-throughput.svg"
set title "nahr throughput (MB/s) on $(basename "$corpus_name" | sed 's/_/ /g'), $(git rev-parse --short HEAD 2>/dev/null)"
set style fill solid 0.8
set boxwidth 0.6
set ylabel "MB/s"
set xtics rotate by -30 noenhanced
set grid ytics
unset key
plot "$T/plot.dat" using 0:2:xtic(1) with boxes lc rgb "#2a6f97"
GP
    fi
    echo "bench: wrote docs/benchmarks-latest.md and docs/bench-throughput.svg" >&2
fi
