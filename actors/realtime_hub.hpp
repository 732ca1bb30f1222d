#pragma once

// The node's realtime hub: topic → local subscribers (WebSocket bridge actors), fan-out of
// published events, and the one place where cross-node relay plugs in. Protocol in
// protocols/realtime.hpp.

#include <optional>
#include <string>

#include <caf/fwd.hpp>

namespace djdash::actors {

/// Spawns the hub (one per node).
caf::actor spawn_realtime_hub(caf::actor_system& sys);

/// Returns the `{"type":"event","topic","event","payload"}` text for one publish, or nothing
/// when `payload_json` is not JSON (a publisher bug: the event is dropped, never half-sent).
std::optional<std::string> make_event_frame(const std::string& topic, const std::string& event,
                                            const std::string& payload_json);

} // namespace djdash::actors
