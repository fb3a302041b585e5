#!/usr/bin/env bash
# GeoToken.NET's S2 vs Google's C++ S2 (libs2-dev), same points, same timing method, one run.
#   benchmarks/peers/s2_compare.sh [POINTS=1000000] [REPS=15]
# Prints ns per point for both and the ratio C++/.NET (> 1 means .NET is faster).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
n=${1:-1000000}
reps=${2:-15}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

/usr/bin/python3 - "$n" "$work/points.bin" <<'PY'
import math, random, struct, sys
n, path = int(sys.argv[1]), sys.argv[2]
rng = random.Random(1234)
with open(path, "wb") as f:
    for _ in range(n):
        lat = math.degrees(math.asin(2 * rng.random() - 1))
        lng = rng.random() * 360 - 180
        f.write(struct.pack("<dd", lat, lng))
PY

g++ -O2 -std=c++17 "$here/s2_bench.cc" -ls2 -o "$work/s2_bench"
dotnet build "$root/benchmarks/GeoToken.Benchmarks" -c Release -v quiet -nologo >/dev/null

echo "machine: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(nproc) cores; $(date -u +%Y-%m-%d)"
echo "points: $n random on the sphere; median of $reps passes"
"$work/s2_bench" "$work/points.bin" "$reps" > "$work/cpp.txt"
dotnet "$root/benchmarks/GeoToken.Benchmarks/bin/Release/net10.0/GeoToken.Benchmarks.dll" peer s2 "$work/points.bin" "$reps" > "$work/net.txt"
printf '%-16s %12s %12s %10s %s\n' workload "C++ ns/op" ".NET ns/op" "C++/.NET" "checksums"
join <(sort "$work/cpp.txt") <(sort "$work/net.txt") | while read -r name cpp cs net ns; do
  same=$([ "$cs" = "$ns" ] && echo equal || echo DIFFER)
  awk -v n="$name" -v c="$cpp" -v d="$net" -v s="$same" 'BEGIN { printf "%-16s %12s %12s %10.2f %s\n", n, c, d, c / d, s }'
done
