#!/usr/bin/env python3
"""Deterministic synthetic multilingual corpus for benchmarking `amanat scan`.

Writes CORPUS (UTF-8 text, at least --megabytes MB) and CORPUS.truth.json: the identifiers planted in it, each as
{"start": byte offset, "kind": ..., "value": normalized value}. All identifiers are invented (valid checksums
computed from random parts); the filler text is invented too. Negative cases (19-digit runs, failed checksums
without a context word, BINs, Russian phones, arrest dates) are planted but not listed: they must not be found.

Usage: generate.py CORPUS [--megabytes 100] [--seed 20261127]
"""
import argparse
import json
import os
import random
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from idgen import cn18, iin  # noqa: E402

FILLER = [
    "Куәгер ауылдағы жағдай туралы ұзақ әңгімеледі, көршілері де осыны растады. ",
    "Ол отбасымен бірге қалаға көшіп келген, бірақ жұмыс таба алмаған. ",
    "Свидетельница рассказала, что соседи долго не решались говорить об этом. ",
    "По её словам, в посёлке закрыли школу и рынок, а дорогу перекрыли. ",
    "他说村里的情况很紧张，邻居们都不敢出门，孩子们也停止了上学。",
    "她的家人多年来一直在寻找消息，但是没有得到任何答复。",
    "ئۇ يېزىدىكى ئەھۋالنى ئۇزۇن سۆزلەپ بەردى، قوشنىلىرىمۇ بۇنى جەزملەشتۈردى. ",
    "ئۇنىڭ ئائىلىسى ئۇزۇن يىللاردىن بېرى خەۋەر كۈتۈۋاتىدۇ. ",
    "The witness described the situation in the village at length; neighbours confirmed it. ",
    "Her family has been waiting for news for years without any answer from the authorities. ",
    "Интервью записано в двух частях, вторая часть короче первой. ",
    "采访分两部分记录，第二部分比第一部分短。",
]

PROVINCES = [11, 12, 13, 14, 15, 21, 22, 23, 31, 32, 33, 34, 35, 36, 37, 41, 42, 43, 44, 45, 46, 50, 51, 52, 53,
             54, 61, 62, 63, 64, 65, 71, 81, 82, 83]

FULL = {str(d): chr(0xFF10 + d) for d in range(10)}
ARABIC = {str(d): chr(0x0660 + d) for d in range(10)}
EXT_ARABIC = {str(d): chr(0x06F0 + d) for d in range(10)}


def days_in(y, m):
    if m == 2:
        return 29 if (y % 4 == 0 and y % 100 != 0) or y % 400 == 0 else 28
    return 30 if m in (4, 6, 9, 11) else 31


def rand_date(r, lo=1930, hi=2005):
    y = r.randint(lo, hi)
    m = r.randint(1, 12)
    return y, m, r.randint(1, days_in(y, m))


def rand_cn(r):
    y, m, d = rand_date(r, 1900, 2010)
    area = "%02d%04d" % (r.choice(PROVINCES), r.randint(0, 9999))
    return cn18("%s%04d%02d%02d%03d" % (area, y, m, d, r.randint(0, 999)))


def rand_cn15(r):
    y, m, d = rand_date(r, 1930, 1999)
    area = "%02d%04d" % (r.choice(PROVINCES), r.randint(0, 9999))
    d15 = "%s%02d%02d%02d%03d" % (area, y % 100, m, d, r.randint(0, 999))
    return d15, cn18(d15[:6] + "19" + d15[6:])


def rand_iin(r):
    while True:
        y, m, d = rand_date(r, 1930, 2010)
        century = {18: 1, 19: 3, 20: 5}[y // 100] + r.randint(0, 1)
        v = iin("%02d%02d%02d%d%04d" % (y % 100, m, d, century, r.randint(0, 9999)))
        if v:
            return v


def rand_bin(r):
    while True:
        v = iin("%02d%02d%d%d%05d" % (r.randint(0, 99), r.randint(1, 12), r.randint(4, 6), r.randint(0, 3),
                                      r.randint(0, 99999)))
        if v:
            return v


def translate(s, table):
    return "".join(table.get(c, c) for c in s)


def cn_variant(r, v):
    k = r.randrange(9)
    if k == 0:
        return "身份证号" + v + "，", v
    if k == 1:
        return "ID: " + v[:6] + " " + v[6:14] + " " + v[14:] + ". ", v
    if k == 2:
        return "номер " + v[:6] + "-" + v[6:10] + "\n" + v[10:14] + "-" + v[14:] + ", ", v
    if k == 3:
        return "证件" + translate(v, FULL).replace("X", "Ⅹ") + "。", v
    if k == 4:
        return "كىملىك " + translate(v, EXT_ARABIC) + " ", v
    if k == 5:
        return "رقم " + translate(v, ARABIC) + " ", v
    if k == 6:
        return "他" + v.lower() + "在", v
    if k == 7:
        return "(" + v + ") ", v
    return "ЖСН емес, " + v + "; ", v


def write_corpus(path, megabytes, seed):
    r = random.Random(seed)
    target = megabytes * 1_000_000
    out = open(path, "wb")
    truth = []
    pos = 0

    def put(text):
        nonlocal pos
        b = text.encode("utf-8")
        out.write(b)
        pos += len(b)

    def plant(prefix, ident_text, suffix, kind, value):
        """Writes prefix + identifier + suffix; records the identifier's start."""
        put(prefix)
        truth.append({"start": pos, "kind": kind, "value": value})
        put(ident_text)
        put(suffix)

    while pos < target:
        for _ in range(r.randint(1, 3)):
            put(r.choice(FILLER))
        k = r.randrange(20)
        if k < 5:
            text, v = cn_variant(r, rand_cn(r))
            # split the variant into prefix / identifier / suffix by locating the identifier's spelling
            prefixes = ["身份证号", "ID: ", "номер ", "证件", "كىملىك ", "رقم ", "他", "(", "ЖСН емес, "]
            for p in prefixes:
                if text.startswith(p):
                    body = text[len(p):]
                    break
            suffixes = ["，", ". ", ", ", "。", " ", "在", ") ", "; "]
            for s in suffixes:
                if body.endswith(s):
                    ident = body[: -len(s)]
                    break
            plant(p, ident, s, "cn_resident_id", v)
        elif k == 5:
            d15, v = rand_cn15(r)
            plant("旧身份证 ", d15, "。", "cn_resident_id", v)
        elif k < 8:
            v = rand_iin(r)
            if r.random() < 0.5:
                plant("ЖСН: ", v[:6] + " " + v[6:], ", ", "kz_iin", v)
            else:
                plant("ИИН ", v, " ", "kz_iin", v)
            put("БИН " + rand_bin(r) + ". ")  # must not be found
        elif k < 10:
            n = "1%d%d%08d" % (r.randint(3, 9), r.randint(0, 9), r.randint(0, 99999999))
            style = r.randrange(4)
            if style == 0:
                plant("电话", n, "，", "phone", "+86" + n)
            elif style == 1:
                plant("tel. ", "+86 " + n[:3] + "-" + n[3:7] + "-" + n[7:], "; ", "phone", "+86" + n)
            elif style == 2:
                plant("手机：", translate(n, FULL), "。", "phone", "+86" + n)
            else:
                plant("call ", "+86 " + n[:3] + " " + n[3:7] + " " + n[7:], ". ", "phone", "+86" + n)
        elif k < 12:
            n = "7%02d%07d" % (r.randint(0, 99), r.randint(0, 9999999))
            style = r.randrange(3)
            if style == 0:
                plant("тел. ", "+7 (%s) %s-%s-%s" % (n[:3], n[3:6], n[6:8], n[8:]), ", ", "phone", "+7" + n)
            elif style == 1:
                plant("тел ", "8 %s %s %s" % (n[:3], n[3:6], n[6:]), "; ", "phone", "+7" + n)
            else:
                plant("номер ", "+7" + n, ". ", "phone", "+7" + n)
            put("Россия: +7 9%02d %03d-%02d-%02d. " % (r.randint(0, 99), r.randint(0, 999), r.randint(0, 99),
                                                       r.randint(0, 99)))
        elif k == 12:
            user = "user%d.%s" % (r.randint(0, 99999), r.choice(["kz", "cn", "mail"]))
            plant("почта ", user + "@example.org", ", ", "email", user + "@example.org")
        elif k == 13:
            wx = r.choice(["zhang", "li", "wang", "aizhan", "nur"]) + "_%d" % r.randint(1000, 99999)
            plant("微信：", wx, "，", "wechat_id", wx)
        elif k == 14:
            if r.random() < 0.5:
                pp = "E%08d" % r.randint(0, 99999999)
                plant("护照号", pp, "。", "cn_passport", pp)
            else:
                pp = "N%08d" % r.randint(0, 99999999)
                plant("паспорт ", pp, ", ", "kz_passport", pp)
        elif k < 18:
            y, m, d = rand_date(r)
            iso = "%04d-%02d-%02d" % (y, m, d)
            style = r.randrange(5)
            ru = ["января", "февраля", "марта", "апреля", "мая", "июня", "июля", "августа", "сентября", "октября",
                  "ноября", "декабря"][m - 1]
            en = ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
                  "November", "December"][m - 1]
            if style == 0:
                plant("туған күні ", "%02d.%02d.%04d" % (d, m, y), ". ", "date_of_birth", iso)
            elif style == 1:
                plant("他", "%d年%d月%d日" % (y, m, d), "出生。", "date_of_birth", iso)
            elif style == 2:
                plant("родилась ", "%d %s %d" % (d, ru, y), " года. ", "date_of_birth", iso)
            elif style == 3:
                plant("born on ", "%s %d, %d" % (en, d, y), ". ", "date_of_birth", iso)
            else:
                plant("Date of birth: ", iso, ". ", "date_of_birth", iso)
            put("арестован %02d.%02d.%04d. " % (r.randint(1, 28), r.randint(1, 12), r.randint(2014, 2020)))
        else:
            # negatives: 19-digit run, failed checksum without context, 9-digit passport-like
            v = rand_cn(r)
            bad = v[:17] + ("0" if v[17] != "0" else "1")
            put("Order %d%s. " % (r.randint(1, 9), v[:18].replace("X", "0")))
            put("Ref " + bad + ". ")
            put("код E%09d. " % r.randint(0, 999999999))
    out.close()
    with open(path + ".truth.json", "w") as f:
        json.dump({"count": len(truth), "identifiers": truth}, f)
    return pos, len(truth)


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("corpus")
    ap.add_argument("--megabytes", type=int, default=100)
    ap.add_argument("--seed", type=int, default=20261127)
    a = ap.parse_args()
    size, count = write_corpus(a.corpus, a.megabytes, a.seed)
    print("corpus: %s, %d bytes, %d planted identifiers" % (a.corpus, size, count))
