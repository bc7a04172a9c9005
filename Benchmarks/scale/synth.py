#!/usr/bin/env python3
"""Synthetic records for the scale benchmark (Benchmarks/scale/run.sh). Synthetic data only: never a real person.

    synth.py csv TEMPLATE.csv OUT.csv N
        N rows: the template's data rows repeated in order, row i with the case reference SCALE-<i> and every
        Chinese resident ID and Kazakh IIN replaced by an invented one with a valid checksum, distinct across rows
        (the same replacement is made wherever the number appears in the row, the transcript included).

    synth.py edits TEMPLATE.csv ADDED.json TEMPLATES_DIR OUT_DIR K
        For K records spread evenly over the added ones (ADDED.json: the output of `amanat add --json`), writes
        OUT_DIR/<n>.json (the content of that record with the tag "scale-edit" added), OUT_DIR/ids.txt ("<id> <file>"
        per line) and OUT_DIR/shared.txt (how many of them are not internal, so go to a partner). TEMPLATES_DIR/<r>.json
        holds `amanat show --format json` of row r of the CSV, for each template row r; row i's content is row (i mod rows)'s with row i's numbers and reference.
"""
import csv
import datetime
import json
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "scan"))
from idgen import cn18, iin  # noqa: E402

EPOCH = datetime.date(1940, 1, 1)
DAYS = (datetime.date(1999, 12, 31) - EPOCH).days + 1


def invented_cn(original, n):
    """The original's province and birth date, with the county digits and sequence number taken from n."""
    return cn18(original[:2] + "%04d" % ((n // 1000) % 10000) + original[6:14] + "%03d" % (n % 1000))


def invented_iin(original, n):
    """A birth date in 1940-1999 and a serial number taken from n, the original's sex digit (3 or 4 = 1900s)."""
    day = EPOCH + datetime.timedelta(days=(n // 4000) % DAYS)
    sex = original[6] if original[6] in "34" else "3"
    other = "4" if sex == "3" else "3"
    m = n % 4000
    for digit, serial in ((sex, 2 * m), (sex, 2 * m + 1), (other, 2 * m)):
        value = iin(day.strftime("%y%m%d") + digit + "%04d" % serial)
        if value:
            return value
    raise SystemExit("no valid IIN for %d" % n)


def reference(i):
    return "SCALE-%08d" % i


def load(template):
    with open(template, newline="", encoding="utf-8") as f:
        rows = list(csv.reader(f))
    header, data = rows[0], [r for r in rows[1:] if any(r)]
    return header, data


def replacements(header, row, i):
    """{original text: replacement} for row i (its numbers and its reference)."""
    out = {}
    for j, (name, value) in enumerate(zip(header, row)):
        if not value:
            continue
        n = i * len(header) + j
        if name.endswith("cn_resident_id"):
            out[value] = invented_cn(value, n)
        elif name.endswith("kz_iin"):
            out[value] = invented_iin(value, n)
        elif name == "provenance.reference":
            out[value] = reference(i)
    return out


def apply(text, mapping):
    for old, new in mapping.items():
        text = text.replace(old, new)
    return text


def write_csv(template, out, count):
    header, data = load(template)
    with open(out, "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f, lineterminator="\n")
        writer.writerow(header)
        for i in range(count):
            row = data[i % len(data)]
            mapping = replacements(header, row, i)
            writer.writerow([apply(cell, mapping) for cell in row])


def write_edits(template, added, templates, out, count):
    header, data = load(template)
    with open(added, encoding="utf-8") as f:
        records = json.load(f)
    if not records:
        raise SystemExit("%s lists no records" % added)
    os.makedirs(out, exist_ok=True)
    step = max(1, len(records) // max(1, count))
    lines = []
    shared = 0
    for k in range(min(count, len(records))):
        # Evenly spread, and through every template row (not only the rows a multiple of the step lands on).
        entry = records[min(len(records) - 1, k * step + k % len(data))]
        i = entry["row"] - 2  # spreadsheet rows: the header is row 1 (the generated file has no blank rows)
        r = i % len(data)
        # Template row r was written as row r; map its numbers back to the originals, then forward to row i's.
        back = {new: old for old, new in replacements(header, data[r], r).items()}
        forward = replacements(header, data[r], i)
        with open(os.path.join(templates, "%d.json" % r), encoding="utf-8") as f:
            text = f.read()
        content = json.loads(apply(apply(text, back), forward))
        if content.get("testimony", {}).get("consent") != "internal":
            shared += 1  # internal records stay at the collector: not in a bundle for a partner
        tags = content.get("tags", [])
        content["tags"] = tags + ["scale-edit"]
        path = os.path.join(out, "%d.json" % k)
        with open(path, "w", encoding="utf-8") as f:
            json.dump(content, f, ensure_ascii=False)
        lines.append("%s %s\n" % (entry["id"], path))
    with open(os.path.join(out, "ids.txt"), "w") as f:
        f.writelines(lines)
    with open(os.path.join(out, "shared.txt"), "w") as f:
        f.write("%d\n" % shared)


if __name__ == "__main__":
    if len(sys.argv) == 5 and sys.argv[1] == "csv":
        write_csv(sys.argv[2], sys.argv[3], int(sys.argv[4]))
    elif len(sys.argv) == 7 and sys.argv[1] == "edits":
        write_edits(sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5], int(sys.argv[6]))
    else:
        raise SystemExit(__doc__)
