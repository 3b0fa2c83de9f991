// The dictionary of strings that break naive code. Written for this project, by family: each
// entry is something a real service has been seen to mishandle, and its label says what it
// probes, for RequestCase::mutation and the findings.
#include "fuzz/encoding.h"
#include "fuzz/values.h"

namespace chaosplus::fuzz {

const std::vector<InterestingString>& interesting_strings() {
  static const std::vector<InterestingString> kStrings = [] {
    std::vector<InterestingString> s = {
        // SQL
        {"'", "sql quote"},
        {"\"", "double quote"},
        {"' OR '1'='1", "sql tautology"},
        {"1' OR '1'='1' -- ", "sql tautology with comment"},
        {"1; DROP TABLE users--", "sql stacked statement"},
        {"' UNION SELECT NULL--", "sql union"},
        {"\\", "backslash"},
        {"%", "sql wildcard"},
        // NoSQL and JSON-in-string
        {"{\"$gt\": \"\"}", "nosql operator"},
        {"[$ne]=1", "nosql array operator"},
        // templates
        {"{{7*7}}", "template {{7*7}}"},
        {"${7*7}", "template ${7*7}"},
        {"<%= 7*7 %>", "template <%= %>"},
        {"#{7*7}", "template #{}"},
        // format strings
        {"%s%s%s%s%n", "format string %n"},
        {"%x%x%x%x", "format string %x"},
        {"{0}{1}", "format placeholders"},
        // traversal and files
        {"../../../../etc/passwd", "path traversal"},
        {"..\\..\\..\\windows\\win.ini", "path traversal backslash"},
        {"%2e%2e%2f%2e%2e%2fetc%2fpasswd", "encoded path traversal"},
        {"/dev/zero", "device file"},
        {"file:///etc/passwd", "file url"},
        // markup
        {"<script>alert(1)</script>", "script tag"},
        {"\"><img src=x onerror=alert(1)>", "attribute breakout"},
        {"<!--", "html comment"},
        {"<?xml version=\"1.0\"?><!DOCTYPE x [<!ENTITY e SYSTEM \"file:///etc/passwd\">]><x>&e;</x>", "xml entity"},
        // shell
        {"; sleep 1", "shell sleep"},
        {"$(id)", "shell substitution"},
        {"`id`", "shell backticks"},
        {"| cat /etc/passwd", "shell pipe"},
        // network
        {"http://127.0.0.1:22/", "ssrf loopback"},
        {"http://169.254.169.254/latest/meta-data/", "ssrf metadata"},
        // header and log injection (CR/LF are stripped from headers by render)
        {"a\r\nX-Injected: 1", "crlf injection"},
        {"\x1b[31mred\x1b[0m", "terminal escape"},
        // numbers as text
        {"NaN", "NaN as text"},
        {"Infinity", "Infinity as text"},
        {"-0", "minus zero as text"},
        {"1e309", "overflowing exponent"},
        {"0x7fffffff", "hex number"},
        {"9223372036854775808", "int64 overflow as text"},
        {"00000000000000000001", "leading zeros"},
        // words code treats specially
        {"null", "the word null"},
        {"undefined", "the word undefined"},
        {"true", "the word true"},
        {"__proto__", "prototype key"},
        {"constructor", "constructor key"},
        {"admin", "the word admin"},
        // whitespace and empty-looking
        {" ", "single space"},
        {"  leading and trailing  ", "surrounding spaces"},
        {"\t", "tab"},
        // unicode
        {"\u202Egnp.exe", "RTL override"},
        {"a\u200Db", "zero width joiner"},
        {"\uFEFFbom", "byte order mark"},
        {"\U0001F468\u200D\U0001F469\u200D\U0001F467", "emoji ZWJ sequence"},
        {"Z\u0351\u0334\u0321\u0330", "combining marks"},
        {"\uFF1Cscript\uFF1E", "fullwidth brackets"},
        {"\u0130stanbul", "dotted capital I"},
        {"\u00DF", "sharp s (case folding)"},
        {"\u65E5\u672C\u8A9E", "CJK"},
        {"\uFFFF", "noncharacter U+FFFF"},
        {"\U0010FFFF", "last code point"},
    };
    s.push_back({std::string("a\0b", 3), "NUL inside"});
    s.push_back({std::string("\x01\x02\x7f", 3), "control characters"});
    s.push_back({"x" + code_point_bytes(0xD800) + "y", "lone high surrogate"});
    s.push_back({code_point_bytes(0xDFFF), "lone low surrogate"});
    s.push_back({"\xC0\xAF", "overlong '/' (invalid UTF-8)"});
    s.push_back({"\xFF\xFE", "invalid UTF-8 bytes"});
    s.push_back({std::string(1024, 'A'), "1 KiB of A"});
    s.push_back({std::string(65536, 'A'), "64 KiB of A"});
    return s;
  }();
  return kStrings;
}

}  // namespace chaosplus::fuzz
