#!/usr/bin/env bash
# Builds with warnings as errors and runs every test project; then runs the projects that use libtorch
# again with its kernels forced onto other CPU capabilities (ATEN_CPU_CAPABILITY=avx2, default), so
# that a test depending on one CPU's float rounding fails here rather than on a user's machine.
# Ends with the packages check and one line "N passed, N failed" summed over every run.
# Extra arguments go to every `dotnet test` call (e.g. --filter ...).
set -uo pipefail
cd "$(dirname "$0")/.."

log=$(mktemp)
trap 'rm -f "$log"' EXIT
status=0

run_tests() { # $1: label, rest: dotnet test arguments
  local label=$1; shift
  printf '\033[1;34mtest:\033[0m %s\n' "$label" >&2
  dotnet test "$@" 2>&1 | tee -a "$log"
  local rc=${PIPESTATUS[0]}
  if [ "$rc" -ne 0 ]; then
    printf '\033[1;31mtest: %s failed (exit %s)\033[0m\n' "$label" "$rc" >&2
    status=1
  fi
}

if ! dotnet build GeoToken.sln -c Release -warnaserror -v quiet -nologo; then
  echo "0 passed, 1 failed"   # the build is the one thing that ran, and it failed
  exit 1
fi

run_tests "all test projects" GeoToken.sln -c Release --no-build "$@"

# The libtorch users, on the other kernel sets (the default run uses the best this CPU has).
torch_projects=(tests/GeoToken.Model.Tests tests/GeoToken.Cli.Tests tests/GeoToken.Hosting.Tests tests/GeoToken.Retrieval.PostgreSql.Tests)
for cap in avx2 default; do
  for p in "${torch_projects[@]}"; do
    ATEN_CPU_CAPABILITY=$cap run_tests "$(basename "$p") with ATEN_CPU_CAPABILITY=$cap" "$p" -c Release --no-build "$@"
  done
done

# The NuGet packages, consumed from a local folder feed by samples/PackageConsumer (counted as one test).
printf '\033[1;34mtest:\033[0m packages (eng/pack-check.sh)\n' >&2
pack_failed=0
if ! eng/pack-check.sh; then pack_failed=1; status=1; fi

# "Passed!  - Failed:     0, Passed:    32, Skipped:     0, Total:    32, ..." per test assembly and run.
read -r passed failed < <(awk '
  /(Passed|Failed)! +- +Failed: / {
    for (i = 1; i <= NF; i++) { if ($i == "Failed:") f += $(i+1); if ($i == "Passed:") p += $(i+1) }
  }
  END { printf "%d %d\n", p, f }' FS='[ ,]+' "$log")
passed=$((passed + (1 - pack_failed)))
failed=$((failed + pack_failed))
if [ "$status" -ne 0 ] && [ "$failed" -eq 0 ]; then failed=1; fi  # a test host that crashed prints no summary
echo "$passed passed, $failed failed"
exit "$status"
