#!/usr/bin/env bash
# Packs every shipped project and proves the packages work as a user gets them, from the local folder feed
# (artifacts/packages) with a package cache that holds no GeoToken package:
#   1. every .nupkg/.snupkg is at most 250 MB (nuget.org's limit) and carries no native .pdb;
#   2. the geotoken tool installs into a temporary tool path and as a local tool (tool manifest); `--version` and `s2`
#      run; a torch verb without libtorch prints one line and exits 1; `setup torch` brings libtorch; `train` (a few
#      steps) and `export onnx` run;
#   3. samples/OnnxConsumer (GeoToken + GeoToken.Onnx only) opens that export on ONNX Runtime and locates test queries with the predictor;
#      its dependency closure (project.assets.json, deps.json, files) has no TorchSharp or libtorch, and no ELF library
#      it ships needs GLIBCXX_3.4.32 or newer (readelf's version needs; the check is itself tested on libraries that do
#      and do not need it);
#   4. samples/PackageConsumer uses every library package (+ libtorch), each with a check that can fail, with a
#      private PostgreSQL 17 + pgvector server on a unix socket for GeoToken.Retrieval.PostgreSql (eng/setup.sh
#      --test-deps installs it); built without libtorch, TorchRuntime.EnsureAvailable() names the package to add.
# Prints one line per step with the seconds since the start, and the cold-start time of the ONNX consumer;
# set PACK_CHECK_KEEP=1 to keep the work folder.
set -euo pipefail
cd "$(dirname "$0")/.."
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1
step() { printf 'pack-check: [%4ss] %s\n' "$SECONDS" "$*" >&2; }
fail() { printf 'pack-check: FAILED: %s\n' "$*" >&2; exit 1; }
version=0.1.0
feed=$PWD/artifacts/packages

rm -rf "$feed"
dotnet pack GeoToken.sln -c Release -v quiet -nologo >/dev/null || { dotnet pack GeoToken.sln -c Release -v quiet -nologo; fail "dotnet pack"; }
ls "$feed"/*.nupkg >/dev/null
step "packed $(ls "$feed"/*.nupkg | wc -l) packages"

work=$(mktemp -d)
pg='' pg_started='' as_pg=()
pg_bin=/usr/lib/postgresql/17/bin
cleanup() {
  if [ -n "$pg" ]; then
    if [ -n "$pg_started" ]; then "${as_pg[@]}" "$pg_bin/pg_ctl" -D "$pg/data" -m immediate -w stop >/dev/null 2>&1 || true; fi
    rm -rf "$pg"
  fi
  if [ "${PACK_CHECK_KEEP:-0}" != 1 ]; then rm -rf "$work"; fi
}
trap cleanup EXIT
[ "${PACK_CHECK_KEEP:-0}" = 1 ] && step "work folder: $work"

# The newest GLIBCXX_3.4.N that the ELF file $1 needs, from readelf's version needs (not the versions a library
# defines, as libstdc++ itself does), or nothing; fails when readelf cannot read the file.
glibcxx_needed() {
  local out
  out=$(LC_ALL=C readelf -V --wide "$1") || return 1
  awk '/^Version needs section/ { needs = 1; next }
       /^Version (symbols|definition) section/ { needs = 0 }
       needs && match($0, /Name: GLIBCXX_3\.4\.[0-9]+/) { n = substr($0, RSTART + 18, RLENGTH - 18) + 0; if (n > max) max = n }
       END { if (max) print "GLIBCXX_3.4." max }' <<<"$out"
}
too_new() { [ -n "$1" ] && [ "${1##*.}" -ge 32 ]; } # $1: GLIBCXX_3.4.N or nothing
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
tool_version=$("$tool" --version) || fail "geotoken --version"
[[ "$tool_version" =~ ^${version//./\\.}(\+[0-9a-f]{7,40})?$ ]] || fail "geotoken --version printed '$tool_version', not $version[+commit]"
"$tool" s2 --lat 48.8584 --lon 2.2945 | grep -q '47e66fe1f36a36a5' || fail "geotoken s2"
# As a local tool (a tool manifest in the folder), run by `dotnet tool run`. With its own CLI home: the SDK's tool
# resolver cache ($DOTNET_CLI_HOME/.dotnet/toolResolverCache) keeps the first path a tool id + version was restored to
# and later restores do not update it, so a shared one would point into a deleted work folder.
mkdir -p "$work/local-tool/.config"
echo '{ "version": 1, "isRoot": true, "tools": {} }' >"$work/local-tool/.config/dotnet-tools.json"
(cd "$work/local-tool" && export DOTNET_CLI_HOME=$work/cli-home && dotnet tool install GeoToken.Cli --version "$version" --add-source "$feed" >/dev/null && dotnet tool run geotoken --version) >"$work/local-tool.out" 2>&1 \
  && [ "$(tail -1 "$work/local-tool.out")" = "$tool_version" ] || { cat "$work/local-tool.out" >&2; fail "geotoken as a local tool"; }
step "tool $tool_version installed into a tool path and as a local tool"
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
# Prediction from the export needs no libtorch: the same tool with no `setup torch` record (a fresh home) picks ONNX Runtime.
GEOTOKEN_HOME=$work/home-without-torch "$tool" predict --model "$work/onnx" --gallery "$work/synth/train" --features "$work/synth/test/image.npy" --rows 3 --samples 6 \
  >"$work/predict-onnx.out" 2>"$work/predict-onnx.err" && grep -q "on ONNX Runtime" "$work/predict-onnx.err" && grep -q "row 3" "$work/predict-onnx.out" \
  || { cat "$work/predict-onnx.out" "$work/predict-onnx.err" >&2; fail "geotoken predict on the ONNX export without libtorch"; }
step "tool without libtorch: predict on the ONNX export ran on ONNX Runtime"

# The GLIBCXX check below, tested first on libraries whose needs are known: TorchSharp's native library needs
# GLIBCXX_3.4.32 (it must be caught); libtorch_cpu needs an older one; libstdc++ defines 3.4.32 but needs none;
# a file readelf cannot read is an error, not a pass.
lts=$(find -L "$cache/torchsharp" -path '*linux-x64/native/libLibTorchSharp.so' -print -quit 2>/dev/null || true)
ltc=$(find -L "$cache/libtorch-cpu-linux-x64" -path '*linux-x64/native/libtorch_cpu.so' -print -quit 2>/dev/null || true)
stdcxx=$(ldconfig -p | awk '/libstdc\+\+\.so\.6 \(/ && !found { print $NF; found = 1 }')
[ -n "$lts" ] && [ -n "$ltc" ] && [ -n "$stdcxx" ] || fail "GLIBCXX check self-test: libLibTorchSharp.so, libtorch_cpu.so or libstdc++.so.6 not found"
v=$(glibcxx_needed "$lts") && too_new "$v" || fail "GLIBCXX check self-test: $lts needs GLIBCXX_3.4.32, the check says '$v'"
v=$(glibcxx_needed "$ltc") && [ -n "$v" ] && ! too_new "$v" || fail "GLIBCXX check self-test: $ltc needs an older GLIBCXX, the check says '$v'"
v=$(glibcxx_needed "$stdcxx") && [ -z "$v" ] || fail "GLIBCXX check self-test: $stdcxx needs no GLIBCXX, the check says '$v'"
! glibcxx_needed "$feed/GeoToken.$version.nupkg" >/dev/null 2>&1 || fail "GLIBCXX check self-test: a file that is not ELF passed"
step "GLIBCXX check self-test: flags libLibTorchSharp.so ($(glibcxx_needed "$lts")), passes libtorch_cpu.so ($(glibcxx_needed "$ltc")) and libstdc++"

# 3. The ONNX-only consumer.
dotnet publish samples/OnnxConsumer -c Release -o "$work/onnx-consumer" -v quiet -nologo >"$work/onnx-consumer.publish" 2>&1 || { cat "$work/onnx-consumer.publish" >&2; fail "publish samples/OnnxConsumer"; }
python3 - samples/OnnxConsumer/obj/project.assets.json "$work/onnx-consumer/OnnxConsumer.deps.json" <<'PY' || fail "the ONNX consumer's closure has TorchSharp or libtorch"
import json, sys
assets, deps = (json.load(open(p)) for p in sys.argv[1:3])
names = list(assets["libraries"]) + list(deps["libraries"]) + [n for t in deps["targets"].values() for n in t]
if not any(n.lower().startswith("geotoken.onnx/") for n in names): print("pack-check: GeoToken.Onnx is not in the closure", file=sys.stderr); sys.exit(1)
torch = sorted({n for n in names if "torch" in n.lower()})
if torch: print("pack-check: " + ", ".join(torch), file=sys.stderr); sys.exit(1)
PY
if find "$work/onnx-consumer" -iname '*torch*' | grep -q .; then fail "the ONNX consumer's output has torch files"; fi
sos=0
while IFS= read -r so; do
  sos=$((sos + 1))
  v=$(glibcxx_needed "$so") || fail "readelf cannot read $so"
  if too_new "$v"; then fail "$so needs $v"; fi
done < <(find "$work/onnx-consumer" -name '*.so*' -type f)
[ "$sos" -gt 0 ] || fail "the ONNX consumer's output has no .so to check"
onnx_line=$("$work/onnx-consumer/OnnxConsumer" "$work/onnx" "$work/synth/train" "$work/synth/test") || fail "samples/OnnxConsumer"
step "$onnx_line; no torch in its closure; none of its $sos .so files needs GLIBCXX_3.4.32"

# 4. The consumer of every library package, with a private PostgreSQL server for GeoToken.Retrieval.PostgreSql, then
#    the same build without libtorch.
[ -x "$pg_bin/initdb" ] && [ -f /usr/share/postgresql/17/extension/vector.control ] \
  || fail "PostgreSQL 17 with pgvector is not installed ($pg_bin/initdb, vector.control); run eng/setup.sh --test-deps"
pg=$(mktemp -d /tmp/geotoken-pg-XXXXXX)
mkdir -p "$pg/sock"
if [ "$(id -u)" = 0 ]; then chown -R postgres:postgres "$pg"; as_pg=(runuser -u postgres --); fi
pg_port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
"${as_pg[@]}" "$pg_bin/initdb" -D "$pg/data" -U geotoken --auth=trust -E UTF8 --no-sync >"$work/initdb.out" 2>&1 || { cat "$work/initdb.out" >&2; fail "initdb"; }
pg_started=1
"${as_pg[@]}" "$pg_bin/pg_ctl" -D "$pg/data" -l "$pg/server.log" -w -t 60 -o "-p $pg_port -k $pg/sock -c listen_addresses='' -c fsync=off" start >/dev/null \
  || { cat "$pg/server.log" >&2; fail "starting PostgreSQL"; }
dotnet publish samples/PackageConsumer -c Release -o "$work/consumer" -v quiet -nologo >"$work/consumer.publish" 2>&1 || { cat "$work/consumer.publish" >&2; fail "publish samples/PackageConsumer"; }
GEOTOKEN_CONSUMER_PG="Host=$pg/sock;Port=$pg_port;Username=geotoken;Database=postgres" "$work/consumer/PackageConsumer" >"$work/consumer.out" 2>&1 \
  || { cat "$work/consumer.out" >&2; fail "samples/PackageConsumer"; }
grep -q '] PostgreSQL: pushed' "$work/consumer.out" || { cat "$work/consumer.out" >&2; fail "samples/PackageConsumer did not push to PostgreSQL"; }
sed 's/^/pack-check:   /' "$work/consumer.out" >&2
step "PackageConsumer ok"
cp -al "$work/consumer" "$work/consumer-nolib"
find "$work/consumer-nolib" \( -name 'libtorch*' -o -name 'libc10*' -o -name 'torch_cpu*' -o -name 'c10.dll' \) -delete
set +e
probe=$("$work/consumer-nolib/PackageConsumer" --probe 2>&1)
rc=$?
set -e
[ "$rc" -eq 3 ] && grep -q "add package libtorch-cpu-" <<<"$probe" || { echo "$probe" >&2; fail "PackageConsumer without libtorch: exit $rc"; }
step "PackageConsumer without libtorch: ${probe:0:110}..."
