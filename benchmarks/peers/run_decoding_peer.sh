#!/usr/bin/env bash
# Test-time search speed of GeoToken.Model (TorchSharp, KV cache: encoder once per image, cross-attention
# keys/values of the memory once per image, beams and samples as cache rows) against the paper's reference
# algorithm in PyTorch (benchmarks/peers/decoding_reference.py: encoder once per image, then the whole
# prefix re-decoded at every step against the full memory, no cache), on the same random weights and the
# same inputs, 2 torch threads on both sides, eval mode, no autograd.
#
#   benchmarks/peers/run_decoding_peer.sh [--configs "paper small small-compact"] [--modes "beam5 pool"]
#                                         [--batches "1 64"] [--work DIR]
#
# Configurations (model preset, context layout → encoder positions; M = 3 feature views, d_in = 768, k = 15):
#   paper:          paper preset (d=512, 8 heads, ff 1024, 10+10 layers, ≈55M parameters), paper layout, 214 positions
#   small:          small preset (d=256, 4 heads, ff 512, 4+4 layers), paper layout, 214 positions
#   small-compact:  small preset, compact layout (one position per neighbor), 19 positions
# Modes: beam5 = beam search of width 5; pool = the paper's 31-candidate pool (greedy + 30 samples at T = 0.7).
# Batch 1 measures per-image latency (images decoded one at a time); batch 64 measures throughput.
# Both sides print their top sequences (best beam / greedy); the table reports how many agree.
# Timings are only meaningful on an otherwise idle machine: the script prints the load average it saw.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
configs="paper small small-compact"
modes="beam5 pool"
batches="1 64"
work=""
while [ $# -gt 0 ]; do
  case "$1" in
    --configs) configs="$2"; shift 2 ;;
    --modes) modes="$2"; shift 2 ;;
    --batches) batches="$2"; shift 2 ;;
    --work) work="$2"; shift 2 ;;
    *) echo "usage: $0 [--configs \"paper small small-compact\"] [--modes \"beam5 pool\"] [--batches \"1 64\"] [--work DIR]" >&2; exit 2 ;;
  esac
done
[ -n "$work" ] || work="$(mktemp -d -t geotoken-decode-bench.XXXXXX)"
mkdir -p "$work"

python=/usr/bin/python3
[ -x "$python" ] || python=python3
"$python" -c 'import torch' 2>/dev/null || { echo "PyTorch is missing: eng/setup.sh --peers installs python3-torch" >&2; exit 1; }

echo "building the .NET benchmark (Release)…" >&2
dotnet build -c Release -v q --nologo "$root/benchmarks/GeoToken.Benchmarks.Decoding" >/dev/null
bench_dll="$root/benchmarks/GeoToken.Benchmarks.Decoding/bin/Release/net10.0/GeoToken.Benchmarks.Decoding.dll"
peer="$root/benchmarks/peers/decoding_reference.py"
export OMP_NUM_THREADS=2 MKL_NUM_THREADS=2

results="$work/results.jsonl"
: > "$results"
loads=()
for cfg in $configs; do
  case "$cfg" in
    paper) preset=paper; layout=paper ;;
    small) preset=small; layout=paper ;;
    small-compact) preset=small; layout=compact ;;
    *) echo "unknown configuration '$cfg' (paper, small, small-compact)" >&2; exit 2 ;;
  esac
  dir="$work/$cfg"
  dotnet "$bench_dll" prepare --config "$preset" --layout "$layout" --images 128 --out "$dir"
  for mode in $modes; do
    for batch in $batches; do
      # Images timed per side: latency runs decode a few images one by one; throughput runs whole batches.
      # The reference is slow (seconds to minutes per image at paper size), so it gets fewer images.
      if [ "$batch" = 1 ]; then
        case "$cfg" in paper) ours=8; ref=3 ;; *) ours=16; ref=6 ;; esac
      else
        ours=$((2 * batch)); ref=$batch
      fi
      for side in torchsharp pytorch; do
        load=$(cut -d' ' -f1-3 /proc/loadavg)
        loads+=("$load")
        echo "$cfg $mode batch $batch: $side (load $load)" >&2
        if [ "$side" = torchsharp ]; then
          line=$(dotnet "$bench_dll" decode --dir "$dir" --mode "$mode" --batch "$batch" --images "$ours" --warmup 1 --threads 2)
        else
          line=$("$python" "$peer" --dir "$dir" --mode "$mode" --batch "$batch" --images "$ref" --warmup 1 --threads 2)
        fi
        echo "{\"config\": \"$cfg\", \"layout\": \"$layout\", \"mode\": \"$mode\", \"batch\": $batch, \"side\": \"$side\", \"load\": \"$load\", \"result\": $line}" >> "$results"
      done
    done
  done
done

"$python" - "$results" <<'PY'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
key = lambda r: (r["config"], r["mode"], r["batch"])
print(f"{'config':14} {'layout':8} {'mode':6} {'batch':>5}  {'ours s/img':>10} {'ref s/img':>10} {'speed-up':>8}  {'ours img/s':>10} {'ref img/s':>10}  {'top agree':>9}  load (ours | ref)")
for k in dict.fromkeys(key(r) for r in rows):
    sel = {r["side"]: r for r in rows if key(r) == k}
    if "torchsharp" not in sel or "pytorch" not in sel:
        continue
    o, p = sel["torchsharp"]["result"], sel["pytorch"]["result"]
    n = min(len(o["top"]), len(p["top"]))
    agree = sum(a == b for a, b in zip(o["top"][:n], p["top"][:n]))
    print(f"{k[0]:14} {sel['torchsharp']['layout']:8} {k[1]:6} {k[2]:>5}  {o['seconds_per_image']:>10.4f} {p['seconds_per_image']:>10.3f} {p['seconds_per_image'] / o['seconds_per_image']:>7.1f}x  "
          f"{o['images_per_second']:>10.2f} {p['images_per_second']:>10.3f}  {agree:>4}/{n:<4}  {sel['torchsharp']['load']} | {sel['pytorch']['load']}")
print("(s/img: wall time per image, batch 1 = latency, batch 64 = 1 / throughput; speed-up = ref s/img ÷ ours s/img;")
print(" top agree: same best beam (beam5) or greedy sequence (pool) on the first images, same weights and inputs)")
for s in ("torchsharp", "pytorch"):
    r = next((x["result"] for x in rows if x["side"] == s), None)
    if r:
        print(f"{s}: {r['framework']}, {r['threads']} threads")
PY
echo "raw results: $results" >&2
