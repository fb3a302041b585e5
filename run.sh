#!/usr/bin/env bash
# GeoToken.NET: one entry point for people who just cloned the repository.
#   ./run.sh demo     set up this machine (idempotent), build, run the main demo on embedded data
#   ./run.sh test     set up this machine (idempotent, incl. test peers), build, run every test
#   ./run.sh bench    set up the peers too and run the benchmark suite (long)
set -euo pipefail
cd "$(dirname "$0")"
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1
cmd="${1:-}"
shift || true
case "$cmd" in
  demo)
    eng/setup.sh
    exec eng/demo.sh "$@"
    ;;
  test)
    eng/setup.sh --test-deps
    dotnet build GeoToken.sln -c Release -warnaserror
    dotnet test GeoToken.sln -c Release --no-build "$@"
    # The NuGet packages, consumed from a local folder feed by samples/PackageConsumer.
    exec eng/pack-check.sh
    ;;
  bench)
    eng/setup.sh --peers
    exec eng/bench.sh "$@"
    ;;
  *)
    echo "usage: ./run.sh demo | test | bench" >&2
    exit 2
    ;;
esac
