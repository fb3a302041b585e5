// The C++ half of the S2 comparison: Google's S2 (Debian libs2-dev) on the same points file and with
// the same timing method as GeoToken.Benchmarks' PeerHarness (warm-up, median of repeated passes).
// Output: one line per workload: name ns_per_op checksum.
// Build: g++ -O2 -std=c++17 s2_bench.cc -ls2 -o s2_bench
#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <functional>
#include <vector>

#include "s2/s2cell_id.h"
#include "s2/s2latlng.h"

namespace {

template <typename F>
void Report(const char* name, size_t ops, int reps, F pass) {
  uint64_t checksum = pass();
  for (int w = 0; w < 3; ++w) checksum = pass();
  std::vector<double> times(reps);
  for (int r = 0; r < reps; ++r) {
    auto t0 = std::chrono::steady_clock::now();
    checksum = pass();
    auto t1 = std::chrono::steady_clock::now();
    times[r] = std::chrono::duration<double, std::nano>(t1 - t0).count() / ops;
  }
  std::sort(times.begin(), times.end());
  std::printf("%s %.2f %016llx\n", name, times[reps / 2], static_cast<unsigned long long>(checksum));
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: s2_bench POINTS.bin REPS\n");
    return 2;
  }
  FILE* f = std::fopen(argv[1], "rb");
  if (!f) return 1;
  std::vector<double> raw;
  double buf[4096];
  size_t got;
  while ((got = std::fread(buf, sizeof(double), 4096, f)) > 0) raw.insert(raw.end(), buf, buf + got);
  std::fclose(f);
  const int reps = std::atoi(argv[2]);
  const size_t n = raw.size() / 2;
  std::vector<S2CellId> cells(n);

  Report("latlng_to_cell", n, reps, [&] {
    uint64_t acc = 0;
    for (size_t k = 0; k < n; ++k) {
      cells[k] = S2CellId(S2LatLng::FromDegrees(raw[2 * k], raw[2 * k + 1]));
      acc ^= cells[k].id();
    }
    return acc;
  });
  Report("cell_to_latlng", n, reps, [&] {
    double acc = 0;
    for (const auto& c : cells) acc += c.ToLatLng().lat().degrees();
    uint64_t bits;
    std::memcpy(&bits, &acc, 8);
    return bits;
  });
  Report("cell_to_token", n, reps, [&] {
    uint64_t acc = 0;
    for (const auto& c : cells) acc += c.ToToken().size();
    return acc;
  });
  return 0;
}
