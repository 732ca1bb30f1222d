#pragma once

// Beast/Asio aliases for the http/ implementation files. Never include this from a header that
// code outside http/ sees (server.hpp stays Beast-free).

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

namespace djdash::http {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;  // `http` is our own namespace
using tcp = boost::asio::ip::tcp;

} // namespace djdash::http
