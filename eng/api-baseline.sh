#!/usr/bin/env bash
# Declares the public API of the shipped projects (src/*). The build fails on a public symbol that is in neither
# PublicAPI.Shipped.txt nor PublicAPI.Unshipped.txt (RS0016) and on a declared symbol that is gone (RS0017); this
# script empties each PublicAPI.Unshipped.txt, builds, records each such symbol in the project's PublicAPI.Unshipped.txt (added as itself, removed as
# *REMOVED*symbol), and repeats until the build has none (projects that depend on a failing one build next round).
#   eng/api-baseline.sh            - after an intended change to the public surface; review the diff of the .txt files
#   eng/api-baseline.sh --ship     - then also fold Unshipped into Shipped (at a release)
set -euo pipefail
cd "$(dirname "$0")/.."
ship=0
[ "${1:-}" = "--ship" ] && ship=1
for proj in src/*/*.csproj; do
  dir=$(dirname "$proj")
  [ -f "$dir/PublicAPI.Shipped.txt" ] || printf '#nullable enable\n' > "$dir/PublicAPI.Shipped.txt"
  # Unshipped is derived: what the surface has beyond Shipped, and what Shipped has that the surface lost.
  printf '#nullable enable\n' > "$dir/PublicAPI.Unshipped.txt"
done
log=$(mktemp)
trap 'rm -f "$log"' EXIT
for round in 1 2 3 4 5 6 7 8; do
  dotnet build GeoToken.sln -c Release -v q -nologo -p:TreatWarningsAsErrors=true >"$log" 2>&1 || true
  if ! /usr/bin/env python3 - "$log" <<'PY'
import re, sys, os, collections
found = collections.defaultdict(set)
for line in open(sys.argv[1], encoding="utf-8", errors="replace"):
    m = re.search(r"(RS0016|RS0017): Symbol '(.*)' is (?:not part of the declared public API|part of the declared API, but is either not public or could not be found).*\[(.*\.csproj)\]", line)
    if m:
        found[os.path.dirname(m.group(3))].add(("*REMOVED*" if m.group(1) == "RS0017" else "") + m.group(2))
if not found:
    sys.exit(1)
for folder, symbols in found.items():
    path = os.path.join(folder, "PublicAPI.Unshipped.txt")
    lines = [l.rstrip("\n") for l in open(path, encoding="utf-8") if l.strip() and l.strip() != "#nullable enable"]
    body = sorted(set(lines) | symbols, key=lambda l: (l.replace("*REMOVED*", ""), l))
    with open(path, "w", encoding="utf-8", newline="\n") as f:
        f.write("#nullable enable\n" + "".join(l + "\n" for l in body))
    print(f"{os.path.relpath(folder)}: {len(symbols)} symbols recorded")
PY
  then
    break
  fi
done
if grep -q " error " "$log"; then
  grep " error " "$log" | sort -u | head -20
  echo "the build has other errors; fix them and run again" >&2
  exit 1
fi
if [ $ship -eq 1 ]; then
  for proj in src/*/*.csproj; do
    dir=$(dirname "$proj")
    /usr/bin/env python3 - "$dir" <<'PY'
import sys, os
d = sys.argv[1]
read = lambda n: [l.rstrip("\n") for l in open(os.path.join(d, n), encoding="utf-8") if l.strip() and l.strip() != "#nullable enable"]
shipped, unshipped = set(read("PublicAPI.Shipped.txt")), read("PublicAPI.Unshipped.txt")
for l in unshipped:
    if l.startswith("*REMOVED*"): shipped.discard(l[len("*REMOVED*"):])
    else: shipped.add(l)
for n, body in (("PublicAPI.Shipped.txt", sorted(shipped)), ("PublicAPI.Unshipped.txt", [])):
    with open(os.path.join(d, n), "w", encoding="utf-8", newline="\n") as f:
        f.write("#nullable enable\n" + "".join(l + "\n" for l in body))
PY
  done
fi
for proj in src/*/*.csproj; do
  dir=$(dirname "$proj")
  echo "$dir: $(grep -vc '^#nullable enable$' "$dir/PublicAPI.Shipped.txt") shipped, $(grep -vc '^#nullable enable$' "$dir/PublicAPI.Unshipped.txt" || true) unshipped"
done
