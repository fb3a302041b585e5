// s2ref: answers questions about S2 cells with Google's C++ S2 library (Debian libs2-dev), so the
// GeoToken.NET test suite can check its own S2 implementation bit for bit.
//
// Protocol (binary, little-endian, stdin -> stdout): a one-byte mode, a uint64 count N, then N
// records. Modes:
//   'L'  N x (f64 lat_deg, f64 lng_deg)    -> N x 31 x u64: S2CellId(S2LatLng::FromDegrees).parent(0..30)
//   'P'  N x (f64 x, f64 y, f64 z)         -> N x u64 leaf id of S2CellId(S2Point)
//   'C'  N x u64 valid cell id             -> per cell: f64 lat, f64 lng (centre), f64 x3 ToPoint,
//                                             f64 x12 S2Cell vertices, u64 x4 edge neighbors,
//                                             u64 range_min, u64 range_max, u64 x4 children (0 for leaves),
//                                             i32 child_position (-1 for faces), u8 token length, 16 token bytes
//   'V'  N x u64 any id                     -> N x u8 is_valid
//   'T'  N x (u8 length, 32 bytes)          -> N x u64 S2CellId::FromToken
// Build: g++ -O2 -std=c++17 s2ref.cc -ls2 -o s2ref
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "s2/s2cell.h"
#include "s2/s2cell_id.h"
#include "s2/s2latlng.h"

namespace {

template <typename T>
bool Read(T* v) { return std::fread(v, sizeof(T), 1, stdin) == 1; }
template <typename T>
void Write(const T& v) { std::fwrite(&v, sizeof(T), 1, stdout); }
void WritePoint(const S2Point& p) { Write(p.x()); Write(p.y()); Write(p.z()); }

int Fail(const char* what) {
  std::fprintf(stderr, "s2ref: %s\n", what);
  return 1;
}

}  // namespace

int main() {
  static char out_buf[1 << 20];
  std::setvbuf(stdout, out_buf, _IOFBF, sizeof(out_buf));
  uint8_t mode;
  uint64_t n;
  if (!Read(&mode) || !Read(&n)) return Fail("missing header");
  for (uint64_t k = 0; k < n; ++k) {
    switch (mode) {
      case 'L': {
        double lat, lng;
        if (!Read(&lat) || !Read(&lng)) return Fail("truncated L record");
        S2CellId leaf(S2LatLng::FromDegrees(lat, lng));
        for (int level = 0; level <= S2CellId::kMaxLevel; ++level) Write(leaf.parent(level).id());
        break;
      }
      case 'P': {
        double x, y, z;
        if (!Read(&x) || !Read(&y) || !Read(&z)) return Fail("truncated P record");
        Write(S2CellId(S2Point(x, y, z)).id());
        break;
      }
      case 'C': {
        uint64_t raw;
        if (!Read(&raw)) return Fail("truncated C record");
        S2CellId id(raw);
        if (!id.is_valid()) return Fail("C record holds an invalid id");
        S2LatLng ll = id.ToLatLng();
        Write(ll.lat().degrees());
        Write(ll.lng().degrees());
        WritePoint(id.ToPoint());
        S2Cell cell(id);
        for (int v = 0; v < 4; ++v) WritePoint(cell.GetVertex(v));
        S2CellId nbrs[4];
        id.GetEdgeNeighbors(nbrs);
        for (auto& nb : nbrs) Write(nb.id());
        Write(id.range_min().id());
        Write(id.range_max().id());
        for (int c = 0; c < 4; ++c) Write(id.is_leaf() ? uint64_t{0} : id.child(c).id());
        Write(static_cast<int32_t>(id.is_face() ? -1 : id.child_position(id.level())));
        std::string token = id.ToToken();
        char buf[16] = {0};
        std::memcpy(buf, token.data(), token.size());
        Write(static_cast<uint8_t>(token.size()));
        std::fwrite(buf, 1, 16, stdout);
        break;
      }
      case 'V': {
        uint64_t raw;
        if (!Read(&raw)) return Fail("truncated V record");
        Write(static_cast<uint8_t>(S2CellId(raw).is_valid() ? 1 : 0));
        break;
      }
      case 'T': {
        uint8_t len;
        char buf[32];
        if (!Read(&len) || std::fread(buf, 1, 32, stdin) != 32 || len > 32) return Fail("bad T record");
        Write(S2CellId::FromToken(std::string(buf, len)).id());
        break;
      }
      default:
        return Fail("unknown mode");
    }
  }
  std::fflush(stdout);
  return 0;
}
