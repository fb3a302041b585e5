#!/usr/bin/env bash
# The main demo on data embedded in the repository (no downloads).
set -euo pipefail
cd "$(dirname "$0")/.."
out=out/demo
mkdir -p "$out"
dotnet build src/GeoToken.Cli -c Release -v quiet -nologo >/dev/null
geotoken() { dotnet src/GeoToken.Cli/bin/Release/net10.0/GeoToken.Cli.dll "$@"; }

echo "== S2 cells (level 20) of the 2,997 IM2GPS3K test photos' true positions"
geotoken s2 --input samples/data/im2gps3k_coordinates.csv --output "$out/im2gps3k_s2.csv" --level 20
head -4 "$out/im2gps3k_s2.csv"
echo
echo "== The standard metrics table for 50 real OSV-5M street-view predictions"
geotoken metrics --predictions samples/data/osv5m_select.csv \
  --true-lat true_lat --true-lon true_lon --pred-lat pred_lat --pred-lon pred_lon --json "$out/osv5m_metrics.json"
echo "JSON written to $out/osv5m_metrics.json"
