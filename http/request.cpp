#include "http/request.hpp"

#include <atomic>

namespace djdash::http {

namespace {

const std::string& find_or_empty(const std::map<std::string, std::string>& xs,
                                 const std::string& key) {
  static const std::string empty;
  auto i = xs.find(key);
  return i == xs.end() ? empty : i->second;
}

} // namespace

const std::string& request::header(const std::string& lower_name) const {
  return find_or_empty(headers, lower_name);
}

const std::string& request::query_param(const std::string& name) const {
  return find_or_empty(query, name);
}

struct responder::state {
  explicit state(sink f) : fn(std::move(f)) {
    // nop
  }
  std::atomic<bool> answered{false};
  sink fn;
};

responder::responder(sink fn) : state_(std::make_shared<state>(std::move(fn))) {
  // nop
}

void responder::operator()(response r) const {
  // The exchange makes the first caller the only one; later answers (a handler finishing after
  // the deadline's 504) are dropped here.
  if (!state_ || state_->answered.exchange(true, std::memory_order_acq_rel))
    return;
  state_->fn(std::move(r));
}

bool responder::answered() const {
  return !state_ || state_->answered.load(std::memory_order_acquire);
}

} // namespace djdash::http
