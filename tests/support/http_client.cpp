#include "support/http_client.hpp"

#include <algorithm>
#include <array>
#include <cctype>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

namespace djdash::test {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using tcp = net::ip::tcp;

const std::string& http_reply::header(const std::string& lower_name) const {
  static const std::string empty;
  auto i = headers.find(lower_name);
  return i == headers.end() ? empty : i->second;
}

nlohmann::json http_reply::json() const {
  return nlohmann::json::parse(body, nullptr, false);
}

std::string http_reply::error_code() const {
  auto j = json();
  if (j.is_object() && j.contains("error") && j["error"].is_object()
      && j["error"].contains("code") && j["error"]["code"].is_string())
    return j["error"]["code"].get<std::string>();
  return {};
}

struct http_client::impl {
  impl(uint16_t port, std::chrono::milliseconds t) : stream(ioc), timeout(t) {
    stream.expires_after(timeout);
    stream.async_connect(tcp::endpoint{net::ip::make_address("127.0.0.1"), port},
                         [this](beast::error_code e) { ec = e; });
    run();
    is_connected = !ec;
  }

  // Runs the one pending operation to completion; tcp_stream's timer bounds it.
  void run() {
    ioc.restart();
    ioc.run();
    if (ec)
      last_error = ec.message();
  }

  net::io_context ioc;
  beast::tcp_stream stream;
  beast::flat_buffer buffer;
  std::chrono::milliseconds timeout;
  beast::error_code ec;
  bool is_connected = false;
  std::string last_error;
};

http_client::http_client(uint16_t port, std::chrono::milliseconds timeout)
  : impl_(std::make_unique<impl>(port, timeout)) {
  // nop
}

http_client::~http_client() = default;

bool http_client::connected() const {
  return impl_->is_connected;
}

std::optional<http_reply> http_client::request(const std::string& method,
                                               const std::string& target,
                                               const std::string& body,
                                               const header_list& headers) {
  bhttp::request<bhttp::string_body> req{bhttp::string_to_verb(method), target, 11};
  if (req.method() == bhttp::verb::unknown)
    req.method_string(method);
  req.set(bhttp::field::host, "127.0.0.1");
  for (auto& [name, value] : headers)
    req.set(name, value);
  req.body() = body;
  if (!body.empty() || method == "POST" || method == "PUT" || method == "PATCH")
    req.prepare_payload();
  auto& d = *impl_;
  d.stream.expires_after(d.timeout);
  bhttp::async_write(d.stream, req, [&d](beast::error_code e, std::size_t) { d.ec = e; });
  d.run();
  if (d.ec)
    return std::nullopt;
  return read_reply();
}

std::optional<http_reply> http_client::get(const std::string& target,
                                           const header_list& headers) {
  return request("GET", target, {}, headers);
}

bool http_client::send_raw(const std::string& bytes) {
  auto& d = *impl_;
  d.stream.expires_after(d.timeout);
  net::async_write(d.stream, net::buffer(bytes), [&d](beast::error_code e, std::size_t) {
    d.ec = e;
  });
  d.run();
  return !d.ec;
}

std::optional<http_reply> http_client::read_reply() {
  auto& d = *impl_;
  bhttp::response_parser<bhttp::string_body> parser;
  parser.body_limit(64 << 20);
  d.stream.expires_after(d.timeout);
  bhttp::async_read(d.stream, d.buffer, parser,
                    [&d](beast::error_code e, std::size_t) { d.ec = e; });
  d.run();
  if (d.ec)
    return std::nullopt;
  auto msg = parser.release();
  http_reply out;
  out.status = static_cast<int>(msg.result_int());
  for (const auto& field : msg) {
    std::string name{field.name_string()};
    std::transform(name.begin(), name.end(), name.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    out.headers[name] = std::string{field.value()};
  }
  out.body = std::move(msg.body());
  return out;
}

bool http_client::wait_closed(std::chrono::milliseconds within) {
  auto& d = *impl_;
  d.buffer.consume(d.buffer.size());
  std::array<char, 4096> scratch;
  d.stream.expires_after(within);
  for (;;) {
    d.stream.async_read_some(net::buffer(scratch),
                             [&d](beast::error_code e, std::size_t) { d.ec = e; });
    d.run();
    if (d.ec == beast::error::timeout)
      return false;
    if (d.ec)
      return true;  // EOF or reset: the server closed it
  }
}

const std::string& http_client::error() const {
  return impl_->last_error;
}

bool http_client::can_connect(uint16_t port) {
  http_client probe{port, std::chrono::seconds(2)};
  return probe.connected();
}

} // namespace djdash::test
