#!/usr/bin/env python3
"""Compares two `geotoken eval` runs (old and new pipeline) exactly.

Usage: compare_eval.py OLD_DIR NEW_DIR
Each folder holds eval.json (--json), test.csv (--predictions) and, if present, calibration.json (--calibration).

- eval.json: the same strategies in the same order, and every field but ms_per_image (a timing) equal as written
  (the same JSON value and the same text of it).
- test.csv: the same header and row count, and every cell of every row equal as text (the coordinates are written
  round-trip, so equal text is equal doubles). Where a cell differs, the script reports how many rows differ per
  strategy and by how many km at most, and exits 1.
- calibration.json: equal as written.
Exit status 0 only if everything is equal.
"""
import csv
import json
import math
import os
import sys


def haversine_km(a_lat, a_lon, b_lat, b_lon):
    p1, p2 = math.radians(a_lat), math.radians(b_lat)
    dp, dl = p2 - p1, math.radians(b_lon - a_lon)
    h = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * 6371.0088 * math.asin(min(1.0, math.sqrt(h)))


def compare_json(old_path, new_path):
    with open(old_path, encoding="utf-8") as f:
        old = json.load(f)
    with open(new_path, encoding="utf-8") as f:
        new = json.load(f)
    problems = []
    names_old = [s["strategy"] for s in old]
    names_new = [s["strategy"] for s in new]
    if names_old != names_new:
        problems.append(f"strategies differ: {names_old} vs {names_new}")
        return 0, 0, problems
    equal = total = 0
    for a, b in zip(old, new):
        keys = sorted(set(a) | set(b))
        for k in keys:
            if k == "ms_per_image":
                continue
            total += 1
            if k not in a or k not in b:
                problems.append(f"{a['strategy']}.{k}: present in only one run")
            elif a[k] != b[k] or json.dumps(a[k]) != json.dumps(b[k]):
                problems.append(f"{a['strategy']}.{k}: {a[k]!r} vs {b[k]!r}")
            else:
                equal += 1
    return equal, total, problems


def compare_csv(old_path, new_path):
    with open(old_path, newline="", encoding="utf-8") as f:
        old = list(csv.reader(f))
    with open(new_path, newline="", encoding="utf-8") as f:
        new = list(csv.reader(f))
    problems = []
    if not old or old[0] != new[0]:
        problems.append(f"headers differ: {old[:1]} vs {new[:1]}")
        return 0, 0, problems
    header = old[0]
    if len(old) != len(new):
        problems.append(f"row counts differ: {len(old) - 1} vs {len(new) - 1}")
        return 0, 0, problems
    differing_rows = set()
    per_strategy = {}  # strategy -> (rows that differ, max km between the two predictions)
    cells = 0
    for r, (a, b) in enumerate(zip(old[1:], new[1:]), start=1):
        if len(a) != len(header) or len(b) != len(header):
            problems.append(f"row {r}: {len(a)} and {len(b)} cells; the header has {len(header)}")
            continue
        cells += len(a)
        for c, name in enumerate(header):
            if a[c] != b[c]:
                differing_rows.add(r)
                if name.startswith("LAT_pred") or name.startswith("LON_pred"):
                    strategy = name[len("LAT_pred"):].lstrip("_") or "(primary)"
                    lat = c if name.startswith("LAT") else c - 1
                    km = haversine_km(float(a[lat]), float(a[lat + 1]), float(b[lat]), float(b[lat + 1]))
                    rows, worst = per_strategy.get(strategy, (set(), 0.0))
                    rows.add(r)
                    per_strategy[strategy] = (rows, max(worst, km))
                else:
                    problems.append(f"row {r}, column {name}: {a[c]!r} vs {b[c]!r}")
    for strategy, (rows, worst) in sorted(per_strategy.items()):
        problems.append(f"{strategy}: {len(rows)} rows differ (first: row {min(rows)}), at most {worst:.3f} km apart")
    return len(old) - 1, cells, problems


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    old_dir, new_dir = sys.argv[1], sys.argv[2]
    ok = True
    equal, total, problems = compare_json(os.path.join(old_dir, "eval.json"), os.path.join(new_dir, "eval.json"))
    print(f"eval.json: {equal} of {total} metric values equal (ms_per_image excluded)")
    for p in problems:
        print("  " + p)
    ok &= not problems and total > 0
    rows, cells, problems = compare_csv(os.path.join(old_dir, "test.csv"), os.path.join(new_dir, "test.csv"))
    print(f"test.csv: {rows} rows, {cells} cells compared; {'all equal' if not problems else 'differences:'}")
    for p in problems:
        print("  " + p)
    ok &= not problems and rows > 0
    cal_old, cal_new = os.path.join(old_dir, "calibration.json"), os.path.join(new_dir, "calibration.json")
    if os.path.exists(cal_old) or os.path.exists(cal_new):
        with open(cal_old, encoding="utf-8") as f:
            a = f.read()
        with open(cal_new, encoding="utf-8") as f:
            b = f.read()
        same = json.loads(a) == json.loads(b)
        print(f"calibration.json: {'equal' if same else 'differs: ' + a.strip() + ' vs ' + b.strip()}")
        ok &= same
    print("RESULT: " + ("identical" if ok else "DIFFERENT"))
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
