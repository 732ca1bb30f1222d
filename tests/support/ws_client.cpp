#include "support/ws_client.hpp"

#include <deque>
#include <functional>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/websocket.hpp>

namespace djdash::test {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace websocket = boost::beast::websocket;
using tcp = net::ip::tcp;

struct ws_client::impl {
  using clock = std::chrono::steady_clock;

  net::io_context ioc;
  websocket::stream<tcp::socket> ws{ioc};
  beast::flat_buffer buffer;
  std::deque<std::string> frames;
  int receive_buffer = 0;
  int status = 0;
  bool open = false;
  bool reading = false;
  int code = 0;
  std::string last_error;

  // Runs handlers until `done` holds or `timeout` passes; returns `done()`.
  bool run_until(const std::function<bool()>& done, std::chrono::milliseconds timeout) {
    auto deadline = clock::now() + timeout;
    while (!done()) {
      ioc.restart();
      if (ioc.run_one_until(deadline) == 0 && (clock::now() >= deadline || ioc.stopped()))
        return done();
    }
    return true;
  }

  void start_read() {
    if (!open || reading)
      return;
    reading = true;
    ws.async_read(buffer, [this](beast::error_code ec, std::size_t) {
      reading = false;
      if (ec) {
        on_error(ec);
        return;
      }
      frames.push_back(beast::buffers_to_string(buffer.data()));
      buffer.consume(buffer.size());
      start_read();
    });
  }

  void on_error(beast::error_code ec) {
    if (open)
      last_error = ec.message();
    open = false;
    code = ws.reason().code;
    beast::error_code ignored;
    ws.next_layer().close(ignored);
  }

  bool write(const std::string& bytes, bool text, std::chrono::milliseconds timeout) {
    if (!open)
      return false;
    bool done = false;
    beast::error_code result;
    ws.text(text);
    ws.async_write(net::buffer(bytes), [&](beast::error_code ec, std::size_t) {
      done = true;
      result = ec;
    });
    if (!run_until([&] { return done; }, timeout)) {
      last_error = "write timed out";
      on_error(net::error::timed_out);
      run_until([&] { return done; }, std::chrono::seconds(1));  // let the handler unwind
      return false;
    }
    if (result) {
      on_error(result);
      return false;
    }
    return true;
  }
};

ws_client::ws_client() : impl_(std::make_unique<impl>()) {
  // nop
}

ws_client::~ws_client() {
  beast::error_code ignored;
  impl_->ws.next_layer().close(ignored);
  impl_->ioc.restart();
  impl_->ioc.poll();  // completes the aborted handlers before the stream goes away
}

void ws_client::set_receive_buffer(int bytes) {
  impl_->receive_buffer = bytes;
}

bool ws_client::connect(uint16_t port, const std::string& path, const headers& extra,
                        std::chrono::milliseconds timeout) {
  auto& d = *impl_;
  auto& sock = d.ws.next_layer();
  beast::error_code ec;
  sock.open(tcp::v4(), ec);
  if (!ec && d.receive_buffer > 0)
    sock.set_option(net::socket_base::receive_buffer_size(d.receive_buffer), ec);
  if (ec) {
    d.last_error = ec.message();
    return false;
  }
  bool done = false;
  sock.async_connect(tcp::endpoint{net::ip::make_address("127.0.0.1"), port},
                     [&](beast::error_code e) {
                       done = true;
                       ec = e;
                     });
  if (!d.run_until([&] { return done; }, timeout) || ec) {
    d.last_error = ec ? ec.message() : "connect timed out";
    return false;
  }
  d.ws.set_option(websocket::stream_base::decorator([extra](websocket::request_type& req) {
    for (auto& [name, value] : extra)
      req.set(name, value);
  }));
  websocket::response_type res;
  done = false;
  d.ws.async_handshake(res, "127.0.0.1:" + std::to_string(port), path,
                       [&](beast::error_code e) {
                         done = true;
                         ec = e;
                       });
  if (!d.run_until([&] { return done; }, timeout)) {
    d.last_error = "handshake timed out";
    sock.close(ec);
    d.run_until([&] { return done; }, std::chrono::seconds(1));
    return false;
  }
  d.status = static_cast<int>(res.result_int());
  if (ec) {
    d.last_error = ec.message();
    return false;
  }
  d.open = true;
  d.start_read();
  return true;
}

int ws_client::handshake_status() const {
  return impl_->status;
}

bool ws_client::send_text(const std::string& text, std::chrono::milliseconds timeout) {
  return impl_->write(text, true, timeout);
}

bool ws_client::send_json(const nlohmann::json& j, std::chrono::milliseconds timeout) {
  return send_text(j.dump(), timeout);
}

bool ws_client::send_binary(const std::string& bytes, std::chrono::milliseconds timeout) {
  return impl_->write(bytes, false, timeout);
}

std::optional<std::string> ws_client::next(std::chrono::milliseconds timeout) {
  auto& d = *impl_;
  d.run_until([&] { return !d.frames.empty() || (!d.open && !d.reading); }, timeout);
  if (d.frames.empty())
    return std::nullopt;
  auto out = std::move(d.frames.front());
  d.frames.pop_front();
  return out;
}

std::optional<nlohmann::json> ws_client::next_json(std::chrono::milliseconds timeout) {
  auto text = next(timeout);
  if (!text)
    return std::nullopt;
  return nlohmann::json::parse(*text, nullptr, false);
}

std::optional<nlohmann::json> ws_client::wait_reply(const std::string& ref,
                                                    std::chrono::milliseconds timeout) {
  auto& d = *impl_;
  std::optional<nlohmann::json> found;
  size_t scanned = 0;
  auto scan = [&] {
    for (; scanned < d.frames.size(); ++scanned) {
      auto j = nlohmann::json::parse(d.frames[scanned], nullptr, false);
      if (j.is_object() && j.value("type", "") == "reply" && j.contains("ref")
          && j["ref"].is_string() && j["ref"].get<std::string>() == ref) {
        found = std::move(j);
        d.frames.erase(d.frames.begin() + static_cast<std::ptrdiff_t>(scanned));
        return true;
      }
    }
    return !d.open && !d.reading;
  };
  d.run_until(scan, timeout);
  return found;
}

std::optional<nlohmann::json> ws_client::call(nlohmann::json msg, const std::string& ref,
                                              std::chrono::milliseconds timeout) {
  msg["ref"] = ref;
  if (!send_json(msg, timeout))
    return std::nullopt;
  return wait_reply(ref, timeout);
}

bool ws_client::wait_closed(std::chrono::milliseconds timeout) {
  auto& d = *impl_;
  auto closed = d.run_until(
    [&] {
      d.frames.clear();  // a slow consumer's backlog is skipped, not kept
      return !d.open && !d.reading;
    },
    timeout);
  return closed;
}

int ws_client::close_code() const {
  return impl_->code;
}

bool ws_client::is_open() const {
  return impl_->open;
}

void ws_client::close(std::chrono::milliseconds timeout) {
  auto& d = *impl_;
  if (!d.open)
    return;
  bool done = false;
  d.ws.async_close(websocket::close_code::normal, [&](beast::error_code) { done = true; });
  d.run_until([&] { return done && !d.reading; }, timeout);
  d.open = false;
}

const std::string& ws_client::error() const {
  return impl_->last_error;
}

} // namespace djdash::test
