#pragma once
// Text made safe for where a report puts it.
#include <string>
#include <string_view>

namespace chaosplus::report {

// & < > " ' as entities: for HTML text and attribute values.
std::string html_escape(std::string_view text);
// The same for XML, and characters XML 1.0 cannot carry (control characters but tab, newline and
// carriage return; invalid UTF-8) replaced by U+FFFD.
std::string xml_escape(std::string_view text);
// JSON text that can sit inside an HTML <script> element: every '<' as \u003c, so no "</script"
// or "<!--" can end or bend it (in JSON a '<' can only be inside a string, where \u003c means '<').
std::string script_safe_json(std::string_view json);
// JavaScript source inside <script>: "</script" (any case) as "<\/script", "<!--" as "<\!--".
std::string script_safe_code(std::string_view code);
// A Markdown table cell: '|' escaped, newlines as spaces.
std::string markdown_cell(std::string_view text);

}  // namespace chaosplus::report
