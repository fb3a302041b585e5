#!/usr/bin/env bash
# GeoToken.NET: one entry point for people who just cloned the repository.
#   ./run.sh demo     set up this machine (idempotent), build, run the main demo on embedded data
#   ./run.sh test     set up this machine (idempotent, incl. test peers), build, run every test
#                     (libtorch tests on three CPU kernel sets), check the packages
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
    # Build, every test, the libtorch tests again on other CPU kernel sets, the packages; "N passed, N failed".
    exec eng/test.sh "$@"
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
