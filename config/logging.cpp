#include "config/logging.hpp"

#include <mutex>

#include <nlohmann/json.hpp>
#include <spdlog/pattern_formatter.h>
#include <spdlog/sinks/stdout_sinks.h>

namespace djdash {

namespace {

// A payload that starts with this byte carries a JSON object of fields, then the same byte, then
// the message text (see log_fields).
constexpr char field_mark = '\x1f';

std::string& node_id_storage() {
  static std::string id;
  return id;
}

/// Writes `"node_id":…,"msg":…` plus any structured fields, all JSON-escaped.
class json_body_flag : public spdlog::custom_flag_formatter {
public:
  void format(const spdlog::details::log_msg& m, const std::tm&,
              spdlog::memory_buf_t& dest) override {
    std::string payload(m.payload.data(), m.payload.size());
    nlohmann::json fields = nlohmann::json::object();
    if (!payload.empty() && payload[0] == field_mark) {
      auto end = payload.find(field_mark, 1);
      if (end != std::string::npos) {
        auto parsed = nlohmann::json::parse(payload.substr(1, end - 1), nullptr, false);
        if (parsed.is_object())
          fields = std::move(parsed);
        payload.erase(0, end + 1);
      }
    }
    std::string out = "\"node_id\":" + nlohmann::json(node_id_storage()).dump()
                      + ",\"msg\":"
                      + nlohmann::json(payload).dump(-1, ' ', false,
                                                     nlohmann::json::error_handler_t::replace);
    for (auto& [k, v] : fields.items())
      out += "," + nlohmann::json(k).dump() + ":"
             + v.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    dest.append(out.data(), out.data() + out.size());
  }

  std::unique_ptr<custom_flag_formatter> clone() const override {
    return std::make_unique<json_body_flag>();
  }
};

std::unique_ptr<spdlog::formatter> make_formatter() {
  auto f = std::make_unique<spdlog::pattern_formatter>();
  f->add_flag<json_body_flag>('*').set_pattern(
    R"({"ts":"%Y-%m-%dT%H:%M:%S.%f%z","level":"%l","logger":"%n",%*})");
  return f;
}

std::mutex& registry_mutex() {
  static std::mutex m;
  return m;
}

spdlog::level::level_enum& current_level() {
  static auto lvl = spdlog::level::info;
  return lvl;
}

} // namespace

void setup_logging(const std::string& node_id, const std::string& level) {
  node_id_storage() = node_id;
  current_level() = spdlog::level::from_str(level);
  for (const char* name : {"http", "actors", "agents", "db", "cluster", "main"})
    logger(name);
  spdlog::apply_all([](const std::shared_ptr<spdlog::logger>& l) {
    l->set_formatter(make_formatter());
    l->set_level(current_level());
  });
}

spdlog::logger& logger(const std::string& name) {
  if (auto l = spdlog::get(name))
    return *l;
  std::lock_guard<std::mutex> guard{registry_mutex()};
  if (auto l = spdlog::get(name))
    return *l;
  auto l = std::make_shared<spdlog::logger>(name,
                                            std::make_shared<spdlog::sinks::stderr_sink_mt>());
  l->set_formatter(make_formatter());
  l->set_level(current_level());
  l->flush_on(spdlog::level::warn);
  spdlog::register_logger(l);
  return *l;
}

void log_fields(spdlog::logger& log, spdlog::level::level_enum lvl, const std::string& msg,
                std::initializer_list<log_field> fields) {
  if (!log.should_log(lvl))
    return;
  nlohmann::json obj = nlohmann::json::object();
  for (auto& [k, v] : fields)
    obj[k] = v;
  std::string payload;
  payload += field_mark;
  payload += obj.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  payload += field_mark;
  payload += msg;
  log.log(lvl, "{}", payload);
}

} // namespace djdash
