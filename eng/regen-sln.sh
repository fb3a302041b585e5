#!/usr/bin/env bash
# Rebuilds GeoToken.sln from every project under src/, tests/, benchmarks/ and samples/
# (used to settle merge conflicts in the solution file).
set -euo pipefail
cd "$(dirname "$0")/.."
rm -f GeoToken.sln
dotnet new sln -n GeoToken --format sln >/dev/null
find src tests benchmarks samples -name '*.csproj' -not -path 'samples/PackageConsumer/*' -not -path 'samples/OnnxConsumer/*' 2>/dev/null | sort | xargs dotnet sln GeoToken.sln add >/dev/null
dotnet sln GeoToken.sln list | tail -n +3
