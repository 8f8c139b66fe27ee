#!/bin/sh
# Checks plugins/entities/ner/tools/dev_blocks.sh on a made-up corpus of 23
# one-token sentences: blocks of floor(23/10) = 2 sentences.
set -eu
src=${1:?usage: dev_blocks_test.sh SOURCE_DIR}
t=$(mktemp -d)
trap 'rm -rf "$t"' EXIT
i=1
while [ $i -le 23 ]; do printf 'w%d\tO\nx%d\tB-LOC\n\n' $i $i; i=$((i + 1)); done >"$t/train.txt"
"$src/plugins/entities/ner/tools/dev_blocks.sh" "$t/train.txt" "$t/out" >/dev/null
ids() { awk 'BEGIN { RS = "" } { split($0, a, "\t"); printf "%s ", a[1] }' "$1"; }
fail=0
want() {
    got=$(ids "$t/out/$1")
    if [ "$got" != "$2" ]; then echo "FAIL $1: got '$got', want '$2'"; fail=1; fi
}
want dev_std.txt "w22 w23 "
want dev_rot1.txt "w3 w4 "
want dev_rot4.txt "w9 w10 "
want dev_rot7.txt "w15 w16 "
want rot1.txt "w1 w2 w5 w6 w7 w8 w9 w10 w11 w12 w13 w14 w15 w16 w17 w18 w19 w20 w21 w22 w23 w3 w4 "
want rot7.txt "w1 w2 w3 w4 w5 w6 w7 w8 w9 w10 w11 w12 w13 w14 w17 w18 w19 w20 w21 w22 w23 w15 w16 "
# every sentence kept whole, one blank line after each
cmp -s "$t/train.txt" "$t/out/rot4.txt" && { echo "FAIL rot4.txt equals train"; fail=1; }
[ "$(wc -l <"$t/out/rot4.txt")" = "$(wc -l <"$t/train.txt")" ] || { echo "FAIL rot4.txt line count"; fail=1; }
if "$src/plugins/entities/ner/tools/dev_blocks.sh" "$t/missing.txt" "$t/o2" 2>"$t/err"; then
    echo "FAIL a missing file was accepted"; fail=1
fi
grep -q "cannot read" "$t/err" || { echo "FAIL no message for a missing file"; fail=1; }
[ $fail = 0 ] && echo "dev_blocks: all checks passed"
exit $fail
