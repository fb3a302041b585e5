#!/usr/bin/env bash
# Declares the public API of the shipped projects (src/*): adds every public symbol that is in neither
# PublicAPI.Shipped.txt nor PublicAPI.Unshipped.txt to Unshipped (the analyzer's own code fix, RS0016).
#   eng/api-baseline.sh            - after an intended change to the public surface; review the diff of the .txt files
#   eng/api-baseline.sh --ship     - also move Unshipped into Shipped (at a release)
# Removed symbols (RS0017) are not edited away: delete their lines by hand (a removal is a breaking change).
set -euo pipefail
cd "$(dirname "$0")/.."
ship=0
[ "${1:-}" = "--ship" ] && ship=1
for proj in src/*/*.csproj; do
  dir=$(dirname "$proj")
  for f in PublicAPI.Shipped.txt PublicAPI.Unshipped.txt; do
    [ -f "$dir/$f" ] || printf '#nullable enable\n' > "$dir/$f"
  done
  dotnet format analyzers "$proj" --diagnostics RS0016 --severity info -v q >/dev/null
  if [ $ship -eq 1 ]; then
    { cat "$dir/PublicAPI.Shipped.txt"; grep -v '^#nullable enable$' "$dir/PublicAPI.Unshipped.txt" || true; } \
      | awk 'NR==1{print; next} {print | "LC_ALL=C sort -u"}' > "$dir/PublicAPI.Shipped.txt.new"
    mv "$dir/PublicAPI.Shipped.txt.new" "$dir/PublicAPI.Shipped.txt"
    printf '#nullable enable\n' > "$dir/PublicAPI.Unshipped.txt"
  fi
  echo "$dir: $(grep -vc '^#nullable enable$' "$dir/PublicAPI.Shipped.txt") shipped, $(grep -vc '^#nullable enable$' "$dir/PublicAPI.Unshipped.txt") unshipped"
done
