#!/usr/bin/env bash
# Training throughput of GeoToken.Model (TorchSharp) against the same model in PyTorch
# (benchmarks/peers/geotoken_torch.py, Debian's PyTorch 1.13 with OpenBLAS), on the same batches,
# the same initial weights, the same model dimensions and batch size, 2 torch threads on both sides.
#
#   benchmarks/peers/run_training_peer.sh [--repeats R] [--configs "small paper"] [--work DIR]
#
# Configurations (name: preset, context layout, batch size, timed steps, untimed warm-up steps):
#   small: the `small` preset (d=256, 4+4 layers), compact layout (19 encoder positions), neighbor-copy head, batch 64
#   small-nocopy: the same without the neighbor-copy head
#   paper: the `paper` preset (d=512, 10+10 layers, ≈55M parameters), paper layout (214 positions), batch 8
# The two implementations run alternately, R times each; the medians of their samples/s are compared.
# Timings are only meaningful on an otherwise idle machine (check `uptime`): with 2 cores and 2 torch
# threads, any other busy process stalls every OpenMP region.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
repeats=3
configs="small paper"
work=""
while [ $# -gt 0 ]; do
  case "$1" in
    --repeats) repeats="$2"; shift 2 ;;
    --configs) configs="$2"; shift 2 ;;
    --work) work="$2"; shift 2 ;;
    *) echo "usage: $0 [--repeats R] [--configs \"small paper\"] [--work DIR]" >&2; exit 2 ;;
  esac
done
[ -n "$work" ] || work="$(mktemp -d -t geotoken-train-bench.XXXXXX)"
mkdir -p "$work"

python=/usr/bin/python3
[ -x "$python" ] || python=python3
"$python" -c 'import torch' 2>/dev/null || { echo "PyTorch is missing: eng/setup.sh --peers installs python3-torch" >&2; exit 1; }

echo "building the .NET benchmark (Release)…" >&2
dotnet build -c Release -v q --nologo "$root/benchmarks/GeoToken.Benchmarks.Training" >/dev/null
bench_dll="$root/benchmarks/GeoToken.Benchmarks.Training/bin/Release/net10.0/GeoToken.Benchmarks.Training.dll"
peer="$root/benchmarks/peers/geotoken_torch.py"

# Both sides: 2 intra-op threads (set in code too), same OpenMP settings.
export OMP_NUM_THREADS=2 MKL_NUM_THREADS=2

load1=$(cut -d' ' -f1 /proc/loadavg)
if awk -v l="$load1" 'BEGIN{exit !(l > 1.0)}'; then
  echo "warning: load average is $load1; other processes will distort the timings" >&2
fi

results="$work/results.jsonl"
: > "$results"
for cfg in $configs; do
  case "$cfg" in
    small) preset=small; layout=compact; copy=on; batch=64; steps=20; warmup=3 ;;
    small-nocopy) preset=small; layout=compact; copy=off; batch=64; steps=20; warmup=3 ;;
    paper) preset=paper; layout=paper; copy=off; batch=8; steps=6; warmup=2 ;;
    *) echo "unknown configuration '$cfg' (small, small-nocopy, paper)" >&2; exit 2 ;;
  esac
  dir="$work/$cfg"
  dotnet "$bench_dll" prepare --config "$preset" --layout "$layout" --copy "$copy" --batch-size "$batch" --batches 4 --out "$dir"
  for r in $(seq 1 "$repeats"); do
    # Alternate which side goes first so that slow drifts in machine load hit both.
    if [ $((r % 2)) -eq 1 ]; then order="torchsharp pytorch"; else order="pytorch torchsharp"; fi
    for side in $order; do
      echo "$cfg run $r/$repeats: $side (load $(cut -d' ' -f1-3 /proc/loadavg))" >&2
      if [ "$side" = torchsharp ]; then
        line=$(dotnet "$bench_dll" train --dir "$dir" --steps "$steps" --warmup "$warmup" --threads 2)
      else
        line=$("$python" "$peer" bench --dir "$dir" --steps "$steps" --warmup "$warmup" --threads 2)
      fi
      echo "{\"config\": \"$cfg\", \"side\": \"$side\", \"layout\": \"$layout\", \"result\": $line}" >> "$results"
    done
  done
done

"$python" - "$results" <<'PY'
import json, statistics, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
print(f"{'config':12} {'layout':8} {'batch':>5} {'params':>11}  {'TorchSharp samples/s':>21}  {'PyTorch samples/s':>18}  {'ratio':>5}  {'best-of ratio':>13}")
for cfg in dict.fromkeys(r["config"] for r in rows):
    sel = {s: [r["result"]["samples_per_second"] for r in rows if r["config"] == cfg and r["side"] == s] for s in ("torchsharp", "pytorch")}
    if not sel["torchsharp"] or not sel["pytorch"]:
        continue
    med = {s: statistics.median(v) for s, v in sel.items()}
    best = {s: max(v) for s, v in sel.items()}
    first = next(r for r in rows if r["config"] == cfg)
    res = first["result"]
    print(f"{cfg:12} {first['layout']:8} {res['batch_size']:>5} {res['parameters']:>11,}  {med['torchsharp']:>21.2f}  {med['pytorch']:>18.2f}  "
          f"{med['torchsharp'] / med['pytorch']:>5.2f}  {best['torchsharp'] / best['pytorch']:>13.2f}")
    fmt = lambda v: ", ".join(f"{x:.2f}" for x in v)
    print(f"{'':12}   runs: TorchSharp [{fmt(sel['torchsharp'])}]  PyTorch [{fmt(sel['pytorch'])}]")
print("(samples/s columns are medians over runs; ratio = TorchSharp / PyTorch)")
for s in ("torchsharp", "pytorch"):
    r = next((x["result"] for x in rows if x["side"] == s), None)
    if r:
        print(f"{s}: {r['framework']}, {r['threads']} threads")
PY
echo "raw results: $results" >&2
