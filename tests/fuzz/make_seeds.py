#!/usr/bin/env python3
"""Writes the seed corpora of tests/fuzz/{reader,tokenize,entities,sentiment}/corpus
from the project's own fixtures (examples/, plugins/clean/tests/fixtures,
plugins/entities/fixtures/own.txt): never from ../shared.
  python3 tests/fuzz/make_seeds.py        (from the repository root)
The entities and sentiment harnesses map input bytes to text
(fuzz_common.h, fuzz_text_from_bytes); their seeds are our texts mapped back."""
import json, os, re

root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
fz = os.path.join(root, "tests", "fuzz")

def read(p):
    with open(os.path.join(root, p), "rb") as f:
        return f.read()

def write(area, name, data):
    d = os.path.join(fz, area, "corpus")
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)

texts = {}
for p in ["examples/001_dam_river.txt", "examples/002_talks.txt"] + [
        "plugins/clean/tests/fixtures/" + f for f in sorted(os.listdir(os.path.join(root, "plugins/clean/tests/fixtures")))
        if f.endswith(".txt")]:
    texts[os.path.splitext(os.path.basename(p))[0]] = read(p)
own = [re.sub(r"\[[A-Z]+ |\]", "", l) for l in read("plugins/entities/fixtures/own.txt").decode().splitlines()
       if l and not l.startswith("#")]
texts["own_a"] = "\n".join(own[: len(own) // 2]).encode()
texts["own_b"] = "\n".join(own[len(own) // 2:]).encode()
records = read("examples/articles.jsonl").splitlines()

# reader: selector byte (fuzz_reader.c) + record
for i, r in enumerate(records):
    write("reader", "jsonl_%d" % i, b"\x00" + r)
    obj = json.loads(r)
    obj["extra"] = {"n": [1, 2.50, -0.0, 1e300, 123456789012345678901234567890], "ok": True, "z": None,
                    "s": "\u0001\"\\/\U0001F600"}
    write("reader", "jsonl_fields_%d" % i, b"\x00" + json.dumps(obj, ensure_ascii=(i % 2 == 0)).encode())
whole = read("examples/articles.jsonl")
write("reader", "stream", b"\x20" + whole)
write("reader", "stream_crlf_blank", b"\x20" + b"\n \t\n".join(records).replace(b"}", b"}\r", 1) + b"\n\n")
write("reader", "stream_small_max", b"\x60" + whole)
write("reader", "txt_dam", b"\x02" + texts["001_dam_river"])
write("reader", "html_port", b"\x03" + read("plugins/clean/tests/fixtures/port_page.html"))
write("reader", "auto_cp1256", b"\x10" + texts["002_talks"].decode().encode("cp1256", "replace"))
write("reader", "bom_utf16", b"\x02" + b"\xff\xfe" + texts["002_talks"].decode().encode("utf-16-le"))

# tokenize: raw bytes
for k, t in texts.items():
    write("tokenize", k, t)

# entities / sentiment: text mapped back to the harness's byte code
letters = [chr(0x0621 + k) for k in range(26)] + [chr(0x0641 + k) for k in range(10)]
punct = ".\u060c\u061b\u061f!:()\"\u00ab\u00bb-/%$,\u066b\u066c"
inv = {c: i for i, c in enumerate(letters)}
inv[" "] = 0x80
inv["\n"] = 0x8C
for d in range(10):
    inv[chr(ord("0") + d)] = 0x91 + d
    inv[chr(0x0660 + d)] = 0x9B + d
for i, c in enumerate(punct):
    inv[c] = 0xA5 + i
for k in range(8):
    inv[chr(0x064B + k)] = 0xB7 + k
inv["\u0670"] = 0xBF
inv["\u0640"] = 0xC0
for k in range(14):
    inv[chr(ord("a") + k)] = 0xC7 + k
for k in range(6):
    inv[chr(ord("A") + k)] = 0xD5 + k

def encode(t):
    return bytes(inv[c] for c in t.decode() if c in inv)

for k, t in texts.items():
    write("entities", k, b"\x00" + encode(t))
    write("entities", k + "_rules", b"\x03" + encode(t))
    write("sentiment", k, b"\x02" + encode(t))
    write("sentiment", k + "_polar", b"\x0f" + encode(t))

# sentiment: a text over SENTI_CHUNK (256 KiB: analysed in chunks, a path the
# fuzzer's short inputs never reach), made of lexicon words (bytes E0-FF and
# an index), with sentence ends and paragraph breaks
long = bytearray(b"\x00")
for i in range(24000):
    long += bytes([0xE0 + i % 32, (i * 7) % 256])
    if i % 9 == 8:
        long += bytes([0xA5])          # .
    if i % 97 == 96:
        long += bytes([0x90])          # blank line
write("sentiment", "long_chunked", bytes(long))
