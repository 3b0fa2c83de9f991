#include "fuzz/values.h"

#include <gtest/gtest.h>

#include <cmath>
#include <regex>
#include <set>

#include "fuzz/encoding.h"
#include "fuzz/formats.h"
#include "fuzz/pattern.h"
#include "unit/fuzz/schema_check.h"

namespace chaosplus::fuzz {
namespace {

using testing::validates;

// Schemas as openapi::load hands them out (references inlined, 3.0 normalized).
std::vector<Json> schemas() {
  return {
      Json::parse(R"({"type":"integer","minimum":1,"maximum":10})"),
      Json::parse(R"({"type":"integer","exclusiveMinimum":0,"exclusiveMaximum":5})"),
      Json::parse(R"({"type":"integer","format":"int32"})"),
      Json::parse(R"({"type":"integer","minimum":-1000000,"multipleOf":7})"),
      Json::parse(R"({"type":"number","minimum":0.5,"maximum":2.5})"),
      Json::parse(R"({"type":"number","exclusiveMinimum":0,"multipleOf":0.25,"maximum":100})"),
      Json::parse(R"({"type":"number","format":"float"})"),
      Json::parse(R"({"type":"string","minLength":3,"maxLength":5})"),
      Json::parse(R"({"type":"string","pattern":"^[A-Z]{3}-\\d{2,4}$"})"),
      Json::parse(R"({"type":"string","pattern":"^(red|green|blue)(/[a-z0-9_]+)*$","maxLength":40})"),
      Json::parse(R"({"type":"string","format":"date"})"),
      Json::parse(R"({"type":"string","format":"date-time"})"),
      Json::parse(R"({"type":"string","format":"email","maxLength":64})"),
      Json::parse(R"({"type":"string","enum":["new","paid","shipped"]})"),
      Json::parse(R"({"const":"fixed"})"),
      Json::parse(R"({"type":["string","null"],"maxLength":4})"),
      Json::parse(R"({"type":"boolean"})"),
      Json::parse(
          R"({"type":"array","items":{"type":"integer","minimum":0,"maximum":3},"minItems":2,"maxItems":4,"uniqueItems":true})"),
      Json::parse(R"({"type":"object","required":["sku","qty"],"additionalProperties":false,
                      "properties":{"sku":{"type":"string","pattern":"^SKU[0-9]{4}$"},
                                    "qty":{"type":"integer","minimum":1,"maximum":99},
                                    "note":{"type":["string","null"],"maxLength":20},
                                    "tags":{"type":"array","items":{"type":"string","minLength":1,"maxLength":8},"maxItems":3}}})"),
      Json::parse(R"({"allOf":[{"type":"object","required":["id"],"properties":{"id":{"type":"integer","minimum":1}}},
                               {"required":["name"],"properties":{"name":{"type":"string","minLength":1,"maxLength":10}}}]})"),
      Json::parse(
          R"({"oneOf":[{"type":"object","required":["card"],"properties":{"card":{"type":"string","pattern":"^[0-9]{16}$"}},"additionalProperties":false},
                               {"type":"string","format":"uuid"}]})"),
      Json::parse(R"({"type":"object","properties":{"children":{"type":"array","items":{"x-chaosplus-cycle":true}},
                      "a":{"type":"object","properties":{"b":{"type":"object","required":["c"],"properties":{"c":{"type":"object",
                      "required":["d"],"properties":{"d":{"type":"integer","enum":[4]}}}}}}}}})"),
      Json::parse(R"({"type":"object","additionalProperties":{"type":"integer"},"minProperties":2})"),
      Json::parse(R"({})"),
  };
}

// Formats, which validates() leaves out: checked on the strings of the value, where the schemas
// above put them (top level, properties, items, oneOf branches by type).
bool formats_fit(const Json& schema, const Json& value) {
  if (!schema.is_object()) return true;
  const std::string format = schema.value("format", "");
  if (value.is_number_unsigned() && (format == "int32" || format == "int64")) return false;
  if (value.is_number() && format == "float" && std::fabs(value.get<double>()) > 3.4028234663852886e38) return false;
  if (value.is_number_integer() && format == "int32" &&
      (value.get<std::int64_t>() < INT32_MIN || value.get<std::int64_t>() > INT32_MAX))
    return false;
  if (value.is_string() && schema.contains("format") &&
      !formats::fits(schema["format"].get<std::string>(), value.get<std::string>()))
    return false;
  if (value.is_object() && schema.contains("properties"))
    for (const auto& [name, item] : value.items())
      if (schema["properties"].contains(name) && !formats_fit(schema["properties"][name], item)) return false;
  if (value.is_array() && schema.contains("items"))
    for (const auto& item : value)
      if (!formats_fit(schema["items"], item)) return false;
  if (schema.contains("oneOf"))
    for (const auto& branch : schema["oneOf"])
      if (branch.value("type", "") == "string" && value.is_string()) return formats_fit(branch, value);
  return true;
}

TEST(ValidValue, ValidatesAgainstItsSchema) {
  Rng rng(1);
  for (const auto& schema : schemas()) {
    for (int i = 0; i < 300; ++i) {
      const Json value = valid_value(schema, rng);
      std::string why;
      ASSERT_TRUE(validates(schema, value, &why)) << schema.dump() << "\nvalue " << value.dump() << "\n" << why;
      ASSERT_TRUE(formats_fit(schema, value)) << schema.dump() << " value " << value.dump();
    }
  }
}

TEST(ValidValue, GoesDeepAndUsesOptionalPropertiesSometimes) {
  Rng rng(2);
  const Json schema = schemas()[21];
  int deep = 0;
  for (int i = 0; i < 200; ++i) {
    const Json value = valid_value(schema, rng);
    if (value.contains("a") && value["a"].contains("b")) {
      ++deep;
      EXPECT_EQ(value["a"]["b"]["c"]["d"], 4);
    }
  }
  EXPECT_GT(deep, 10);
  EXPECT_LT(deep, 190);
}

TEST(ValidValue, UsesExamplesSometimesButNotAlways) {
  Rng rng(3);
  const Json schema = Json::parse(R"({"type":"string","example":"from-the-document"})");
  int used = 0;
  for (int i = 0; i < 400; ++i) used += valid_value(schema, rng) == "from-the-document";
  EXPECT_GT(used, 40);
  EXPECT_LT(used, 200);
  const std::vector<Json> given = {"param-example"};
  used = 0;
  for (int i = 0; i < 400; ++i) used += valid_value(Json{{"type", "string"}}, rng, given) == "param-example";
  EXPECT_GT(used, 40);
}

TEST(ValidValue, BoundariesAreReachedAndNeverPassed) {
  Rng rng(4);
  std::set<std::int64_t> seen;
  for (int i = 0; i < 2000; ++i) seen.insert(valid_value(schemas()[1], rng).get<std::int64_t>());
  EXPECT_EQ(seen, (std::set<std::int64_t>{1, 2, 3, 4}));  // exclusive 0 and 5
  seen.clear();
  for (int i = 0; i < 2000; ++i) seen.insert(valid_value(schemas()[0], rng).get<std::int64_t>());
  EXPECT_EQ(*seen.begin(), 1);
  EXPECT_EQ(*seen.rbegin(), 10);
}

TEST(ValidValue, SameSeedSameValues) {
  for (const auto& schema : schemas()) {
    Rng a(77), b(77);
    for (int i = 0; i < 50; ++i) ASSERT_EQ(json_text(valid_value(schema, a)), json_text(valid_value(schema, b)));
  }
}

TEST(Formats, EveryFormatHasValidValuesAndViolations) {
  Rng rng(5);
  for (auto format : formats::string_formats()) {
    for (int i = 0; i < 200; ++i) {
      const auto value = formats::value(format, rng);
      ASSERT_TRUE(value) << format;
      EXPECT_TRUE(formats::fits(format, *value)) << format << ": " << *value;
      if (format == "date" || format == "date-time" || format == "time") {
        Json schema{{"type", "string"}, {"format", format}};
        EXPECT_TRUE(validates(schema, *value)) << format << ": " << *value;
      }
    }
    for (const auto& violation : formats::violations(format))
      EXPECT_FALSE(formats::fits(format, violation.text))
          << format << ": " << violation.text << " (" << violation.what << ")";
    const bool free_form = format == "binary" || format == "password";
    EXPECT_EQ(formats::violations(format).empty(), free_form) << format;
  }
}

TEST(Formats, ChecksKnownGoodAndBadValues) {
  EXPECT_TRUE(formats::fits("date", "2024-02-29"));
  EXPECT_FALSE(formats::fits("date", "2023-02-29"));
  EXPECT_TRUE(formats::fits("date-time", "2024-01-01T23:59:60.5+01:00"));
  EXPECT_TRUE(formats::fits("ipv6", "::ffff:127.0.0.1"));
  EXPECT_TRUE(formats::fits("ipv6", "2001:db8::1"));
  EXPECT_FALSE(formats::fits("ipv4", "1.2.3.04"));
  EXPECT_TRUE(formats::fits("email", "first.last+tag@mail.example.com"));
  EXPECT_TRUE(formats::fits("uuid", "123e4567-E89B-12d3-a456-426614174000"));
  EXPECT_TRUE(formats::fits("byte", "aGk="));
  EXPECT_FALSE(formats::fits("byte", "a=Gk"));
}

TEST(Pattern, GeneratesMatchesForTheCommonSubset) {
  Rng rng(6);
  const std::vector<std::string> patterns = {"^[a-z]+$",
                                             "^\\d{3}-\\d{4}$",
                                             "^[A-Z]{2}[0-9]{2}[A-Z0-9]{4,30}$",
                                             "^(foo|bar)+baz?$",
                                             "^\\w+@\\w+\\.com$",
                                             "^[^\\s@]+@[^\\s@]+$",
                                             "a.c",
                                             "^(?:[01]\\d|2[0-3]):[0-5]\\d$",
                                             "^v\\d+(\\.\\d+){0,2}$",
                                             "^\\$[0-9]+\\.[0-9]{2}$",
                                             "^[\\w.-]{1,64}$",
                                             "^(?:\\d{4})-(0[1-9]|1[0-2])$",
                                             "x{2,}y*",
                                             "^[-+]?[0-9]*\\.?[0-9]+$"};
  for (const auto& p : patterns) {
    const std::regex re(p, std::regex::ECMAScript);
    for (int i = 0; i < 100; ++i) {
      const auto text = pattern::generate(p, rng);
      ASSERT_TRUE(text) << p;
      ASSERT_TRUE(std::regex_search(*text, re)) << p << " gave " << *text;
    }
  }
  EXPECT_FALSE(pattern::generate("^(?=a)b$", rng));   // lookahead
  EXPECT_FALSE(pattern::generate("^(a)\\1$", rng));   // backreference
  EXPECT_FALSE(pattern::generate("^\\p{L}+$", rng));  // unicode class
}

TEST(EdgeValue, NonConformingEdgesFailAndConformingOnesPass) {
  Rng rng(8);
  for (const auto& schema : schemas()) {
    int broken = 0;
    for (int i = 0; i < 300; ++i) {
      const EdgeValue edge = edge_value(schema, rng);
      ASSERT_FALSE(edge.what.empty());
      ASSERT_LE(json_text(edge.value).size(), kMaxHugeBytes + 64) << edge.what;
      // Without a place for messages valijson stops at the first error (uniqueItems over 10,000
      // items would otherwise compare and report every pair).
      const bool ok = validates(schema, edge.value) && formats_fit(schema, edge.value);
      if (edge.conforms) {
        std::string why;
        if (!ok) validates(schema, edge.value, &why);
        EXPECT_TRUE(ok) << schema.dump() << "\n"
                        << edge.what << " " << json_text(edge.value).substr(0, 200) << "\n"
                        << why;
      } else {
        ++broken;
        // A value that is not text (lone surrogates, invalid UTF-8) breaks JSON itself, not the schema.
        const bool not_text = !strict_json(edge.value);
        const bool format_only = edge.what.find("format ") != std::string::npos;
        EXPECT_TRUE(!ok || not_text || format_only) << schema.dump() << "\n"
                                                    << edge.what << " " << json_text(edge.value).substr(0, 200);
      }
    }
    if (schema != Json::object()) {
      EXPECT_GT(broken, 100) << schema.dump();
    }
  }
}

TEST(EdgeValue, HitsTheExactBoundaries) {
  Rng rng(9);
  std::set<std::string> whats;
  std::set<Json> values;
  for (int i = 0; i < 3000; ++i) {
    const EdgeValue e = edge_value(schemas()[0], rng);
    whats.insert(e.what);
    values.insert(e.value);
  }
  EXPECT_TRUE(whats.count("0 below minimum 1"));
  EXPECT_TRUE(whats.count("11 above maximum 10"));
  EXPECT_TRUE(whats.count("minimum 1 exactly"));
  EXPECT_TRUE(whats.count("maximum 10 exactly"));
  EXPECT_TRUE(values.count(Json(std::numeric_limits<std::int64_t>::max())));
  EXPECT_TRUE(values.count(Json(nullptr)));
  whats.clear();
  for (int i = 0; i < 3000; ++i) whats.insert(edge_value(schemas()[7], rng).what);
  EXPECT_TRUE(whats.count("length 2 below minLength 3"));
  EXPECT_TRUE(whats.count("length 6 above maxLength 5"));
  whats.clear();
  for (int i = 0; i < 3000; ++i) whats.insert(edge_value(schemas()[4], rng).what);
  EXPECT_TRUE(whats.count("0.49999999999999994 just below minimum 0.5")) << *whats.begin();
  EXPECT_TRUE(whats.count("3.5 above maximum 2.5"));
}

TEST(EdgeValue, NamesTheNestedPlaceOfTheDefect) {
  Rng rng(10);
  std::set<std::string> whats;
  for (int i = 0; i < 2000; ++i) whats.insert(edge_value(schemas()[18], rng).what);
  EXPECT_TRUE(whats.count("required property 'sku' missing"));
  EXPECT_TRUE(whats.count("extra property 'isAdmin'"));
  EXPECT_TRUE(whats.count("qty: 0 below minimum 1"));
  EXPECT_TRUE(whats.count("qty: 100 above maximum 99"));
  bool nested_array = false;
  for (const auto& w : whats) nested_array = nested_array || w.rfind("tags/", 0) == 0;
  EXPECT_TRUE(nested_array);
}

TEST(EdgeValue, CoversTheUnicodeAndInjectionDictionary) {
  Rng rng(11);
  std::set<std::string> whats;
  for (int i = 0; i < 5000; ++i) whats.insert(edge_value(Json{{"type", "string"}}, rng).what);
  for (const char* label :
       {"sql tautology", "template {{7*7}}", "path traversal", "script tag", "shell sleep", "format string %n",
        "RTL override", "NUL inside", "lone high surrogate", "emoji ZWJ sequence"})
    EXPECT_TRUE(whats.count(label)) << label;
}

// A 64 KiB dictionary string against a pattern: std::regex would recurse per character and could
// overflow the stack; such texts are not run through it.
TEST(EdgeValue, LongStringsAgainstAPatternDoNotRecurseThroughStdRegex) {
  Rng rng(12);
  const Json schema = Json::parse(R"({"type":"string","pattern":"^(A|B)*$"})");
  for (int i = 0; i < 400; ++i) {
    const EdgeValue e = edge_value(schema, rng);
    if (json_text(e.value).size() > 4096) {
      EXPECT_FALSE(e.conforms) << e.what;
    }
  }
}

TEST(InterestingStrings, LabelledAndBounded) {
  std::set<std::string> labels;
  for (const auto& s : interesting_strings()) {
    EXPECT_FALSE(s.label.empty());
    EXPECT_TRUE(labels.insert(s.label).second) << "duplicate label " << s.label;
    EXPECT_LE(s.text.size(), kMaxValueBytes + 8 * 1024);
  }
}

}  // namespace
}  // namespace chaosplus::fuzz
