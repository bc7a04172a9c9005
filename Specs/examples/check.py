#!/usr/bin/env python3
"""Validate the example testimony records and recompute every identifier.

Usage:
  python3 Specs/examples/check.py              run every check (exit 1 on any failure)
  python3 Specs/examples/check.py --columns    print the CSV column layout derived from the schema
  python3 Specs/examples/check.py --findings   print what the reference scanner finds per example
  python3 Specs/examples/check.py --make-cn AREA YYYYMMDD SEQ   an 18-char Chinese ID with its check char
  python3 Specs/examples/check.py --make-iin YYMMDD C SERIAL    a Kazakh IIN (C = century/sex digit)

Checks:
  1. record.schema.json is a valid 2020-12 schema and every property carries x-sensitivity;
  2. every *.json example validates (formats included) and its partial dates are real dates;
  3. every structured identifier passes its checksum (Chinese ID 18/15, IIN, phone shape);
  4. a small reference scanner (REDACTION.md rules) finds in every example exactly the
     identifiers listed in expected.json, and none of its listed negatives;
  5. records.csv converts, row by row, to records that validate against the schema, its
     findings equal expected.json's, and the column list in records.md is the schema's;
  6. every file in invalid/ is rejected.
Only the standard library and `jsonschema` are used. All data here is synthetic.
"""
import csv
import datetime
import io
import json
import re
import sys
from pathlib import Path

import jsonschema

HERE = Path(__file__).resolve().parent
SCHEMA_PATH = HERE.parent / "record.schema.json"
LEVELS = ("identifying", "sensitive", "public")

# ---------------------------------------------------------------- identifiers

CN_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
CN_CHECK = "10X98765432"
CN_PROVINCES = {11, 12, 13, 14, 15, 21, 22, 23, 31, 32, 33, 34, 35, 36, 37, 41, 42, 43, 44, 45, 46,
                50, 51, 52, 53, 54, 61, 62, 63, 64, 65, 71, 81, 82, 83}


def real_date(y, m, d):
    try:
        datetime.date(y, m, d)
        return True
    except ValueError:
        return False


def cn_check_char(first17):
    return CN_CHECK[sum(int(c) * w for c, w in zip(first17, CN_WEIGHTS)) % 11]


def make_cn_id(area, birth, seq):
    body = f"{area}{birth}{int(seq):03d}"
    assert len(body) == 17 and body.isdigit(), body
    return body + cn_check_char(body)


def cn_id_status(value):
    """'valid', 'suspect' (shape right, checksum or date wrong) or None (not an ID shape)."""
    if re.fullmatch(r"[0-9]{15}", value):
        value = cn_id_from_legacy(value)
    if not re.fullmatch(r"[0-9]{17}[0-9X]", value):
        return None
    province = int(value[:2])
    plausible = (province in CN_PROVINCES or value[0] == "9") and \
        real_date(int(value[6:10]), int(value[10:12]), int(value[12:14])) and 1800 <= int(value[6:10])
    return "valid" if plausible and cn_check_char(value[:17]) == value[17] else "suspect"


def cn_id_from_legacy(value15):
    body = value15[:6] + "19" + value15[6:]
    return body + cn_check_char(body)


def iin_check_digit(first11):
    d = [int(c) for c in first11]
    c = sum(x * (i + 1) for i, x in enumerate(d)) % 11
    if c == 10:
        c = sum(x * w for x, w in zip(d, (3, 4, 5, 6, 7, 8, 9, 10, 11, 1, 2))) % 11
    return None if c == 10 else c


def make_iin(yymmdd, century_sex, serial):
    body = f"{yymmdd}{century_sex}{int(serial):04d}"
    assert len(body) == 11 and body.isdigit(), body
    c = iin_check_digit(body)
    if c is None:
        raise ValueError("check digit 10 twice: choose another serial")
    return body + str(c)


def iin_status(value):
    if not re.fullmatch(r"[0-9]{12}", value):
        return None
    cs = int(value[6])
    if not 1 <= cs <= 6:
        return None  # not a person's IIN (a BIN has 4-6 in the 5th place and 40-63 as "day")
    century = {1: 1800, 2: 1800, 3: 1900, 4: 1900, 5: 2000, 6: 2000}[cs]
    if not real_date(century + int(value[:2]), int(value[2:4]), int(value[4:6])):
        return None
    c = iin_check_digit(value[:11])
    return "valid" if c is not None and c == int(value[11]) else "suspect"


def e164(raw):
    """Normalize a Chinese mobile or Kazakh number to E.164; None if it is neither."""
    digits = re.sub(r"[^0-9]", "", raw)
    plus = raw.strip().startswith("+")
    if plus and digits.startswith("86") and re.fullmatch(r"861[3-9][0-9]{9}", digits):
        return "+" + digits
    if not plus and re.fullmatch(r"1[3-9][0-9]{9}", digits):
        return "+86" + digits
    if plus and re.fullmatch(r"77[0-9]{9}", digits):
        return "+" + digits
    if not plus and re.fullmatch(r"87[0-9]{9}", digits):
        return "+7" + digits[1:]
    return None

# ---------------------------------------------------------------- normalization + scanner

FOLD = {}
for i in range(10):
    FOLD[chr(0xFF10 + i)] = str(i)
    FOLD[chr(0x0660 + i)] = str(i)
    FOLD[chr(0x06F0 + i)] = str(i)
for ch in "ＸｘⅩⅹ×":
    FOLD[ch] = "X"
for cp in list(range(0x2010, 0x2016)) + [0x2212, 0xFF0D]:
    FOLD[chr(cp)] = "-"
for ch in "\u00a0\u2007\u202f\u3000":
    FOLD[ch] = " "


def fold(text):
    """One code point to one, so offsets in the folded text are offsets in the original."""
    return "".join(FOLD.get(ch, ch) for ch in text)


SEP = r"[ \-\n]"
CN18 = re.compile(r"(?<![0-9])[0-9](?:%s?[0-9]){16}%s?[0-9Xx](?![0-9])" % (SEP, SEP))
CN15 = re.compile(r"(?<![0-9])[0-9](?:%s?[0-9]){14}(?![0-9Xx])" % SEP)
IIN = re.compile(r"(?<![0-9])[0-9](?:%s?[0-9]){11}(?![0-9])" % SEP)
PHONE_CN = re.compile(r"(?<![0-9+])(?:\+86[ \-]?)?1[3-9][0-9](?:[ \-]?[0-9]){8}(?![0-9])")
PHONE_KZ = re.compile(r"(?<![0-9+])(?:\+7|8)[ \-]?\(?7[0-9]{2}\)?(?:[ \-]?[0-9]){7}(?![0-9])")
PASSPORT_WORDS = re.compile(r"护照|паспорт|passport|төлқұжат|پاسپورت|pasport", re.I)
CN_PASSPORT = re.compile(r"(?<![0-9A-Za-z])(?:E[0-9]{8}|E[A-Z][0-9]{7}|G[0-9]{8})(?![0-9A-Za-z])")
KZ_PASSPORT = re.compile(r"(?<![0-9A-Za-z])N[0-9]{8}(?![0-9A-Za-z])")
EMAIL = re.compile(r"[A-Za-z0-9._%+\-]+@[A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)*\.[A-Za-z]{2,}")
WECHAT = re.compile(r"(?:微信号?|WeChat(?: ID)?)[:：\s]*([A-Za-z][A-Za-z0-9_\-]{5,19})", re.I)
ID_WORDS = re.compile(r"身份证|ID|ЖСН|ИИН|IIN|куәлі|удостоверени|كىملىك", re.I)
BIRTH_WORDS = re.compile(r"туған|туылған|родил|出生|born|birth|تۇغۇلغان|týǵan|tuǵan", re.I)
RU_MONTHS = ["января", "февраля", "марта", "апреля", "мая", "июня", "июля", "августа",
             "сентября", "октября", "ноября", "декабря"]
EN_MONTHS = ["january", "february", "march", "april", "may", "june", "july", "august",
             "september", "october", "november", "december"]
DATES = [
    (re.compile(r"(?<![0-9])([0-3]?[0-9])\.([01]?[0-9])\.([12][0-9]{3})(?![0-9])"), "dmy"),
    (re.compile(r"(?<![0-9])([12][0-9]{3})年([01]?[0-9])月([0-3]?[0-9])日"), "ymd"),
    (re.compile(r"(?<![0-9])([12][0-9]{3})-([01][0-9])-([0-3][0-9])(?![0-9])"), "ymd"),
    (re.compile(r"(?<![0-9])([0-3]?[0-9]) (%s) ([12][0-9]{3})" % "|".join(RU_MONTHS), re.I), "dMy_ru"),
    (re.compile(r"(?<![0-9])([0-3]?[0-9]) (%s) ([12][0-9]{3})" % "|".join(EN_MONTHS), re.I), "dMy_en"),
]


def digits_of(s):
    return re.sub(r"[^0-9X]", "", s.upper())


def scan_text(text):
    """Findings in one free-text value: list of (kind, raw, normalized, status)."""
    t = fold(text)
    taken = []  # (start, end) spans already claimed
    out = []

    def free(a, b):
        return all(b <= s or a >= e for s, e in taken)

    def add(kind, a, b, norm, status):
        taken.append((a, b))
        out.append((a, kind, text[a:b], norm, status))

    def near(words, a, b, before=24, after=8):
        return words.search(t[max(0, a - before):a]) or words.search(t[b:b + after])

    for m in CN18.finditer(t):
        raw = m.group(0)
        if len(re.findall(SEP, raw)) > 2:
            continue
        d = digits_of(raw)
        st = cn_id_status(d)
        if st == "valid" or (st == "suspect" and near(ID_WORDS, m.start(), m.end())):
            add("cn_resident_id", m.start(), m.end(), d, st)
    for m in IIN.finditer(t):
        if not free(m.start(), m.end()) or len(re.findall(SEP, m.group(0))) > 2:
            continue
        d = digits_of(m.group(0))
        st = iin_status(d)
        if st == "valid" or (st == "suspect" and near(ID_WORDS, m.start(), m.end())):
            add("kz_iin", m.start(), m.end(), d, st)
    for m in CN15.finditer(t):
        if not free(m.start(), m.end()) or len(re.findall(SEP, m.group(0))) > 2:
            continue
        d = digits_of(m.group(0))
        if int(d[:2]) in CN_PROVINCES and real_date(1900 + int(d[6:8]), int(d[8:10]), int(d[10:12])) \
                and near(ID_WORDS, m.start(), m.end(), before=40):
            add("cn_resident_id", m.start(), m.end(), cn_id_from_legacy(d), "valid")
    for rx in (PHONE_CN, PHONE_KZ):
        for m in rx.finditer(t):
            if free(m.start(), m.end()) and e164(m.group(0)):
                add("phone", m.start(), m.end(), e164(m.group(0)), "valid")
    for rx, kind in ((CN_PASSPORT, "cn_passport"), (KZ_PASSPORT, "kz_passport")):
        for m in rx.finditer(t):
            if free(m.start(), m.end()) and near(PASSPORT_WORDS, m.start(), m.end(), before=40):
                add(kind, m.start(), m.end(), m.group(0), "valid")
    for m in EMAIL.finditer(t):
        if free(m.start(), m.end()):
            add("email", m.start(), m.end(), m.group(0).lower(), "valid")
    for m in WECHAT.finditer(t):
        if free(m.start(1), m.end(1)):
            add("wechat_id", m.start(1), m.end(1), m.group(1), "valid")
    for rx, form in DATES:
        for m in rx.finditer(t):
            if not free(m.start(), m.end()) or not near(BIRTH_WORDS, m.start(), m.end(), before=30, after=12):
                continue
            g = m.groups()
            if form == "dmy":
                y, mo, d = int(g[2]), int(g[1]), int(g[0])
            elif form == "ymd":
                y, mo, d = int(g[0]), int(g[1]), int(g[2])
            else:
                months = RU_MONTHS if form == "dMy_ru" else EN_MONTHS
                y, mo, d = int(g[2]), months.index(g[1].lower()) + 1, int(g[0])
            if real_date(y, mo, d):
                add("date_of_birth", m.start(), m.end(), f"{y:04d}-{mo:02d}-{d:02d}", "valid")
    return [tuple(f[1:]) for f in sorted(out)]

# ---------------------------------------------------------------- record walk

ID_FIELDS = {"cnResidentId", "kzIin", "dateOfBirth"}
NOT_TEXT = {"sha256", "url", "recordId", "collectedAt", "mediaType", "schema", "language", "lang",
            "date", "from", "to", "verdictDate", "validUntil", "areaCode", "term", "number", "id"}


def pointer(path):
    return "/" + "/".join(str(p).replace("~", "~0").replace("/", "~1") for p in path)


def field_findings(path, key, value):
    parent = path[-2] if len(path) >= 2 else None
    if key == "cnResidentId":
        norm = cn_id_from_legacy(value) if len(value) == 15 else value
        return [("cn_resident_id", value, norm, cn_id_status(value))]
    if key == "kzIin":
        return [("kz_iin", value, value, iin_status(value) or "invalid")]
    if key == "dateOfBirth":
        return [("date_of_birth", value, value, "valid")]
    if parent == "phones":
        return [("phone", value, e164(value) or "invalid", "valid" if e164(value) else "invalid")]
    if parent == "emails":
        return [("email", value, value.lower(), "valid")]
    return []


def record_findings(record):
    found = []

    def walk(node, path):
        if isinstance(node, dict):
            if "number" in node and node.get("kind") in ("cn_passport", "kz_passport"):
                found.append({"pointer": pointer(path + ["number"]), "kind": node["kind"],
                              "raw": node["number"], "normalized": node["number"], "status": "valid"})
            if node.get("app") == "wechat" and "id" in node:
                found.append({"pointer": pointer(path + ["id"]), "kind": "wechat_id",
                              "raw": node["id"], "normalized": node["id"], "status": "valid"})
            for k, v in node.items():
                walk(v, path + [k])
        elif isinstance(node, list):
            for i, v in enumerate(node):
                walk(v, path + [i])
        elif isinstance(node, str):
            key = path[-1]
            parent = path[-2] if len(path) >= 2 else None
            ff = field_findings(path, key, node) if key in ID_FIELDS or parent in ("phones", "emails") else None
            if ff:
                for kind, raw, norm, st in ff:
                    found.append({"pointer": pointer(path), "kind": kind, "raw": raw, "normalized": norm, "status": st})
            elif key not in NOT_TEXT and parent not in ("languages", "citizenship", "riskFlags"):
                for kind, raw, norm, st in scan_text(node):
                    found.append({"pointer": pointer(path), "kind": kind, "raw": raw, "normalized": norm, "status": st})

    walk(record, [])
    return found


def counts(findings):
    c = {}
    for f in findings:
        c[f["kind"]] = c.get(f["kind"], 0) + 1
    return dict(sorted(c.items()))

# ---------------------------------------------------------------- schema helpers


def resolve(schema, node):
    while "$ref" in node and node["$ref"].startswith("#/$defs/"):
        target = schema["$defs"][node["$ref"].split("/")[-1]]
        merged = dict(target)
        merged.update({k: v for k, v in node.items() if k != "$ref"})
        node = merged
    return node


def check_annotations(schema, errors):
    """Every property schema must carry a valid x-sensitivity (directly or on its $ref target)."""
    def visit(node, where):
        if isinstance(node, dict):
            if "x-sensitivity" in node and node["x-sensitivity"] not in LEVELS:
                errors.append(f"{where}: bad x-sensitivity {node['x-sensitivity']!r}")
            for name, prop in node.get("properties", {}).items():
                r = resolve(schema, prop)
                if r.get("x-sensitivity") not in LEVELS and where.split("/")[1:2] != ["anyOf"]:
                    errors.append(f"{where}/properties/{name}: no x-sensitivity")
            for k, v in node.items():
                visit(v, f"{where}/{k}")
        elif isinstance(node, list):
            for i, v in enumerate(node):
                visit(v, f"{where}/{i}")
    visit(schema, "#")


def sensitivity_of(schema, path):
    """Resolve the sensitivity of an instance location by the inheritance rule in records.md."""
    node = schema
    level = schema["x-sensitivity"]
    for step in path:
        node = resolve(schema, node)
        if isinstance(step, int):
            node = node.get("items", {})
        else:
            node = node.get("properties", {}).get(step, {})
        r = resolve(schema, node)
        if "x-sensitivity" in node:
            level = node["x-sensitivity"]
        elif "x-sensitivity" in r:
            level = r["x-sensitivity"]
    return level


def check_dates(record, errors, name):
    def walk(node, path):
        if isinstance(node, dict):
            for k, v in node.items():
                walk(v, path + [k])
        elif isinstance(node, list):
            for i, v in enumerate(node):
                walk(v, path + [i])
        elif isinstance(node, str) and path and path[-1] in ("date", "dateOfBirth", "from", "to", "verdictDate", "validUntil"):
            if re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", node) and not real_date(*map(int, node.split("-"))):
                errors.append(f"{name}{pointer(path)}: {node} is not a calendar date")
        elif isinstance(node, str) and path and path[-1] == "collectedAt":
            try:
                datetime.datetime.fromisoformat(node)
                if not re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)", node):
                    raise ValueError
            except ValueError:
                errors.append(f"{name}{pointer(path)}: {node} is not an RFC 3339 date-time")
    walk(record, [])

# ---------------------------------------------------------------- CSV layout

NUMBERED = {  # JSON array of objects -> singular CSV prefix, numbered from 1
    "detainees": "detainee", "attachments": "attachment", "links": "link",
    "translations": "translation", "relativesInXinjiang": "relative", "detention": "detention",
}
SINGULAR = {v: k for k, v in NUMBERED.items()}
PAIR_LISTS = {"documents": ("kind", "number"), "messengerIds": ("app", "id"), "other": ("lang", "value")}


def snake(name):
    return re.sub(r"([A-Z])", lambda m: "_" + m.group(1).lower(), name)


def camel(name):
    return re.sub(r"_([a-z])", lambda m: m.group(1).upper(), name)


def columns(schema):
    """The CSV columns derived from the schema ('N'/'M' stand for 1, 2, ...)."""
    out = []

    def visit(node, prefix, depth):
        node = resolve(schema, node)
        for name, prop in node.get("properties", {}).items():
            r = resolve(schema, prop)
            col = f"{prefix}{snake(name)}"
            if name == "statusHistory":
                out.append((f"{prefix}status", "list of STATUS[@DATE[~]][: NOTE]"))
            elif name in PAIR_LISTS:
                a, b = PAIR_LISTS[name]
                out.append((col, f"list of {a}:{b}"))
            elif name in NUMBERED:
                idx = "NMK"[depth]
                visit(r["items"], f"{prefix}{NUMBERED[name]}{idx}.", depth + 1)
            elif r.get("type") == "object":
                visit(r, col + ".", depth)
            elif r.get("type") == "array":
                out.append((col, "list"))
            else:
                out.append((col, r.get("type", "string")))
    visit(schema, "", 0)
    return out


def split_list(cell):
    items, cur, i = [], "", 0
    while i < len(cell):
        ch = cell[i]
        if ch == "\\" and i + 1 < len(cell) and cell[i + 1] in ";\\":
            cur += cell[i + 1]
            i += 2
            continue
        if ch == ";":
            items.append(cur.strip())
            cur = ""
        else:
            cur += ch
        i += 1
    items.append(cur.strip())
    return [x for x in items if x]


def parse_status(item):
    m = re.fullmatch(r"([a-z_]+)(?:@([0-9]{4}(?:-[0-9]{2}){0,2})(~)?)?(?::\s*(.+))?", item, re.S)
    if not m:
        raise ValueError(f"bad status item {item!r}")
    ev = {"status": m.group(1)}
    if m.group(2):
        ev["date"] = m.group(2)
    if m.group(3):
        ev["approximate"] = True
    if m.group(4):
        ev["note"] = m.group(4).strip()
    return ev


def row_to_record(schema, row):
    record = {}
    for col, cell in row.items():
        if cell is None or cell.strip() == "":
            continue
        segs = col.split(".")
        node, sch = record, schema
        for k, seg in enumerate(segs):
            last = k == len(segs) - 1
            sch = resolve(schema, sch)
            m = re.fullmatch(r"([a-z]+)([0-9]+)", seg)
            if m and m.group(1) in SINGULAR and SINGULAR[m.group(1)] in sch.get("properties", {}):
                key, idx = SINGULAR[m.group(1)], int(m.group(2)) - 1
                arr = node.setdefault(key, [])
                while len(arr) <= idx:
                    arr.append({})
                node, sch = arr[idx], resolve(schema, sch["properties"][key])["items"]
                continue
            key = "statusHistory" if seg == "status" and "statusHistory" in sch.get("properties", {}) else camel(seg)
            if key not in sch.get("properties", {}):
                raise ValueError(f"unknown column {col!r}")
            prop = resolve(schema, sch["properties"][key])
            if not last:
                node, sch = node.setdefault(key, {}), prop
                continue
            text = cell if key in ("transcript", "text") else cell.strip()
            if key == "statusHistory":
                node[key] = [parse_status(x) for x in split_list(text)]
            elif key in PAIR_LISTS:
                a, b = PAIR_LISTS[key]
                node[key] = [dict(zip((a, b), (p.strip() for p in x.split(":", 1)))) for x in split_list(text)]
            elif prop.get("type") == "array":
                node[key] = split_list(text)
            elif prop.get("type") == "integer":
                node[key] = int(text)
            elif prop.get("type") == "number":
                node[key] = float(text)
            elif prop.get("type") == "boolean":
                node[key] = {"true": True, "false": False}[text]
            else:
                node[key] = text
    record.setdefault("schema", "amanat-record/v1")
    return record


def generic_column(col):
    col = re.sub(r"^(detainee|attachment|link)[0-9]+", r"\1N", col)
    col = re.sub(r"\.(translation)[0-9]+", r".\1N", col)
    return re.sub(r"\.(relative|detention)[0-9]+", r".\1M", col)


def expand_braces(tok):
    m = re.search(r"\{([^}]*)\}", tok)
    if not m:
        return [tok]
    return [x for alt in m.group(1).split(",") for x in expand_braces(tok[:m.start()] + alt + tok[m.end():])]


def distinct(findings):
    d = {}
    for f in findings:
        d.setdefault(f["kind"], set()).add(f["normalized"])
    return {k: len(v) for k, v in sorted(d.items())}


def compare(name, record, found, exp, errors):
    """The scanner's findings must equal expected.json's, and no listed negative may be reported."""
    key = lambda f: (f["pointer"], f["kind"], f["raw"], f["normalized"], f["status"])
    want, got = set(map(key, exp.get("findings", []))), set(map(key, found))
    for f in sorted(want - got):
        errors.append(f"{name}: expected finding not found: {f}")
    for f in sorted(got - want):
        errors.append(f"{name}: unexpected finding: {f}")
    if exp.get("counts") != counts(found):
        errors.append(f"{name}: counts {counts(found)} != expected {exp.get('counts')}")
    if exp.get("distinct") != distinct(found):
        errors.append(f"{name}: distinct values {distinct(found)} != expected {exp.get('distinct')}")
    if exp.get("consent") != record.get("testimony", {}).get("consent"):
        errors.append(f"{name}: consent differs from expected.json")
    for neg in exp.get("negatives", []):
        node = record
        for part in neg["pointer"].strip("/").split("/"):
            node = node[int(part)] if isinstance(node, list) else node[part]
        if neg["raw"] not in node:
            errors.append(f"{name}: negative {neg['raw']!r} is not in {neg['pointer']}")
        if any(f["pointer"] == neg["pointer"] and neg["raw"] in f["raw"] for f in found):
            errors.append(f"{name}: negative {neg['raw']!r} was reported")


def all_records(schema, examples):
    for p in examples:
        yield p.name, json.loads(p.read_text(encoding="utf-8"))
    table = list(csv.reader(io.StringIO((HERE / "records.csv").read_text(encoding="utf-8-sig"), newline="")))
    for n, cells in enumerate(table[1:], start=2):
        yield f"records.csv row {n}", row_to_record(schema, dict(zip(table[0], cells)))

# ---------------------------------------------------------------- main


def main(argv):
    schema = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    if argv[1:2] == ["--make-cn"]:
        print(make_cn_id(argv[2], argv[3], argv[4]))
        return 0
    if argv[1:2] == ["--make-iin"]:
        print(make_iin(argv[2], argv[3], argv[4]))
        return 0
    if argv[1:2] == ["--columns"]:
        for col, kind in columns(schema):
            print(f"{col}\t{kind}")
        return 0
    examples = sorted(p for p in HERE.glob("*.json") if p.name != "expected.json")
    if argv[1:2] == ["--findings"]:
        out = {}
        for name, rec in all_records(schema, examples):
            fs = record_findings(rec)
            out[name] = {"consent": rec.get("testimony", {}).get("consent"),
                         "counts": counts(fs), "distinct": distinct(fs), "findings": fs}
        print(json.dumps(out, ensure_ascii=False, indent=2))
        return 0

    errors = []
    jsonschema.Draft202012Validator.check_schema(schema)
    check_annotations(schema, errors)
    validator = jsonschema.Draft202012Validator(schema, format_checker=jsonschema.FormatChecker())
    expected = json.loads((HERE / "expected.json").read_text(encoding="utf-8"))
    ids_checked = {"cn_resident_id": 0, "kz_iin": 0, "phone": 0}
    total_findings = 0
    levels = {lvl: 0 for lvl in LEVELS}

    for p in examples:
        record = json.loads(p.read_text(encoding="utf-8"))
        for e in validator.iter_errors(record):
            errors.append(f"{p.name}{pointer(list(e.absolute_path))}: {e.message}")
        check_dates(record, errors, p.name)
        found = record_findings(record)
        for f in found:
            if f["status"] == "invalid":
                errors.append(f"{p.name}{f['pointer']}: {f['kind']} {f['raw']!r} is not well formed")
            if f["pointer"].endswith(("/cnResidentId", "/kzIin")) and f["status"] != "valid":
                errors.append(f"{p.name}{f['pointer']}: structured {f['kind']} fails its checksum")
            if f["kind"] in ids_checked:
                ids_checked[f["kind"]] += 1
        compare(p.name, record, found, expected.get(p.name, {}), errors)
        total_findings += len(found)

        def tally(node, path):
            if isinstance(node, dict):
                for k, v in node.items():
                    tally(v, path + [k])
            elif isinstance(node, list):
                for i, v in enumerate(node):
                    tally(v, path + [i])
            else:
                levels[sensitivity_of(schema, path)] += 1
        tally(record, [])

    # CSV
    text = (HERE / "records.csv").read_bytes().decode("utf-8-sig")
    table = list(csv.reader(io.StringIO(text, newline=""), strict=True))
    header, body = table[0], table[1:]
    known = {c for c, _ in columns(schema)}
    if len(set(header)) != len(header):
        errors.append("records.csv: a column appears twice")
    for col in header:
        if generic_column(col) not in known:
            errors.append(f"records.csv: column {col!r} is not in the documented layout")
    csv_findings = 0
    for n, cells in enumerate(body, start=2):
        name = f"records.csv row {n}"
        if len(cells) != len(header):
            errors.append(f"{name}: {len(cells)} cells for {len(header)} columns")
            continue
        try:
            rec = row_to_record(schema, dict(zip(header, cells)))
        except (ValueError, KeyError) as exc:
            errors.append(f"{name}: {exc}")
            continue
        for e in validator.iter_errors(rec):
            errors.append(f"{name}{pointer(list(e.absolute_path))}: {e.message}")
        check_dates(rec, errors, name)
        found = record_findings(rec)
        csv_findings += len(found)
        compare(name, rec, found, expected.get(name, {}), errors)
        for f in found:
            if f["pointer"].endswith(("/cnResidentId", "/kzIin")) and f["status"] != "valid":
                errors.append(f"{name}{f['pointer']}: structured {f['kind']} fails its checksum")
            if f["kind"] in ids_checked:
                ids_checked[f["kind"]] += 1
    expected_names = {p.name for p in examples} | {f"records.csv row {n}" for n in range(2, len(body) + 2)}
    if set(expected) != expected_names:
        errors.append(f"expected.json keys {sorted(expected)} != {sorted(expected_names)}")

    # the column list in records.md must be the one derived from the schema
    md = (HERE.parent / "records.md").read_text(encoding="utf-8")
    block = md.split("from the schema):\n\n```\n", 1)[1].split("```", 1)[0] if "from the schema):" in md else ""
    listed = set()
    for line in block.splitlines():
        for tok in line.split():
            if tok.startswith("("):
                break
            listed.update(expand_braces(tok))
    if listed != known:
        errors.append(f"records.md column list differs from the schema: missing {sorted(known - listed)}, "
                      f"extra {sorted(listed - known)}")

    # invalid examples
    invalid = sorted((HERE / "invalid").glob("*.json"))
    for p in invalid:
        errs = list(validator.iter_errors(json.loads(p.read_text(encoding="utf-8"))))
        if len(errs) != 1:  # each file breaks exactly one rule (see README.md)
            errors.append(f"invalid/{p.name}: {len(errs)} schema errors, expected exactly 1")

    for e in errors:
        print("FAIL", e)
    print(f"schema: ok ({len(columns(schema))} CSV columns derived)")
    print(f"examples: {len(examples)} records, {total_findings} identifier findings "
          f"(structured+text); checksums recomputed: {ids_checked}")
    print(f"leaf values by sensitivity: {levels}")
    print(f"records.csv: {len(body)} rows, {len(header)} columns, {csv_findings} findings")
    print(f"invalid/: {len(invalid)} files, each rejected for exactly one reason" if not any(e.startswith('invalid/') for e in errors) else "invalid/: FAIL")
    print("RESULT:", "FAIL" if errors else "PASS")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
