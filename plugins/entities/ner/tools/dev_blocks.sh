#!/bin/sh
# The four dev blocks of docs/ner.md ("dev x4"), one command:
#   plugins/entities/ner/tools/dev_blocks.sh [TRAIN] [OUTDIR]
# TRAIN defaults to ../shared/data/anercorp/train.txt, OUTDIR to the current
# directory. ANERcorp train is cut into 10 contiguous blocks of
# floor(S/10) sentences (S = its sentence count; the last block takes the
# rest). Writes
#   rot1.txt rot4.txt rot7.txt   train with block 2, 5 or 8 (0-based 1, 4, 7)
#                                moved to the end, where nahr-train-ner
#                                --dev-fraction 0.1 takes it as dev;
#   dev_std.txt dev_rot1.txt dev_rot4.txt dev_rot7.txt
#                                the last floor(S/10) sentences of train.txt
#                                and of each rotated copy: the dev block each
#                                dev-run model is scored on (nahr-eval-ner
#                                --test, nahr-eval-entities --file).
# Sentences are written as read, each followed by one blank line. The test
# split is never read.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
train=${1:-$here/../../../../../shared/data/anercorp/train.txt}
out=${2:-.}
[ -r "$train" ] || { echo "dev_blocks.sh: cannot read $train" >&2; exit 1; }
mkdir -p "$out"
# one sentence per record: RS="" splits on blank lines
awk -v out="$out" '
BEGIN { RS = ""; FS = "\n" }
{ s[++n] = $0 }
function put(f, a, b,    i) { for (i = a; i <= b; i++) printf "%s\n\n", s[i] > f; close(f) }
END {
    if (n < 10) { print "dev_blocks.sh: fewer than 10 sentences" > "/dev/stderr"; exit 1 }
    m = int(n / 10)
    put(out "/dev_std.txt", n - m + 1, n)
    split("1 4 7", ks, " ")
    for (j = 1; j <= 3; j++) {
        k = ks[j]; a = k * m + 1; b = (k + 1) * m
        f = out "/rot" k ".txt"
        put(f, 1, a - 1)
        for (i = b + 1; i <= n; i++) printf "%s\n\n", s[i] >> f
        for (i = a; i <= b; i++) printf "%s\n\n", s[i] >> f
        close(f)
        put(out "/dev_rot" k ".txt", a, b)
    }
}' "$train"
echo "dev_blocks.sh: wrote $out/rot{1,4,7}.txt and $out/dev_{std,rot1,rot4,rot7}.txt"
