#define CAF_SUITE protocols.cluster

#include "protocols/cluster.hpp"

#include <map>
#include <string>
#include <vector>

#include "support/caf_test.hpp"

using namespace djdash;

namespace {

std::string key(int i) {
  return "org-key-" + std::to_string(i);
}

} // namespace

CAF_TEST(placement weights are fixed numbers every build agrees on) {
  // Computed independently (Python, same FNV-1a 64 + splitmix64 definition): a node of another
  // build or platform must place every key exactly where this one does.
  auto w1 = placement_weight("n1", "organization", "00000000-0000-0000-0000-000000000001");
  auto w2 = placement_weight("n2", "organization", "00000000-0000-0000-0000-000000000001");
  auto w3 = placement_weight("node-a", "sms_conversation", "x|+15550100");
  CAF_CHECK_EQUAL(w1, 0x5175a5a13b454af3ull);
  CAF_CHECK_EQUAL(w2, 0xd0d9e97a768e38ccull);
  CAF_CHECK_EQUAL(w3, 0xe0b49c862a4e089bull);
  std::vector<std::string> expected{"n3", "n3", "n1", "n3", "n2", "n3", "n2", "n3"};
  for (int i = 0; i < 8; ++i) {
    auto owner = owner_of({"n1", "n2", "n3"}, entity_ref{"organization", "key-" + std::to_string(i)});
    CAF_CHECK_EQUAL(owner, expected[static_cast<size_t>(i)]);
  }
}

CAF_TEST(the owner does not depend on the order members are listed in) {
  for (int i = 0; i < 200; ++i) {
    entity_ref ref{"organization", key(i)};
    auto a = owner_of({"n1", "n2", "n3"}, ref);
    auto b = owner_of({"n3", "n1", "n2"}, ref);
    CAF_CHECK_EQUAL(a, b);
  }
  auto nobody = owner_of({}, entity_ref{"organization", "k"});
  CAF_CHECK_EQUAL(nobody, "");
}

CAF_TEST(keys spread evenly and a joining node takes only the keys it wins) {
  const int n = 3000;
  std::map<std::string, int> per_node;
  std::vector<std::string> before(n);
  for (int i = 0; i < n; ++i) {
    before[static_cast<size_t>(i)] = owner_of({"n1", "n2", "n3"}, entity_ref{"organization", key(i)});
    ++per_node[before[static_cast<size_t>(i)]];
  }
  const int fair_low = n / 3 - n / 12, fair_high = n / 3 + n / 12;  // a quarter off at most
  for (auto& [node, count] : per_node) {
    CAF_CHECK_GREATER(count, fair_low);
    CAF_CHECK_LESS(count, fair_high);
  }
  int moved = 0;
  for (int i = 0; i < n; ++i) {
    auto after = owner_of({"n1", "n2", "n3", "n4"}, entity_ref{"organization", key(i)});
    if (after != before[static_cast<size_t>(i)]) {
      ++moved;
      CAF_CHECK_EQUAL(after, "n4");  // nothing moves between the old members
    }
  }
  const int move_low = n / 4 - n / 16, move_high = n / 4 + n / 16;
  CAF_CHECK_GREATER(moved, move_low);
  CAF_CHECK_LESS(moved, move_high);
  // A node leaving hands its keys out; every other key stays where it was.
  for (int i = 0; i < n; ++i) {
    auto& was = before[static_cast<size_t>(i)];
    auto after = owner_of({"n1", "n3"}, entity_ref{"organization", key(i)});
    if (was != "n2")
      CAF_CHECK_EQUAL(after, was);
  }
}
