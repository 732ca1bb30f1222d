#include "config/app_config.hpp"

#include "protocols/app_errc.hpp"
#include "protocols/type_ids.hpp"

namespace djdash {

app_config::app_config() {
  add_message_types<caf::id_block::djdash>();
  add_error_category(caf::atom("app_errc"),
                     [](uint8_t code, caf::atom_value, const caf::message& ctx) {
                       auto text = to_string(static_cast<app_errc>(code));
                       if (ctx.match_elements<std::string>())
                         text += ": " + ctx.get_as<std::string>(0);
                       return text;
                     });
}

} // namespace djdash
