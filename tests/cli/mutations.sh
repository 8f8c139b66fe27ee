#!/bin/bash
# Damaged input, every reader path: JSONL plain, gzip, zstd, UTF-16 and
# Windows-1256 (with --encoding WINDOWS-1256, and auto), .txt and .html, each cut, with bytes
# flipped, inserted or a chunk repeated (a fixed seed: the same files every
# run). For each file nahr must not crash (exit 0 or 1, never a signal or 2),
# must print its summary, and must account for every record it read:
# read = exported + skipped + dead-lettered, exported = lines on stdout,
# dead-lettered = records in the dead-letter file, each with a reason.
# Usage: mutations.sh path/to/nahr
set -u
NAHR=$(realpath "${1:-build/nahr}")
BUILD=$(dirname "$NAHR")
T=$(mktemp -d /tmp/nahr-mut-XXXXXX)
trap 'rm -rf "$T"' EXIT
cd "$T"
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

python3 - <<'PY'
import gzip, json, random, subprocess
random.seed(20261124)
words = "عاد الوفد إلى الرباط بعد جولة في المدن الساحلية وقال المتحدث إن nahr المفاوضات ستستأنف".split()
def article(i):
    return " ".join(random.choice(words) for _ in range(5 + i % 40)) + "."
recs = "".join(json.dumps({"id": "m%d" % i, "text": article(i), "n": i * 0.5}, ensure_ascii=False) + "\n"
               for i in range(60))
zst = subprocess.run(["zstd", "-q", "-c"], input=recs.encode(), capture_output=True, check=True).stdout
cp = "".join(json.dumps({"id": "c%d" % i, "text": article(i)}, ensure_ascii=False) + "\n" for i in range(30))
bases = {
    "plain.jsonl": recs.encode(),
    "gz.jsonl.gz": gzip.compress(recs.encode(), mtime=0),
    "zst.jsonl.zst": zst,
    "u16.jsonl": recs.encode("utf-16"),
    "cp.jsonl": cp.encode("cp1256"),
    "a.txt": article(33).encode(),
    "u16.txt": article(34).encode("utf-16"),
    "p.html": ("<html><head><meta charset=\"windows-1256\"></head><p>%s</p></html>" % article(35)).encode("cp1256"),
}
def mutate(b, k):
    b = bytearray(b)
    kind = k % 4
    if kind == 0 and len(b) > 2:                      # cut
        return bytes(b[: random.randrange(1, len(b))])
    if kind == 1:                                      # flip bytes
        for _ in range(1 + random.randrange(8)):
            if b:
                b[random.randrange(len(b))] = random.randrange(256)
        return bytes(b)
    if kind == 2:                                      # insert junk
        at = random.randrange(len(b) + 1)
        return bytes(b[:at]) + bytes(random.randrange(256) for _ in range(1 + random.randrange(40))) + bytes(b[at:])
    at = random.randrange(len(b) + 1)                  # repeat a chunk
    n = random.randrange(1, 200)
    return bytes(b[:at]) + bytes(b[at:at + n]) * 2 + bytes(b[at + n:])
with open("list", "w") as f:
    for name, b in bases.items():
        for k in range(8):
            out = "m%d_%s" % (k, name)
            open(out, "wb").write(mutate(b, k))
            f.write(out + "\n")
        open(name, "wb").write(b)
        f.write(name + "\n")
PY

pass=0 fail=0 withdead=0
while read -r f; do
    enc=()
    case "$f" in
    m[1357]_cp.jsonl) enc=(--encoding auto) ;;
    *cp.jsonl) enc=(--encoding WINDOWS-1256) ;;
    esac
    rm -f dl.jsonl
    "$NAHR" run -c tp.cfg "${enc[@]}" "$f" >out 2>err
    rc=$?
    why="" ndead=0
    if [ $rc -ne 0 ] && [ $rc -ne 1 ]; then
        why="exit status $rc"
    elif ! sum=$(grep -E '^nahr: [0-9]+ read, [0-9]+ exported, [0-9]+ skipped, [0-9]+ dead-lettered' err); then
        why="no summary line"
    else
        read -r nread nexp nskip ndead < <(echo "$sum" | sed -E 's/^nahr: ([0-9]+) read, ([0-9]+) exported, ([0-9]+) skipped, ([0-9]+) dead-lettered.*/\1 \2 \3 \4/')
        nout=$(wc -l <out)
        ndl=$( [ -f dl.jsonl ] && wc -l <dl.jsonl || echo 0)
        if [ $((nexp + nskip + ndead)) -ne "$nread" ]; then
            why="read $nread != exported $nexp + skipped $nskip + dead-lettered $ndead"
        elif [ "$nout" -ne "$nexp" ]; then
            why="$nout lines on stdout for $nexp exported"
        elif [ "$ndl" -ne "$ndead" ]; then
            why="$ndl dead-letter records for $ndead dead-lettered"
        elif [ "$ndead" -gt 0 ] && ! python3 -c "
import json,sys
for l in open('dl.jsonl'):
    r=json.loads(l)
    assert r['reason'] and r['origin'], r
" 2>/dev/null; then
            why="a dead-letter record without origin or reason, or not JSON"
        elif [ $rc -eq 0 ] && [ "$ndead" -gt 0 ]; then
            why="exit 0 with dead-lettered records"
        fi
    fi
    if [ -z "$why" ]; then
        pass=$((pass + 1))
        [ "${ndead:-0}" -gt 0 ] && withdead=$((withdead + 1))
    else
        fail=$((fail + 1))
        echo "FAIL - $f: $why"
        tail -3 err | sed 's/^/       /'
    fi
done <list
echo "$pass passed, $fail failed (damaged inputs through every reader path; $withdead with dead-lettered records)"
[ "$fail" = 0 ]
