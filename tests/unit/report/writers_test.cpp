// The report writers: a self-contained HTML page, Markdown, well-formed JUnit XML, SARIF 2.1.0, and
// the file writer that refuses a symbolic link.
#include "report/writers.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <nlohmann/json.hpp>
#include <regex>

#include "report/chart_script.h"
#include "report/text_escape.h"
#include "support/support.h"
#include "unit/report/run_events.h"

namespace chaosplus::report {
namespace {

using testing::RunBuilder;

// A run with something of everything, and text that needs escaping everywhere it goes.
RunData busy_run() {
  RunBuilder run("20261206T161700Z-3fa2c1", "shop <&> \"quoted\"");
  run.add(10, Event("steady_state.result").with("stage", "before").with("held", true))
      .add(20, Event("phase.started").with("phase", "slow").with("index", 0))
      .probes("checkout", 100, 20, 5, 2, 3)
      .load("shoppers", 200, 4, 30, 0.02)
      .add(1000, Event("fault.injected")
                     .with("fault", "latency")
                     .with("target", "tokens")
                     .with("summary", "latency <b>150ms</b>")
                     .with("phase", "slow")
                     .with("ledger_id", 1))
      .add(1500, Event("guardrail.tripped")
                     .with("guardrail", "collapse </script>")
                     .with("metric", "probe.checkout.success_rate")
                     .with("message", "rate < 50% & falling"))
      .add(1501, Event("run.halted").with("reason", "guardrail tripped"))
      .add(1600, Event("fault.reverted")
                     .with("fault", "latency")
                     .with("summary", "latency <b>150ms</b>")
                     .with("ok", true)
                     .with("ledger_id", 1))
      .add(1700, Event("threshold.result")
                     .with("activity", "load")
                     .with("name", "shoppers")
                     .with("metric", "load.shoppers.latency_p99")
                     .with("threshold", "p99 < 10ms")
                     .with("held", false)
                     .with("measured", 0.03)
                     .with("message", "p99 = 30ms > 10ms"))
      .add(1800, Event("fuzz.finding")
                     .with("id", "F0123456789")
                     .with("engine", "fuzz")
                     .with("oracle", "server_error")
                     .with("operation", "createOrder")
                     .with("signature", "500")
                     .with("severity", "high")
                     .with("title", "POST /orders answers 500 <script>alert(1)</script>")
                     .with("evidence", "500 Internal")
                     .with("trigger", "status_5xx")
                     .with("curl", "curl -X POST http://127.0.0.1:1/orders")
                     .with("base_url", "http://127.0.0.1:1")
                     .with("active_faults", "[\"latency on tokens\"]")
                     .with("count", 2))
      .add(1801, Event("security.finding")
                     .with("id", "Fabcdefabcd")
                     .with("engine", "security")
                     .with("oracle", "fail_open")
                     .with("severity", "critical")
                     .with("title", "open\x01door"))
      .verdict(2000, "aborted", 2, "guardrail tripped");
  return run.data();
}

TEST(HtmlReport, IsOnePageWithEverythingInlineAndNoExternalUrl) {
  ReportContext context;
  context.experiment_text = "name: shop\n# </script><img src=x onerror=alert(1)>\n";
  const std::string html = html_report(busy_run(), context);
  EXPECT_EQ(html.rfind("<!DOCTYPE html>", 0), 0u);
  // Chart.js is there, whole.
  EXPECT_NE(html.find(std::string(chart_script().substr(0, 200))), std::string::npos);
  // Nothing is loaded from anywhere: no src or href attribute at all, no link or iframe elements.
  EXPECT_FALSE(std::regex_search(html, std::regex(R"((src|href)\s*=\s*["']?(https?:)?//)", std::regex::icase)));
  EXPECT_EQ(html.find("<link"), std::string::npos);
  EXPECT_EQ(html.find("<iframe"), std::string::npos);
  EXPECT_EQ(html.find("<img"), std::string::npos) << "the experiment text must be escaped";
  // Every canvas the browser test looks for.
  for (const char* chart : {"probe-success", "probe-latency", "load-rate", "load-latency"})
    EXPECT_NE(html.find(std::string("<canvas data-chart=\"") + chart + "\""), std::string::npos) << chart;
  EXPECT_NE(html.find("window.chaosplusReportReady = true"), std::string::npos);
  // Exactly three script elements close: the data, Chart.js, ours. Nothing else can end one early.
  std::size_t closes = 0;
  for (std::size_t at = html.find("</script"); at != std::string::npos; at = html.find("</script", at + 1)) ++closes;
  EXPECT_EQ(closes, 3u);
  EXPECT_NE(html.find("shop &lt;&amp;&gt; &quot;quoted&quot;"), std::string::npos);
  EXPECT_NE(html.find("latency &lt;b&gt;150ms&lt;/b&gt;"), std::string::npos);
  EXPECT_NE(html.find("no earlier run"), std::string::npos);
}

TEST(HtmlReport, TheEmbeddedDataReadsBackAsTheRun) {
  const RunData run = busy_run();
  const std::string html = html_report(run, {});
  const std::string open = "<script type=\"application/json\" id=\"run-data\">";
  const std::size_t from = html.find(open) + open.size();
  const auto data = nlohmann::json::parse(html.substr(from, html.find("</script>", from) - from));
  EXPECT_EQ(data["run"]["id"], "20261206T161700Z-3fa2c1");
  ASSERT_EQ(data["faults"].size(), 1u);
  EXPECT_DOUBLE_EQ(data["faults"][0]["from"].get<double>(), 1.0);
  EXPECT_DOUBLE_EQ(data["faults"][0]["to"].get<double>(), 1.6);
  EXPECT_EQ(data["marks"].size(), 2u);
  EXPECT_EQ(data["marks"][0]["label"], "guardrail collapse </script> tripped");  // escaped in the page, intact here
  EXPECT_EQ(data["probes"][0]["points"].size(), 20u);
  EXPECT_EQ(data["loads"][0]["ticks"].size(), 3u);
}

TEST(HtmlReport, SaysWhatIsMissing) {
  RunBuilder run("r1");
  const std::string html = html_report(run.data(), {});
  EXPECT_NE(html.find("No probe ran in this run."), std::string::npos);
  EXPECT_NE(html.find("This run had no load."), std::string::npos);
  EXPECT_NE(html.find("Not available"), std::string::npos);  // the experiment file
  EXPECT_NE(html.find("no verdict: the run was interrupted"), std::string::npos);
  EXPECT_EQ(html.find("<canvas"), std::string::npos);
}

TEST(HtmlReport, ShowsTheComparisonWithThePreviousRun) {
  ReportContext context;
  RunBuilder a("a"), b("b");
  a.probes("checkout", 0, 10, 4).verdict(1000, "held", 0);
  b.probes("checkout", 0, 10, 104).verdict(1000, "held", 0);
  context.previous = compare_runs(a.data(), b.data());
  const std::string html = html_report(b.data(), context);
  EXPECT_NE(html.find("probe checkout p50 latency (during the phases)"), std::string::npos);
  EXPECT_NE(html.find("worse (regression)"), std::string::npos);
}

TEST(TextEscape, ScriptTextCannotCloseItsElement) {
  EXPECT_EQ(script_safe_json(R"({"a":"</script><!--"})"), R"({"a":"\u003c/script>\u003c!--"})");
  EXPECT_EQ(script_safe_code("x = '</SCRIPT>' + '<!--';"), "x = '<\\/SCRIPT>' + '<\\!--';");
  EXPECT_EQ(html_escape("<a href='x'>&</a>"), "&lt;a href=&#39;x&#39;&gt;&amp;&lt;/a&gt;");
  EXPECT_EQ(xml_escape("a\x01"
                       "b\xff"
                       "c\"'"),
            "a\xef\xbf\xbd"
            "b\xef\xbf\xbd"
            "c&quot;&apos;");
  EXPECT_EQ(xml_escape("caf\xc3\xa9"), "caf\xc3\xa9");
  EXPECT_EQ(markdown_cell("a|b\nc"), "a\\|b c");
}

TEST(MarkdownReport, HasTheVerdictChecksFaultsLoadAndFindings) {
  const std::string md = markdown_report(busy_run(), {});
  EXPECT_EQ(md.rfind("### chaosplus: shop <&> \"quoted\": **aborted** (exit code 2)", 0), 0u) << md;
  EXPECT_NE(md.find("| threshold | load shoppers: p99 < 10ms | **failed** |"), std::string::npos) << md;
  EXPECT_NE(md.find("| latency | tokens | slow | 1.00 s | 1.60 s | ok |"), std::string::npos) << md;
  EXPECT_NE(md.find("| shoppers | steady | 300 |"), std::string::npos) << md;
  EXPECT_NE(md.find("`F0123456789`"), std::string::npos);
  EXPECT_NE(md.find("_no earlier run_"), std::string::npos);
}

// A minimal XML 1.0 well-formedness check: balanced, properly nested elements; quoted attributes;
// only the five entities or character references; no raw '<' or '&' in text. Returns "" or what is wrong.
std::string xml_problem(const std::string& xml) {
  std::vector<std::string> open;
  std::size_t i = 0;
  if (xml.rfind("<?xml ", 0) == 0) i = xml.find("?>") + 2;
  auto check_entities = [](const std::string& text) -> std::string {
    for (std::size_t k = text.find('&'); k != std::string::npos; k = text.find('&', k + 1)) {
      const std::size_t end = text.find(';', k);
      if (end == std::string::npos) return "& without ;";
      const std::string name = text.substr(k + 1, end - k - 1);
      if (name != "amp" && name != "lt" && name != "gt" && name != "quot" && name != "apos" && name.rfind("#", 0) != 0)
        return "unknown entity &" + name + ";";
    }
    return "";
  };
  bool root_seen = false;
  while (i < xml.size()) {
    const std::size_t lt = xml.find('<', i);
    const std::string text = xml.substr(i, lt == std::string::npos ? std::string::npos : lt - i);
    if (auto p = check_entities(text); !p.empty()) return p;
    if (lt == std::string::npos) break;
    const std::size_t gt = xml.find('>', lt);
    if (gt == std::string::npos) return "unclosed tag";
    std::string tag = xml.substr(lt + 1, gt - lt - 1);
    i = gt + 1;
    if (tag.rfind("/", 0) == 0) {
      if (open.empty() || open.back() != tag.substr(1)) return "mismatched </" + tag.substr(1) + ">";
      open.pop_back();
      continue;
    }
    const bool empty = !tag.empty() && tag.back() == '/';
    if (empty) tag.pop_back();
    static const std::regex element(R"(^([A-Za-z_][\w.-]*)((\s+[A-Za-z_][\w.-]*="[^"<]*")*)\s*$)");
    std::smatch m;
    if (!std::regex_match(tag, m, element)) return "bad tag <" + tag + ">";
    if (auto p = check_entities(m[2].str()); !p.empty()) return p;
    if (open.empty() && root_seen) return "a second root element";
    root_seen = true;
    if (!empty) open.push_back(m[1].str());
  }
  return open.empty() ? "" : "unclosed <" + open.back() + ">";
}

int count(const std::string& text, const std::string& what) {
  int n = 0;
  for (std::size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
  return n;
}

TEST(JunitReport, IsWellFormedWithOneCasePerCheckAndSuitesPerKind) {
  RunData run = busy_run();
  run.guardrails_declared = {"collapse </script>", "latency-guard"};
  const std::string xml = junit_report(run);
  EXPECT_EQ(xml_problem(xml), "") << xml;
  // before (held), after (not judged: the run was halted), the threshold, the tripped guardrail,
  // and the declared guardrail that never tripped.
  EXPECT_EQ(count(xml, "<testcase "), 5) << xml;
  EXPECT_EQ(count(xml, "<testsuite "), 3) << xml;
  EXPECT_EQ(count(xml, "<failure "), 2) << xml;
  EXPECT_EQ(count(xml, "<skipped "), 1) << xml;
  EXPECT_NE(xml.find("<testsuites name=\"chaosplus shop &lt;&amp;&gt; &quot;quoted&quot;\" tests=\"5\" failures=\"2\" "
                     "errors=\"0\" skipped=\"1\""),
            std::string::npos)
      << xml;
  EXPECT_NE(xml.find("name=\"collapse &lt;/script&gt;\""), std::string::npos);
  EXPECT_NE(xml.find("name=\"latency-guard\" time=\"0\">\n      <system-out>did not trip</system-out>"),
            std::string::npos)
      << xml;
}

TEST(JunitReport, TheCheckerRefusesBrokenXml) {
  EXPECT_NE(xml_problem("<a><b></a></b>"), "");
  EXPECT_NE(xml_problem("<a x=\"1\">1 < 2</a>"), "");
  EXPECT_NE(xml_problem("<a>AT&T</a>"), "");
  EXPECT_NE(xml_problem("<a x=1/>"), "");
  EXPECT_EQ(xml_problem("<a x=\"&lt;\">&amp;<b/></a>"), "");
}

TEST(SarifReport, HasTheRequiredFieldsAndEveryFinding) {
  const auto sarif = nlohmann::json::parse(sarif_report(busy_run(), "0.1.0"));
  EXPECT_EQ(sarif["version"], "2.1.0");
  EXPECT_NE(sarif["$schema"].get<std::string>().find("sarif-schema-2.1.0"), std::string::npos);
  ASSERT_EQ(sarif["runs"].size(), 1u);
  const auto& run = sarif["runs"][0];
  EXPECT_EQ(run["tool"]["driver"]["name"], "chaosplus");
  ASSERT_EQ(run["results"].size(), 2u);
  for (const auto& result : run["results"]) {
    EXPECT_TRUE(result["ruleId"].is_string());
    EXPECT_TRUE(result["message"]["text"].is_string());
    EXPECT_TRUE(result["level"] == "error" || result["level"] == "warning" || result["level"] == "note");
    ASSERT_TRUE(result["locations"].is_array());
    EXPECT_FALSE(result["locations"].empty());
  }
  EXPECT_EQ(run["results"][0]["ruleId"], "fuzz/server_error");
  EXPECT_EQ(run["results"][0]["level"], "error");
  EXPECT_EQ(run["results"][0]["partialFingerprints"]["chaosplusFindingId/v1"], "F0123456789");
  EXPECT_EQ(run["results"][1]["ruleId"], "security/fail_open");
  EXPECT_EQ(run["tool"]["driver"]["rules"].size(), 2u);
}

TEST(SarifReport, ARunWithoutFindingsHasAnEmptyResultList) {
  RunBuilder run("r1");
  const auto sarif = nlohmann::json::parse(sarif_report(run.data(), ""));
  EXPECT_TRUE(sarif["runs"][0]["results"].is_array());
  EXPECT_TRUE(sarif["runs"][0]["results"].empty());
}

TEST(ReportFile, IsWrittenWholeAndRefusesASymbolicLink) {
  chaosplus::testing::TempDir dir;
  const std::string path = dir.file("r.html");
  ASSERT_TRUE(write_report_file(path, "one"));
  ASSERT_TRUE(write_report_file(path, "two"));  // replaced
  EXPECT_EQ(chaosplus::testing::read_file(path), "two");
  const std::string target = dir.file("target");
  chaosplus::testing::write_file(target, "keep");
  const std::string link = dir.file("link.html");
  ASSERT_EQ(::symlink(target.c_str(), link.c_str()), 0);
  auto refused = write_report_file(link, "evil");
  ASSERT_FALSE(refused);
  EXPECT_NE(refused.error().find("symbolic link"), std::string::npos) << refused.error();
  EXPECT_EQ(chaosplus::testing::read_file(target), "keep");
  struct stat st {};
  ASSERT_EQ(::lstat(link.c_str(), &st), 0);
  EXPECT_TRUE(S_ISLNK(st.st_mode));
  EXPECT_FALSE(write_report_file(dir.file(""), "x"));  // a folder
  EXPECT_FALSE(write_report_file(dir.file("no/such/folder/r.html"), "x"));
}

}  // namespace
}  // namespace chaosplus::report
