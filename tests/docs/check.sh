#!/bin/bash
# Docs stay true: every option of every built plugin appears in docs/config-reference.md.
set -eu
NAHR=$1; SRC=$2
doc="$SRC/docs/config-reference.md"
missing=0
while IFS='|' read -r _ opt _; do
    opt=$(echo "$opt" | tr -d ' `')
    case "$opt" in ""|option|---) continue ;; esac
    grep -q "\`$opt\`" "$doc" || { echo "docs/config-reference.md lacks option '$opt' (run scripts/gen-config-ref)"; missing=1; }
done < <("$NAHR" plugins --markdown | grep '^| `')
for p in $("$NAHR" plugins | awk '{print $1}'); do
    grep -q "^### $p\$" "$doc" || { echo "docs/config-reference.md lacks plugin '$p' (run scripts/gen-config-ref)"; missing=1; }
done
[ $missing = 0 ] && echo "docs: config reference covers every plugin option"
exit $missing
