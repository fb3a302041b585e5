#!/usr/bin/env bash
# Packs every shipped project and proves the packages work as a user gets them, from the local folder feed
# (artifacts/packages) with a package cache that holds no GeoToken package:
#   1. every .nupkg/.snupkg is at most 250 MB (nuget.org's limit) and carries no native .pdb;
#   2. the geotoken tool installs into a temporary tool path; `s2` runs; a torch verb without libtorch prints one line
#      and exits 1; `setup torch` brings libtorch; `train` (a few steps) and `export onnx` run;
#   3. samples/OnnxConsumer (GeoToken + GeoToken.Onnx only) opens that export on ONNX Runtime and decodes greedily;
#      its dependency closure has no TorchSharp or libtorch, and no .so it ships needs GLIBCXX_3.4.32 or newer;
#   4. samples/PackageConsumer (every library package + libtorch) trains, exports, reopens, draws a map; built
#      without libtorch, TorchRuntime.EnsureAvailable() names the package to add.
# Prints one line per step and the cold-start times; set PACK_CHECK_KEEP=1 to keep the work folder.
set -euo pipefail
cd "$(dirname "$0")/.."
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1
step() { printf 'pack-check: %s\n' "$*" >&2; }
fail() { printf 'pack-check: FAILED: %s\n' "$*" >&2; exit 1; }
version=0.1.0
feed=$PWD/artifacts/packages

rm -rf "$feed"
dotnet pack GeoToken.sln -c Release -v quiet -nologo >/dev/null || { dotnet pack GeoToken.sln -c Release -v quiet -nologo; fail "dotnet pack"; }
ls "$feed"/*.nupkg >/dev/null

work=$(mktemp -d)
[ "${PACK_CHECK_KEEP:-0}" = 1 ] && step "work folder: $work" || trap 'rm -rf "$work"' EXIT
# Reuse downloaded third-party packages, but never a cached GeoToken package.
cache=$work/nuget
mkdir -p "$cache"
if [ -d "$HOME/.nuget/packages" ]; then
  for d in "$HOME"/.nuget/packages/*; do
    case "$(basename "$d")" in geotoken*) ;; *) ln -s "$d" "$cache/" ;; esac
  done
fi
export NUGET_PACKAGES=$cache GEOTOKEN_HOME=$work/home

# 1. Sizes and native symbols.
python3 - "$feed" <<'PY' || fail "package sizes or contents"
import sys, zipfile, pathlib
limit, bad = 250_000_000, []
for p in sorted(pathlib.Path(sys.argv[1]).glob("*nupkg")):
    size = p.stat().st_size
    with zipfile.ZipFile(p) as z:
        names = z.namelist()
        unpacked = sum(i.file_size for i in z.infolist())
    pdbs = [n for n in names if "/native/" in n and n.endswith(".pdb")]
    if size > limit: bad.append(f"{p.name} is {size/1e6:.1f} MB (> 250 MB)")
    if pdbs: bad.append(f"{p.name} carries native symbols: {pdbs[:3]}")
    if p.suffix == ".nupkg" and "README.md" not in names: bad.append(f"{p.name} has no README.md")
    print(f"pack-check: {p.name:40} {size/1e6:8.1f} MB ({unpacked/1e6:.1f} MB unpacked)", file=sys.stderr)
for b in bad: print("pack-check: " + b, file=sys.stderr)
sys.exit(1 if bad else 0)
PY

# 2. The tool.
tool=$work/tool/geotoken
dotnet tool install GeoToken.Cli --version "$version" --tool-path "$work/tool" --add-source "$feed" >/dev/null || fail "dotnet tool install"
"$tool" s2 --lat 48.8584 --lon 2.2945 | grep -q '47e66fe1f36a36a5' || fail "geotoken s2"
"$tool" synth --out "$work/synth" --train 300 --test 20 --dim 32 >/dev/null 2>&1 || fail "geotoken synth"
train=("$tool" train --train "$work/synth/train" --val "$work/synth/test" --out "$work/tiny" --preset tiny --epochs 1 --batch 100 --val-rows 20)
set +e
"${train[@]}" >"$work/nolib.out" 2>"$work/nolib.err"
rc=$?
set -e
[ "$rc" -eq 1 ] || fail "geotoken train without libtorch exited $rc, not 1"
[ ! -s "$work/nolib.out" ] && [ "$(wc -l <"$work/nolib.err")" -eq 1 ] && grep -q "geotoken setup torch" "$work/nolib.err" \
  || { cat "$work/nolib.out" "$work/nolib.err" >&2; fail "geotoken train without libtorch: not one line naming 'geotoken setup torch'"; }
step "tool without libtorch: $(cut -c1-110 "$work/nolib.err")..."
"$tool" setup torch >"$work/setup.out" 2>&1 || { cat "$work/setup.out" >&2; fail "geotoken setup torch"; }
step "$(tail -1 "$work/setup.out")"
"${train[@]}" >"$work/train.out" 2>&1 || { cat "$work/train.out" >&2; fail "geotoken train"; }
"$tool" export onnx --model "$work/tiny" --out "$work/onnx" >"$work/export.out" 2>&1 || { cat "$work/export.out" >&2; fail "geotoken export onnx"; }
step "tool: s2, synth, train, export onnx ok"

# 3. The ONNX-only consumer.
dotnet publish samples/OnnxConsumer -c Release -o "$work/onnx-consumer" -v quiet -nologo >/dev/null || fail "publish samples/OnnxConsumer"
python3 - samples/OnnxConsumer/obj/project.assets.json <<'PY' || fail "the ONNX consumer's closure has TorchSharp or libtorch"
import json, sys
libs = json.load(open(sys.argv[1]))["libraries"]
torch = [n for n in libs if "torch" in n.lower()]
if torch: print("pack-check: " + ", ".join(torch), file=sys.stderr); sys.exit(1)
PY
if find "$work/onnx-consumer" -iname '*torch*' | grep -q .; then fail "the ONNX consumer's output has torch files"; fi
sos=0
while IFS= read -r so; do
  sos=$((sos + 1))
  if readelf -V --wide "$so" 2>/dev/null | grep -oE 'GLIBCXX_3\.4\.[0-9]+' | awk -F. '$3 >= 32 {found=1} END {exit !found}'; then
    fail "$so needs $(readelf -V --wide "$so" | grep -oE 'GLIBCXX_3\.4\.[0-9]+' | sort -t. -k3 -n | tail -1)"
  fi
done < <(find "$work/onnx-consumer" -name '*.so*' -type f)
[ "$sos" -gt 0 ] || fail "the ONNX consumer's output has no .so to check"
onnx_line=$("$work/onnx-consumer/OnnxConsumer" "$work/onnx" "$work/synth/train" "$work/synth/test") || fail "samples/OnnxConsumer"
step "$onnx_line; no torch in its closure; none of its $sos .so files needs GLIBCXX_3.4.32"

# 4. The TorchSharp-path consumer, then the same build without libtorch.
dotnet publish samples/PackageConsumer -c Release -o "$work/consumer" -v quiet -nologo >/dev/null || fail "publish samples/PackageConsumer"
"$work/consumer/PackageConsumer" >"$work/consumer.out" 2>&1 || { cat "$work/consumer.out" >&2; fail "samples/PackageConsumer"; }
step "PackageConsumer: $(tail -1 "$work/consumer.out")"
cp -al "$work/consumer" "$work/consumer-nolib"
find "$work/consumer-nolib" \( -name 'libtorch*' -o -name 'libc10*' -o -name 'torch_cpu*' -o -name 'c10.dll' \) -delete
set +e
probe=$("$work/consumer-nolib/PackageConsumer" --probe 2>&1)
rc=$?
set -e
[ "$rc" -eq 3 ] && grep -q "add package libtorch-cpu-" <<<"$probe" || { echo "$probe" >&2; fail "PackageConsumer without libtorch: exit $rc"; }
step "PackageConsumer without libtorch: ${probe:0:110}..."
