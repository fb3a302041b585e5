#!/usr/bin/env bash
# TorchSharp vs ONNX Runtime through the whole evaluation (issue 15: identical greedy and beam columns of
# `geotoken eval --predictions` on 1,000 SynthGeo queries). See README, "ONNX Runtime parity".
#
#   eng/repro/onnx_eval_parity.sh DATA_DIR
#
# 1. Generates SynthGeo (TRAIN rows, default 20,000; the first QUERIES = 1,000 test rows are evaluated; seed 7).
# 2. Trains the small preset for EPOCHS (default 2) on it, seeded, and exports it with `geotoken export onnx`.
# 3. Runs `geotoken eval --predictions` with the model folder (TorchSharp) and with the export (ONNX Runtime), same
#    options, each on its own copy of the query folder, and compares every column: per strategy, how many queries
#    got the same answer (the same text: coordinates are written round-trip) and how far apart the others are; the
#    exit status is 1 when a greedy or beam column differs.
set -euo pipefail
DATA=${1:?usage: onnx_eval_parity.sh DATA_DIR}
TRAIN=${TRAIN:-20000}
QUERIES=${QUERIES:-1000}
EPOCHS=${EPOCHS:-2}
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
mkdir -p "$DATA"
DATA=$(cd "$DATA" && pwd)
dotnet build "$ROOT/src/GeoToken.Cli" -c Release -v q -nologo
CLI="dotnet $ROOT/src/GeoToken.Cli/bin/Release/net10.0/GeoToken.Cli.dll"
t() { local s; s=$(date +%s); "$@"; echo "TIME $(( $(date +%s) - s )) s: $*" >&2; }

[ -f "$DATA/synth/train/meta.csv" ] || t $CLI synth --out "$DATA/synth" --train "$TRAIN" --test "$QUERIES" --dim 64 --seed 7
[ -f "$DATA/small/config.json" ] || t $CLI train --train "$DATA/synth/train" --val "$DATA/synth/test" --out "$DATA/small" --preset small --epochs "$EPOCHS" --batch 128 --seed 1
[ -f "$DATA/small-onnx/config.json" ] || t $CLI export onnx --model "$DATA/small" --out "$DATA/small-onnx"
for side in torch onnx; do
  rm -rf "$DATA/test-$side"; cp -r "$DATA/synth/test" "$DATA/test-$side"
done
t $CLI eval --model "$DATA/small" --gallery "$DATA/synth/train" --query "$DATA/test-torch" --max-queries "$QUERIES" --predictions "$DATA/torch.csv" --json "$DATA/torch.json" | tee "$DATA/torch.out"
t $CLI eval --model "$DATA/small-onnx" --gallery "$DATA/synth/train" --query "$DATA/test-onnx" --max-queries "$QUERIES" --predictions "$DATA/onnx.csv" --json "$DATA/onnx.json" | tee "$DATA/onnx.out"
/usr/bin/python3 - "$DATA/torch.csv" "$DATA/onnx.csv" <<'PY'
import csv, math, sys
def km(a, b, c, d):
    p1, p2 = math.radians(a), math.radians(c)
    h = math.sin((p2 - p1) / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(math.radians(d - b) / 2) ** 2
    return 2 * 6371.0088 * math.asin(min(1.0, math.sqrt(h)))
t, o = (list(csv.DictReader(open(p, newline="", encoding="utf-8"))) for p in sys.argv[1:3])
assert len(t) == len(o) and [r["IMG_ID"] for r in t] == [r["IMG_ID"] for r in o], "the runs cover different queries"
bad = False
print(f"| strategy | same answer (of {len(t)}) | largest gap of the others, km |")
print("|---|---:|---:|")
for col in [c[len("LAT_pred_"):] for c in t[0] if c.startswith("LAT_pred_")]:
    diff = [km(float(a[f"LAT_pred_{col}"]), float(a[f"LON_pred_{col}"]), float(b[f"LAT_pred_{col}"]), float(b[f"LON_pred_{col}"]))
            for a, b in zip(t, o) if (a[f"LAT_pred_{col}"], a[f"LON_pred_{col}"]) != (b[f"LAT_pred_{col}"], b[f"LON_pred_{col}"])]
    print(f"| {col} | {len(t) - len(diff)} | {max(diff):.1f} |" if diff else f"| {col} | {len(t)} | — |")
    bad |= col in ("greedy", "beam", "beam-paper") and bool(diff)
sys.exit(1 if bad else 0)
PY
