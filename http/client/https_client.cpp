#include "http/client/https_client.hpp"

#include <algorithm>
#include <cctype>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

namespace djdash::http {

namespace net = boost::asio;
namespace ssl = boost::asio::ssl;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using tcp = net::ip::tcp;
using clock_type = std::chrono::steady_clock;

// --- base_url ----------------------------------------------------------------

std::optional<base_url> base_url::parse(const std::string& url) {
  base_url out;
  std::string rest;
  if (url.rfind("https://", 0) == 0) {
    out.tls = true;
    rest = url.substr(8);
  } else if (url.rfind("http://", 0) == 0) {
    rest = url.substr(7);
  } else {
    return std::nullopt;
  }
  if (rest.find_first_of("?#@ \t\r\n") != std::string::npos)
    return std::nullopt;
  auto slash = rest.find('/');
  auto authority = rest.substr(0, slash);
  out.prefix = slash == std::string::npos ? std::string{} : rest.substr(slash);
  while (!out.prefix.empty() && out.prefix.back() == '/')
    out.prefix.pop_back();
  std::string port;
  if (!authority.empty() && authority.front() == '[') {  // [v6]:port
    auto close = authority.find(']');
    if (close == std::string::npos)
      return std::nullopt;
    out.host = authority.substr(1, close - 1);
    auto after = authority.substr(close + 1);
    if (!after.empty()) {
      if (after.front() != ':')
        return std::nullopt;
      port = after.substr(1);
    }
  } else {
    auto colon = authority.find(':');
    out.host = authority.substr(0, colon);
    if (colon != std::string::npos)
      port = authority.substr(colon + 1);
  }
  if (out.host.empty())
    return std::nullopt;
  if (port.empty()) {
    out.port = out.tls ? "443" : "80";
  } else {
    if (port.size() > 5 || !std::all_of(port.begin(), port.end(), ::isdigit)
        || std::stoi(port) < 1 || std::stoi(port) > 65535)
      return std::nullopt;
    out.port = port;
  }
  return out;
}

std::string outbound_response::header(const std::string& lower_name) const {
  for (const auto& [k, v] : headers)
    if (k == lower_name)
      return v;
  return {};
}

const char* to_string(transport_errc e) {
  switch (e) {
    case transport_errc::none:
      return "none";
    case transport_errc::bad_request:
      return "bad_request";
    case transport_errc::resolve_failed:
      return "resolve_failed";
    case transport_errc::connect_failed:
      return "connect_failed";
    case transport_errc::tls_failed:
      return "tls_failed";
    case transport_errc::timeout:
      return "timeout";
    case transport_errc::io_error:
      return "io_error";
  }
  return "unknown";
}

// --- the client --------------------------------------------------------------

namespace {

fetch_result failure(transport_errc code, std::string message) {
  fetch_result r;
  r.error = code;
  r.message = std::move(message);
  return r;
}

bool is_ip_literal(const std::string& host) {
  beast::error_code ec;
  net::ip::make_address(host, ec);
  return !ec;
}

// Errors that mean "the peer closed a kept-alive connection" rather than a real failure.
bool is_closed_connection(const beast::error_code& ec) {
  return ec == bhttp::error::end_of_stream || ec == net::error::eof
         || ec == net::error::connection_reset || ec == net::error::broken_pipe
         || ec == ssl::error::stream_truncated;
}

bool valid_target(const std::string& t) {
  return !t.empty() && t.front() == '/'
         && std::none_of(t.begin(), t.end(), [](unsigned char c) { return c <= 0x20 || c == 0x7f; });
}

} // namespace

struct https_client::impl {
  impl(const std::string& url_text, client_options o)
    : url(base_url::parse(url_text)), opts(std::move(o)), tls_ctx(ssl::context::tls_client) {
    if (!url || !url->tls)
      return;
    beast::error_code ec;
    if (opts.ca_file.empty())
      tls_ctx.set_default_verify_paths(ec);
    else
      tls_ctx.load_verify_file(opts.ca_file, ec);
    if (ec)
      tls_setup_error = "cannot load trusted certificates: " + ec.message();
    tls_ctx.set_verify_mode(ssl::verify_peer);
    SSL_CTX_set_min_proto_version(tls_ctx.native_handle(), TLS1_2_VERSION);
  }

  void run() {
    ioc.restart();
    ioc.run();
  }

  void drop() {
    beast::error_code ignored;
    if (secure)
      beast::get_lowest_layer(*secure).socket().close(ignored);
    if (plain)
      plain->socket().close(ignored);
    secure.reset();
    plain.reset();
    buffer.clear();
  }

  bool connected() const {
    return (secure && beast::get_lowest_layer(*secure).socket().is_open())
           || (plain && plain->socket().is_open());
  }

  // Resolves, connects and (for https) handshakes; an empty message means success.
  fetch_result open(clock_type::time_point deadline) {
    drop();
    auto conn_deadline = std::min(deadline, clock_type::now() + opts.connect_timeout);
    tcp::resolver resolver{ioc};
    net::steady_timer timer{ioc, conn_deadline};
    beast::error_code ec;
    tcp::resolver::results_type endpoints;
    bool timed_out = false;
    resolver.async_resolve(url->host, url->port, [&](beast::error_code e, auto results) {
      ec = e;
      endpoints = std::move(results);
      timer.cancel();
    });
    timer.async_wait([&](beast::error_code e) {
      if (!e) {
        timed_out = true;
        resolver.cancel();
      }
    });
    run();
    if (timed_out)
      return failure(transport_errc::timeout, "timed out resolving " + url->host);
    if (ec)
      return failure(transport_errc::resolve_failed, "cannot resolve " + url->host + ": "
                                                       + ec.message());
    auto stream = std::make_unique<beast::tcp_stream>(ioc);
    stream->expires_at(conn_deadline);
    stream->async_connect(endpoints, [&](beast::error_code e, const tcp::endpoint&) { ec = e; });
    run();
    if (ec == beast::error::timeout)
      return failure(transport_errc::timeout, "timed out connecting to " + url->host);
    if (ec)
      return failure(transport_errc::connect_failed, "cannot connect to " + url->host + ":"
                                                       + url->port + ": " + ec.message());
    ++opened;
    if (!url->tls) {
      plain = std::move(stream);
      return {};
    }
    return handshake(std::move(stream), conn_deadline);
  }

  fetch_result handshake(std::unique_ptr<beast::tcp_stream> stream,
                         clock_type::time_point conn_deadline) {
    if (!tls_setup_error.empty())
      return failure(transport_errc::tls_failed, tls_setup_error);
    auto s = std::make_unique<beast::ssl_stream<beast::tcp_stream>>(std::move(*stream), tls_ctx);
    auto* native = s->native_handle();
    // SNI for names; certificate checked against the name (or IP) we dialled.
    if (is_ip_literal(url->host)) {
      X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(native), url->host.c_str());
    } else {
      SSL_set_tlsext_host_name(native, url->host.c_str());
      SSL_set1_host(native, url->host.c_str());
    }
    beast::error_code ec;
    beast::get_lowest_layer(*s).expires_at(conn_deadline);
    s->async_handshake(ssl::stream_base::client, [&](beast::error_code e) { ec = e; });
    run();
    if (ec == beast::error::timeout)
      return failure(transport_errc::timeout, "timed out in the TLS handshake with " + url->host);
    if (ec)
      return failure(transport_errc::tls_failed, "TLS handshake with " + url->host + " failed: "
                                                   + ec.message());
    secure = std::move(s);
    return {};
  }

  bhttp::request<bhttp::string_body> build(const outbound_request& req, bhttp::verb verb) {
    bhttp::request<bhttp::string_body> r{verb, url->prefix + req.target, 11};
    bool default_port = url->port == (url->tls ? "443" : "80");
    auto host = url->host.find(':') != std::string::npos ? "[" + url->host + "]" : url->host;
    r.set(bhttp::field::host, default_port ? host : host + ":" + url->port);
    r.set(bhttp::field::user_agent, opts.user_agent);
    for (const auto& [k, v] : req.headers)
      r.set(k, v);
    r.body() = req.body;
    r.keep_alive(true);
    r.prepare_payload();
    return r;
  }

  // One write + read on the open connection. `retryable` is set when the connection was found
  // closed before any byte of a response arrived.
  template <class Stream>
  fetch_result exchange(Stream& s, bhttp::request<bhttp::string_body>& r,
                        clock_type::time_point deadline, bool& retryable) {
    beast::error_code ec;
    beast::get_lowest_layer(s).expires_at(deadline);
    bhttp::async_write(s, r, [&](beast::error_code e, std::size_t) { ec = e; });
    run();
    bhttp::response_parser<bhttp::string_body> parser;
    parser.body_limit(opts.body_limit);
    if (!ec) {
      bhttp::async_read(s, buffer, parser, [&](beast::error_code e, std::size_t) { ec = e; });
      run();
    }
    if (ec) {
      retryable = is_closed_connection(ec) && !parser.got_some();
      drop();
      if (ec == beast::error::timeout)
        return failure(transport_errc::timeout, "timed out waiting for " + url->host);
      return failure(transport_errc::io_error, "exchange with " + url->host + " failed: "
                                                 + ec.message());
    }
    auto res = parser.release();
    fetch_result out;
    out.response.status = static_cast<int>(res.result_int());
    for (const auto& f : res) {
      std::string name{f.name_string()};
      std::transform(name.begin(), name.end(), name.begin(),
                     [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
      out.response.headers.emplace_back(std::move(name), std::string(f.value()));
    }
    out.response.body = std::move(res.body());
    if (!res.keep_alive())
      drop();
    return out;
  }

  fetch_result send(const outbound_request& req) {
    if (!url)
      return failure(transport_errc::bad_request, "not an http(s) URL");
    auto verb = bhttp::string_to_verb(req.method);
    if (verb == bhttp::verb::unknown || !valid_target(req.target))
      return failure(transport_errc::bad_request, "bad method or target");
    auto deadline = clock_type::now() + opts.total_timeout;
    auto r = build(req, verb);
    for (int attempt = 0;; ++attempt) {
      bool reused = connected();
      if (!reused) {
        auto opened_result = open(deadline);
        if (!opened_result.ok())
          return opened_result;
      }
      bool retryable = false;
      auto out = secure ? exchange(*secure, r, deadline, retryable)
                        : exchange(*plain, r, deadline, retryable);
      // A kept-alive connection the server had already closed: one fresh attempt.
      if (!out.ok() && retryable && reused && attempt == 0)
        continue;
      return out;
    }
  }

  std::optional<base_url> url;
  client_options opts;
  net::io_context ioc;
  ssl::context tls_ctx;
  std::string tls_setup_error;
  std::unique_ptr<beast::tcp_stream> plain;
  std::unique_ptr<beast::ssl_stream<beast::tcp_stream>> secure;
  beast::flat_buffer buffer;
  int opened = 0;
};

https_client::https_client(const std::string& url, client_options opts)
  : impl_(std::make_unique<impl>(url, std::move(opts))) {
}

https_client::~https_client() {
  impl_->drop();
}

fetch_result https_client::request(const outbound_request& req) {
  return impl_->send(req);
}

void https_client::close() {
  impl_->drop();
}

int https_client::connections_opened() const {
  return impl_->opened;
}

} // namespace djdash::http
