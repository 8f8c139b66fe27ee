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

# config: the shipped config, and one seed per part of the format (pipeline
# keys of each type, every plugin and option kind, the errors a user makes)
write("config", "default", read("configs/default.cfg"))
cfg_seeds = {
    "tp_all_types": 'pipeline: { workers = 3; queue_depth = 8; max_article_bytes = 4096; stages = (\n'
                    '  { plugin = "tp_good"; name = "a"; word = "x"; count = 7; ratio = 1; flag = true; mode = "slow";'
                    ' lists = ["x", "y"]; },\n  { plugin = "export"; path = "-"; } ); };\n',
    "pipeline_keys": 'pipeline: { workers = 0; on_error = "fail"; dead_letter = "dl.jsonl"; utf8 = "reject";\n'
                     '  encoding = "WINDOWS-1256"; progress = false; log_level = "error"; log_format = "kv";\n'
                     '  plugin_path = ["p1", "p2"]; input: { type = "files"; paths = ["a", "-"]; };\n'
                     '  stages = ( { plugin = "tp_good"; } ); };\n',
    "errors": 'pipeline: { wokers = 2; queue_depth = 0L; max_article_bytes = 1.5; encoding = "UTF-16";\n'
              '  on_error = 1; input = 3; stages = (\n  { plugin = "tp_good"; count = 99; ratio = "x"; mode = "medium";'
              ' lists = [1, 2]; wrod = 1; },\n  { plugin = "nosuch"; }, 7, { name = "n"; },\n'
              '  { plugin = "tp_rewrite"; } ); };\nextra = 1;\n',
    "export_csv": 'pipeline: { stages = ( { plugin = "tp_good"; },\n  { plugin = "export"; format = "csv";'
                  ' path = "out.csv"; mentions_path = "none"; bom = true; fields = ["a.b", "c"]; layer = "entities"; },\n'
                  '  { plugin = "export"; name = "z"; format = "jsonl"; path = "o.jsonl.zst"; compress_level = 19; },\n'
                  '  { plugin = "export"; name = "q"; format = "sqlite"; path = "o.db"; batch = 10;'
                  ' synchronous = "off"; } ); };\n',
    "plugins": 'pipeline: { stages = ( { plugin = "clean_repeats"; }, { plugin = "clean"; },\n'
               '  { plugin = "entities"; money_first = false; }, { plugin = "sentiment"; },\n'
               '  { plugin = "export"; format = "jsonl"; path = "-"; compress = "none"; } ); };\n',
    "init_fail": 'pipeline: { stages = ( { plugin = "tp_initfail"; }, { plugin = "tp_prepsink"; },'
                 ' { plugin = "tp_badabi"; }, { plugin = "tp_nosym"; } ); };\n',
    "syntax": 'pipeline: { stages = ( { plugin = "tp_good" word = 1; } ); ',
}
for k, t in cfg_seeds.items():
    write("config", k, t.encode())

# export: byte programs read by fuzz_export.c (take_doc): a header, then
# documents of our own text with metadata, fields and spans
def s8(b):
    return bytes([len(b)]) + b

def s16(b):
    return bytes([len(b) & 255, len(b) >> 8]) + b

def export_doc(text, spans, fields=b"\x00"):
    out = s16(text) + b"\x1f" + s8(b"id,\"1\"") + s8(b"title\r\nx") + s8(b"http://x/?a=1,2") + s8(b"2024-01-01") \
        + s8(b"src") + fields + bytes([len(spans)])
    for b, s, e, a in spans:
        out += bytes([b, s & 255, s >> 8, e & 255, e >> 8, a])
        if a & 1:
            out += s8("موسكو".encode())
        if a & 4:
            out += b"\x04" + s8(b"positive")
    return out

t1 = texts["001_dam_river"][:600]
t2 = "قال \"الوزير\"، في بيان:\r\nالسد, 3.5 مليار\x00!".encode()
docs = export_doc(t1, [(0, 0, 10, 1), (2, 0, 60, 0), (1, 20, 40, 4)]) + export_doc(t2, [(8, 5, 12, 5), (0, 0, 0, 0)],
                                                                                     b"\x02\x00\x04" + s8(b"v,\"q\"") + b"\x40\x02")
for name, b0, b1 in [("jsonl", 0x00, 0x00), ("jsonl_gzip", 0x02, 0x00), ("jsonl_zstd_small_batch", 0x0c, 0x00),
                     ("csv_mentions_fields", 0x01, 0x0d), ("csv_bom_no_mentions", 0x09, 0x03),
                     ("csv_sentences", 0x41, 0x08)]:
    write("export", name, bytes([b0, b1, 1]) + docs + b"\x35")

# repeats: option bytes, then articles (header: source, HTML, final newline,
# CRLF; line count; a vocabulary index or 0xE0+n and n raw bytes per line)
def rep_article(h, lines):
    out = bytes([h, len(lines)])
    for l in lines:
        out += bytes([0xE0 + len(l)]) + l if isinstance(l, bytes) else bytes([l])
    return out

story = [("خبر رقم %d عن السد" % i).encode() for i in range(8)]
arts = b"".join(rep_article(0x08 * (i % 2), [0, 4, story[i][:31], 6, 8 + i % 2]) for i in range(6))
write("repeats", "per_source", b"\x00\x20" + arts)
write("repeats", "stream_keep_removed", b"\x61\x3f" + arts + rep_article(0x03, [1, 5, 7]))
write("repeats", "mixed_sources_crlf", b"\x45\x3f" + b"".join(
    rep_article((i % 4) | 0x18, [2, 3, story[i][:20], 15, 16, 12]) for i in range(8)) + rep_article(0x04, [0, 0]))
write("repeats", "all_repeats_kept", b"\x00\x20" + b"".join(rep_article(0, [0, 4, 6]) for _ in range(5)))

# streams: kind/damage byte, damage position (2 bytes), frame size, then the
# JSONL text (our articles)
lines = records[:3]
jl = b"\n".join(lines) + b"\n\n  \n" + lines[0] + b"\r\n" + lines[1]
for name, b0, pos, fs in [("gzip", 0x00, 0, 0), ("gzip_members_cut", 0x04, 700, 200), ("gzip_flip", 0x08, 40, 7),
                          ("gzip_garbage", 0x0c, 0x1f8b, 0), ("zstd_frames", 0x11, 0, 150),
                          ("zstd_cut_checksum", 0x15, 900, 0), ("zstd_flip", 0x19, 300, 1), ("zstd_garbage", 0x0d, 0x28b5, 64),
                          ("utf16le", 0x02, 0, 0), ("utf16be_cut", 0x26, 1001, 0), ("utf16_garbage", 0x0e, 0xd8, 0)]:
    write("streams", name, bytes([b0, pos & 255, pos >> 8, fs]) + jl)
