#!/usr/bin/env python3
"""Compares `amanat scan --json` output with the generator's ground truth; prints recall and extra findings."""
import json
import sys

found = json.load(open(sys.argv[1]))
truth = json.load(open(sys.argv[2]))["identifiers"]
by_start = {(f["start"], f["kind"]): f["value"] for f in found}
hit = 0
wrong_value = 0
missed = {}
for t in truth:
    v = by_start.get((t["start"], t["kind"]))
    if v is None:
        missed[t["kind"]] = missed.get(t["kind"], 0) + 1
    elif v != t["value"]:
        wrong_value += 1
    else:
        hit += 1
truth_keys = {(t["start"], t["kind"]) for t in truth}
extra = sum(1 for f in found if (f["start"], f["kind"]) not in truth_keys)
print("ground truth: %d identifiers; found %d (%d with the right value); recall %.4f" % (
    len(truth), len(found), hit, hit / len(truth)))
print("missed by kind: %s; wrong value: %d; extra findings (not planted): %d" % (missed or "none", wrong_value, extra))
