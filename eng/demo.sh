#!/usr/bin/env bash
# The main demo (samples/QuickStart) on data embedded in the library, no downloads:
# SynthGeo benchmark → retrieval gallery → a tiny GeoToken model trained for 150 s → every test-time
# strategy side by side → predictions with place names and a calibrated uncertainty radius.
# Extra arguments go to the sample (e.g. --train-seconds 300, --out DIR).
set -euo pipefail
cd "$(dirname "$0")/.."
dotnet build samples/QuickStart -c Release -v quiet -nologo
exec dotnet samples/QuickStart/bin/Release/net10.0/QuickStart.dll "$@"
