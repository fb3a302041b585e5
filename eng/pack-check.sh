#!/usr/bin/env bash
# Packs every shipped project and proves the packages work: restores samples/PackageConsumer from the
# local folder feed into an empty package cache for GeoToken* packages, builds it and runs it.
set -euo pipefail
cd "$(dirname "$0")/.."
rm -rf artifacts/packages
dotnet pack GeoToken.sln -c Release -v quiet -nologo
ls artifacts/packages/*.nupkg >/dev/null
cache=$(mktemp -d)
trap 'rm -rf "$cache"' EXIT
# Reuse downloaded third-party packages, but never a cached GeoToken package.
if [ -d "$HOME/.nuget/packages" ]; then
  for d in "$HOME"/.nuget/packages/*; do
    case "$(basename "$d")" in geotoken*) ;; *) ln -s "$d" "$cache/" ;; esac
  done
fi
dotnet run --project samples/PackageConsumer -c Release -p:RestorePackagesPath="$cache" -nologo
