#!/usr/bin/env bash
# The benchmark suite behind README "Measured results": every peer comparison, one after the other, each
# printing its own table (run on an otherwise idle machine; see `uptime`). Long: most of it is the PyTorch
# reference decoding at paper size.
#
#   ./run.sh bench [all|s2|training|decoding|retrieval]...
#
#   s2         benchmarks/peers/s2_compare.sh                        GeoToken.NET S2 vs Google's C++ S2
#   training   benchmarks/peers/run_training_peer.sh                 training throughput vs PyTorch
#   decoding   benchmarks/peers/run_decoding_peer.sh                 beam-5 and the 31-candidate pool vs the reference algorithm
#   retrieval  benchmarks/peers/retrieval_compare.sh 1000000 2000    exact and clustered search vs FAISS (1M × 512)
#
# The BenchmarkDotNet micro-benchmarks run separately:
#   dotnet run -c Release --project benchmarks/GeoToken.Benchmarks -- --filter '*'
set -euo pipefail
cd "$(dirname "$0")/.."
parts=("$@")
[ ${#parts[@]} -gt 0 ] || parts=(all)
[ "${parts[0]}" = all ] && parts=(s2 training decoding retrieval)
for part in "${parts[@]}"; do
  echo "== $part ($(date -u +%Y-%m-%dT%H:%MZ), load $(cut -d' ' -f1-3 /proc/loadavg))"
  case "$part" in
    s2) benchmarks/peers/s2_compare.sh ;;
    training) benchmarks/peers/run_training_peer.sh ;;
    decoding) benchmarks/peers/run_decoding_peer.sh ;;
    retrieval) REPS=1 benchmarks/peers/retrieval_compare.sh 1000000 2000 ;;
    *) echo "unknown part '$part': use all, s2, training, decoding or retrieval" >&2; exit 2 ;;
  esac
done
