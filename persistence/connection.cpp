#include "persistence/connection.hpp"

namespace djdash::persistence {

std::string connection_string(const std::string& url, int connect_timeout_s,
                              int statement_timeout_ms) {
  std::string out = url;
  out += url.find('?') == std::string::npos ? '?' : '&';
  out += "connect_timeout=" + std::to_string(connect_timeout_s);
  out += "&application_name=djdash";
  if (statement_timeout_ms > 0)
    out += "&options=-c%20statement_timeout%3D" + std::to_string(statement_timeout_ms);
  return out;
}

} // namespace djdash::persistence
