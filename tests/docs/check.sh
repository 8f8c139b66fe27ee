#!/bin/bash
# Docs stay true: every plugin and every option that `nahr plugins --json`
# reports appears in docs/config-reference.md (regenerate: scripts/gen-config-ref).
set -eu
NAHR=$1; SRC=$2
"$NAHR" plugins --json | python3 -c '
import json, sys
doc = open(sys.argv[1], encoding="utf-8").read()
plugins = json.load(sys.stdin)
assert plugins, "nahr plugins --json listed no plugin"
missing = []
for p in plugins:
    if "### %s\n" % p["name"] not in doc:
        missing.append("plugin " + p["name"])
    for o in p["options"]:
        if "| `%s` |" % o["name"] not in doc:
            missing.append("option %s.%s" % (p["name"], o["name"]))
if missing:
    print("docs/config-reference.md lacks (run scripts/gen-config-ref):", ", ".join(missing))
    sys.exit(1)
import re
gen = doc.split("<!-- generated: scripts/gen-config-ref -->", 1)[-1]
bad = [l for l in gen.splitlines() if l.startswith("| `") and len(re.findall(r"(?<!\\)\|", l)) != 6]
if bad:
    print("docs/config-reference.md: option rows with a stray | (not 5 cells):", *bad[:5], sep="\n  ")
    sys.exit(1)
print("docs: config reference covers %d plugins, %d options" % (len(plugins), sum(len(p["options"]) for p in plugins)))
' "$SRC/docs/config-reference.md"
