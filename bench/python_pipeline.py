#!/usr/bin/python3
"""The plain Python pipeline a user might write instead of nahr, for the benchmark:
regex cleaning, ahocorasick dictionary matching with nahr's own gazetteer lists,
lexicon sentiment with nahr's own lexicon, json.dumps per article.

usage: python_pipeline.py GAZETTEER_DIR LEXICON_FILE... < in.jsonl > out.jsonl
The lexicons are the sentiment plugin's TSV files (term, then a weight or a polarity word); later files
override earlier ones, as in the plugin. Polarity words are read as +1/-1; negators and multipliers,
which a plain lexicon sum has no use for, are left out.
Needs Debian's python3-ahocorasick (run with /usr/bin/python3).
"""
import json
import os
import re
import sys

import ahocorasick

URL = re.compile(r"https?://\S+|www\.\S+")
SPACE = re.compile(r"[ \t\u00a0]+")
BOILER = re.compile(r"(اشترك|تابعنا|اقرأ أيضا|مقالات ذات صلة|شارك|جميع الحقوق محفوظة|إعلان)")
DIACRITICS = re.compile("[\u064b-\u065f\u0670\u0640]")
WORD = re.compile(r"\w+")


def norm(s):
    s = DIACRITICS.sub("", s)
    return s.translate(str.maketrans("أإآٱىة", "اااايه"))


def load_gazetteers(d):
    auto = ahocorasick.Automaton()
    for name in sorted(os.listdir(d)):
        if not name.endswith(".txt"):
            continue
        typ = name.split(".")[0].split("_")[0].upper()
        with open(os.path.join(d, name), encoding="utf-8") as f:
            for line in f:
                w = line.strip()
                if w and not w.startswith("#"):
                    w = norm(w.split("\t")[0])
                    auto.add_word(w, (typ, len(w)))
    auto.make_automaton()
    return auto


POLARITY = {"positive": 1.0, "compound_pos": 1.0, "negative": -1.0, "compound_neg": -1.0}


def load_lexicon(paths):
    lex = {}
    for path in paths:
        with open(path, encoding="utf-8") as f:
            for line in f:
                parts = line.rstrip("\n").split("\t")
                if len(parts) >= 2 and not line.startswith("#"):
                    if parts[1] == "ignore":
                        lex.pop(norm(parts[0]), None)
                        continue
                    if parts[1] in POLARITY:
                        lex[norm(parts[0])] = POLARITY[parts[1]]
                        continue
                    try:
                        lex[norm(parts[0])] = float(parts[1])
                    except ValueError:
                        pass
    return lex


def main():
    auto = load_gazetteers(sys.argv[1])
    lex = load_lexicon(sys.argv[2:])
    out = sys.stdout
    for line in sys.stdin:
        try:
            rec = json.loads(line)
        except ValueError:
            continue
        lines = [SPACE.sub(" ", URL.sub("", l)).strip() for l in rec.get("text", "").split("\n")]
        text = "\n".join(l for l in lines if l and not (len(l) < 80 and BOILER.search(l)))
        n = norm(text)
        ents = []
        for end, (typ, ln) in auto.iter(n):
            start = end - ln + 1
            if (start == 0 or not n[start - 1].isalnum()) and (end + 1 == len(n) or not n[end + 1].isalnum()):
                ents.append({"type": typ, "text": n[start:end + 1], "start": start, "end": end + 1})  # offsets in n
        score = sum(lex.get(w, 0.0) for w in WORD.findall(n))
        label = "positive" if score > 0.5 else "negative" if score < -0.5 else "neutral"
        rec.update(text=text, entities=ents, sentiment={"label": label, "score": max(-1.0, min(1.0, score / 10))})
        out.write(json.dumps(rec, ensure_ascii=False) + "\n")


if __name__ == "__main__":
    main()
