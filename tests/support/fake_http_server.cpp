#include "support/fake_http_server.hpp"

#include <sys/socket.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <condition_variable>
#include <mutex>
#include <stdexcept>
#include <thread>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include "protocols/form_encoding.hpp"

namespace djdash::test {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
namespace ssl = boost::asio::ssl;
using tcp = net::ip::tcp;

std::string fake_request::header(const std::string& lower_name) const {
  for (const auto& [k, v] : headers)
    if (k == lower_name)
      return v;
  return {};
}

std::optional<std::string> fake_request::form_value(const std::string& name) const {
  for (const auto& [k, v] : form)
    if (k == name)
      return v;
  return std::nullopt;
}

namespace {

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

fake_request convert(const bhttp::request<bhttp::string_body>& req, int connection) {
  fake_request out;
  out.method = std::string(req.method_string());
  out.target = std::string(req.target());
  auto q = out.target.find('?');
  out.path = out.target.substr(0, q);
  if (q != std::string::npos)
    out.query = out.target.substr(q + 1);
  for (const auto& f : req)
    out.headers.emplace_back(lower(std::string(f.name_string())), std::string(f.value()));
  out.body = req.body();
  if (lower(out.header("content-type")).rfind("application/x-www-form-urlencoded", 0) == 0)
    out.form = form::decode(out.body).value_or(form::fields{});
  out.query_params = form::decode(out.query).value_or(form::fields{});
  out.connection = connection;
  return out;
}

} // namespace

struct fake_http_server::impl {
  impl(fake_handler h, std::optional<fake_tls> tls) : handler(std::move(h)), acceptor(ioc) {
    if (tls) {
      tls_ctx = std::make_unique<ssl::context>(ssl::context::tls_server);
      tls_ctx->use_certificate_chain(net::buffer(tls->cert_pem));
      tls_ctx->use_private_key(net::buffer(tls->key_pem), ssl::context::pem);
    }
    tcp::endpoint ep{net::ip::make_address("127.0.0.1"), 0};
    acceptor.open(ep.protocol());
    acceptor.set_option(net::socket_base::reuse_address(true));
    acceptor.bind(ep);
    acceptor.listen();
    port = acceptor.local_endpoint().port();
    accept_thread = std::thread([this] { accept_loop(); });
  }

  void accept_loop() {
    for (;;) {
      auto sock = std::make_shared<tcp::socket>(ioc);
      beast::error_code ec;
      acceptor.accept(*sock, ec);
      std::lock_guard<std::mutex> guard{mtx};
      if (stopped)
        return;
      if (ec)
        continue;
      int id = ++accepted;
      live.push_back(sock);
      workers.emplace_back([this, sock, id] { serve(sock, id); });
    }
  }

  void serve(std::shared_ptr<tcp::socket> sock, int id) {
    if (tls_ctx) {
      ssl::stream<tcp::socket&> stream{*sock, *tls_ctx};
      beast::error_code ec;
      stream.handshake(ssl::stream_base::server, ec);
      if (ec) {
        std::lock_guard<std::mutex> guard{mtx};
        ++handshake_failures;
      } else {
        serve_stream(stream, id);
      }
    } else {
      serve_stream(*sock, id);
    }
    std::lock_guard<std::mutex> guard{mtx};
    beast::error_code ignored;
    sock->shutdown(tcp::socket::shutdown_both, ignored);
    sock->close(ignored);
    live.erase(std::remove(live.begin(), live.end(), sock), live.end());
  }

  // Serves one connection until the peer closes it, a response asks to close, or stop().
  template <class Stream>
  void serve_stream(Stream& stream, int id) {
    beast::flat_buffer buffer;
    for (;;) {
      bhttp::request_parser<bhttp::string_body> parser;
      parser.body_limit(16 * 1024 * 1024);
      beast::error_code ec;
      bhttp::read(stream, buffer, parser, ec);
      if (ec)
        break;
      auto req = parser.release();
      auto fr = convert(req, id);
      {
        std::lock_guard<std::mutex> guard{mtx};
        received.push_back(fr);
      }
      auto res = answer(fr);
      if (res.delay.count() > 0 && !wait_for(res.delay))
        break;
      if (res.drop)
        break;
      bhttp::response<bhttp::string_body> out{static_cast<bhttp::status>(res.status),
                                               req.version()};
      out.set(bhttp::field::server, "djdash-fake");
      if (!res.content_type.empty())
        out.set(bhttp::field::content_type, res.content_type);
      for (const auto& [k, v] : res.headers)
        out.set(k, v);
      out.body() = std::move(res.body);
      out.keep_alive(req.keep_alive() && !res.close);
      out.prepare_payload();
      bhttp::write(stream, out, ec);
      if (ec || !out.keep_alive())
        break;
    }
  }

  fake_response answer(const fake_request& fr) {
    try {
      return handler(fr);
    } catch (const std::exception& e) {
      fake_response r;
      r.status = 500;
      r.content_type = "text/plain";
      r.body = std::string("fake handler threw: ") + e.what();
      return r;
    }
  }

  // Returns false when stop() interrupted the wait.
  bool wait_for(std::chrono::milliseconds d) {
    std::unique_lock<std::mutex> lock{mtx};
    return !stop_cv.wait_for(lock, d, [this] { return stopped; });
  }

  void stop() {
    std::vector<std::thread> to_join;
    {
      std::lock_guard<std::mutex> guard{mtx};
      if (stopped)
        return;
      stopped = true;
      // shutdown() on the raw descriptors wakes threads blocked in accept/read on them.
      ::shutdown(acceptor.native_handle(), SHUT_RDWR);
      for (auto& s : live)
        ::shutdown(s->native_handle(), SHUT_RDWR);
    }
    stop_cv.notify_all();
    if (accept_thread.joinable())
      accept_thread.join();
    {
      std::lock_guard<std::mutex> guard{mtx};
      to_join.swap(workers);
    }
    for (auto& t : to_join)
      t.join();
    beast::error_code ignored;
    acceptor.close(ignored);
  }

  fake_handler handler;
  std::unique_ptr<ssl::context> tls_ctx;
  net::io_context ioc;
  tcp::acceptor acceptor;
  uint16_t port = 0;
  std::thread accept_thread;
  mutable std::mutex mtx;
  std::condition_variable stop_cv;
  bool stopped = false;
  int accepted = 0;
  int handshake_failures = 0;
  std::vector<std::shared_ptr<tcp::socket>> live;
  std::vector<std::thread> workers;
  std::vector<fake_request> received;
};

fake_http_server::fake_http_server(fake_handler handler) {
  try {
    impl_ = std::make_unique<impl>(std::move(handler), std::nullopt);
  } catch (const std::exception& e) {
    throw std::runtime_error(std::string("fake_http_server: cannot listen: ") + e.what());
  }
}

fake_http_server::fake_http_server(fake_handler handler, fake_tls tls) {
  try {
    impl_ = std::make_unique<impl>(std::move(handler), std::move(tls));
  } catch (const std::exception& e) {
    throw std::runtime_error(std::string("fake_http_server: cannot listen: ") + e.what());
  }
}

fake_http_server::~fake_http_server() {
  stop();
}

uint16_t fake_http_server::port() const {
  return impl_->port;
}

std::string fake_http_server::base_url() const {
  return (impl_->tls_ctx ? "https://127.0.0.1:" : "http://127.0.0.1:")
         + std::to_string(impl_->port);
}

std::vector<fake_request> fake_http_server::requests() const {
  std::lock_guard<std::mutex> guard{impl_->mtx};
  return impl_->received;
}

int fake_http_server::connections() const {
  std::lock_guard<std::mutex> guard{impl_->mtx};
  return impl_->accepted;
}

int fake_http_server::failed_handshakes() const {
  std::lock_guard<std::mutex> guard{impl_->mtx};
  return impl_->handshake_failures;
}

void fake_http_server::stop() {
  impl_->stop();
}

} // namespace djdash::test
