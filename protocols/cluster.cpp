#include "protocols/cluster.hpp"

namespace djdash {

namespace {

constexpr uint64_t fnv_offset = 0xcbf29ce484222325ull;
constexpr uint64_t fnv_prime = 0x100000001b3ull;

uint64_t fnv1a(uint64_t h, std::string_view s) {
  for (unsigned char c : s) {
    h ^= c;
    h *= fnv_prime;
  }
  return h;
}

/// FNV-1a alone mixes its last bytes poorly; the finalizer spreads every input bit over the
/// whole word, which rendezvous hashing needs for an even split.
uint64_t splitmix64_finalize(uint64_t z) {
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

} // namespace

uint64_t placement_weight(std::string_view node_id, std::string_view kind, std::string_view key) {
  auto h = fnv1a(fnv_offset, node_id);
  h = fnv1a(h, "\x1f");
  h = fnv1a(h, kind);
  h = fnv1a(h, "\x1f");
  h = fnv1a(h, key);
  return splitmix64_finalize(h);
}

std::string owner_of(const std::vector<std::string>& members, const entity_ref& ref) {
  const std::string* best = nullptr;
  uint64_t best_weight = 0;
  for (auto& m : members) {
    auto w = placement_weight(m, ref.kind, ref.key);
    if (!best || w > best_weight || (w == best_weight && m < *best)) {
      best = &m;
      best_weight = w;
    }
  }
  return best ? *best : std::string{};
}

} // namespace djdash
