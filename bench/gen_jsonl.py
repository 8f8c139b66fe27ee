#!/usr/bin/env python3
"""Writes a synthetic Arabic news JSONL stream of about N megabytes to stdout.

Sentences are assembled from a small vocabulary written by the team (no
dataset text), with entity-like names, numbers and punctuation, so every
stage of the pipeline has work to do. Deterministic for a seed.
usage: gen_jsonl.py MEGABYTES [SEED]
"""
import json
import random
import sys

SUBJECTS = ["الرئيس", "وزير الخارجية", "المتحدث باسم الحكومة", "رئيس الوزراء", "الأمين العام للأمم المتحدة",
            "وزيرة الصحة", "قائد الجيش", "محافظ البنك المركزي", "مسؤول في الاتحاد الأوروبي", "المبعوث الخاص"]
NAMES = ["أحمد حسن", "فاطمة الزهراء علي", "محمد بن سلمان", "عبد الله الثاني", "سامي الخطيب", "ليلى منصور",
         "كريم بنعلي", "نادية العمري", "يوسف الشامي", "هدى السعدي"]
PLACES = ["القاهرة", "دمشق", "بيروت", "الرياض", "بغداد", "عمّان", "تونس", "الرباط", "موسكو", "واشنطن", "جنيف",
          "الدوحة", "أبوظبي", "الخرطوم", "طرابلس"]
VERBS = ["أعلن", "أكد", "نفى", "حذر من", "رحب بـ", "دعا إلى", "انتقد", "بحث", "وقع", "ناقش"]
OBJECTS = ["اتفاقا للتعاون الاقتصادي", "خطة لإعادة الإعمار", "هجوما على قافلة إنسانية", "ارتفاع أسعار الغذاء",
           "نتائج الانتخابات", "مشروعا لتحلية المياه", "تدهور الأوضاع الأمنية", "صفقة لتبادل الأسرى",
           "نجاح المفاوضات", "انتشار وباء في المخيمات"]
TAILS = ["خلال مؤتمر صحفي", "في بيان رسمي", "أمام البرلمان", "في تصريحات للصحفيين", "على هامش القمة",
         "في مقابلة تلفزيونية"]


def sentence(rng):
    return "{} {} {} {} في {} {}، بحسب ما نقلته وكالة الأنباء يوم {} من الشهر الجاري.".format(
        rng.choice(VERBS), rng.choice(SUBJECTS), rng.choice(NAMES), rng.choice(OBJECTS), rng.choice(PLACES),
        rng.choice(TAILS), rng.randint(1, 30))


def main():
    megabytes = float(sys.argv[1]) if len(sys.argv) > 1 else 100
    rng = random.Random(int(sys.argv[2]) if len(sys.argv) > 2 else 1)
    target = int(megabytes * 1e6)
    written = 0
    i = 0
    out = sys.stdout
    while written < target:
        paras = []
        for _ in range(rng.randint(2, 8)):
            paras.append(" ".join(sentence(rng) for _ in range(rng.randint(1, 5))))
        rec = {"id": "gen-%08d" % i, "title": sentence(rng)[:60], "source": "synthetic",
               "date": "2025-%02d-%02d" % (rng.randint(1, 12), rng.randint(1, 28)), "text": "\n\n".join(paras)}
        line = json.dumps(rec, ensure_ascii=False) + "\n"
        out.write(line)
        written += len(line.encode("utf-8"))
        i += 1


if __name__ == "__main__":
    main()
