#pragma once
// Server-Sent Events framing (the WHATWG EventSource format).
#include <cstdint>
#include <string>
#include <string_view>

namespace chaosplus::server {

// "id: <id>\nevent: <type>\ndata: <line>\n...\n\n": each line of `data` on its own data: field.
std::string sse_message(std::int64_t id, std::string_view type, std::string_view data);
// ": <text>\n\n", which EventSource ignores: keeps proxies and idle timers from closing the stream.
std::string sse_comment(std::string_view text);

}  // namespace chaosplus::server
