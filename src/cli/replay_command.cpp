#include <CLI/CLI.hpp>
#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <memory>
#include <optional>

#include "cli/commands.h"
#include "core/allowed_hosts.h"
#include "core/loopback.h"
#include "core/units.h"
#include "fuzz/binding.h"
#include "fuzz/exchange.h"
#include "fuzz/finding_output.h"
#include "openapi/document.h"

namespace chaosplus::cli {
namespace {

// What came back, for "does not reproduce (got ...)".
std::string describe(const fuzz::Reply& reply) {
  char ms[32];
  std::snprintf(ms, sizeof ms, "%.0f ms", static_cast<double>(reply.latency_ns) / 1e6);
  if (reply.outcome != fuzz::Outcome::response) {
    std::string text = std::string(fuzz::outcome_name(reply.outcome)) + " after " + ms;
    if (!reply.error.empty()) text += ": " + reply.error;
    return text;
  }
  std::string text =
      std::to_string(reply.response.status) + " " +
      (reply.response.reason.empty() ? net::reason_phrase(reply.response.status) : reply.response.reason);
  const auto type = reply.response.header("Content-Type");
  if (!type.empty()) text += ", " + std::string(type);
  text += ", " + std::to_string(reply.response.body.size()) + " bytes in " + ms;
  return text;
}

bool is_head(const std::string& bytes) { return bytes.rfind("HEAD ", 0) == 0; }

// The findings file names the OpenAPI document as it was given; relative to where the fuzzer ran,
// which may be the findings file's folder rather than ours.
std::string document_path(const std::string& findings_path, const std::string& openapi) {
  namespace fs = std::filesystem;
  if (fs::path(openapi).is_absolute() || fs::exists(openapi)) return openapi;
  const fs::path beside = fs::path(findings_path).parent_path() / openapi;
  return fs::exists(beside) ? beside.string() : openapi;
}

}  // namespace

void add_replay_command(CLI::App& app, int& exit_code) {
  auto* cmd = app.add_subcommand(
      "replay",
      "Re-send the reproducers of a findings file (from `chaosplus fuzz`, `chaosplus scan` or a run) and say for each\n"
      "finding whether it still reproduces: its setup requests, then its request, byte for byte as recorded (their\n"
      "Host header names the target they were found on) except for the path ids bound to a setup answer (the id a\n"
      "create gave at replay replaces the recorded one), each on a fresh connection, to the finding's base URL\n"
      "or --base-url (loopback only); the reply is judged by the finding's trigger. Faults that were active when a\n"
      "finding was found are not active during a replay: the output says so.\n"
      "Exit codes: 0 every selected finding reproduces, 1 some do not, 3 invalid input (an unreadable findings\n"
      "file, an unknown --id, a target that is not loopback, an OpenAPI document that cannot be loaded).");
  struct Options {
    std::string file;
    std::vector<std::string> ids;
    std::string base_url;
    std::string timeout = "5s";
    bool insecure = false;
    std::string ca_file;
  };
  auto o = std::make_shared<Options>();
  cmd->add_option("FINDINGS", o->file, "the findings file (JSON) to replay")->required();
  cmd->add_option("--id", o->ids, "replay only this finding (F and 10 hex digits; repeatable; default: all)")
      ->allow_extra_args(false);  // `--id F1 FILE` is one id and the file
  cmd->add_option("--base-url", o->base_url,
                  "send to this target instead of each finding's base URL (e.g. http://127.0.0.1:9090)");
  cmd->add_option("--timeout", o->timeout,
                  "per request (default 5s; a finding whose trigger is latency_over waits at least 1s past its bound)");
  cmd->add_flag("-k,--insecure", o->insecure, "https://: do not verify the server's certificate");
  cmd->add_option("--cacert", o->ca_file, "https://: trust the CAs in this PEM file (default: the system's store)");
  cmd->callback([o, &exit_code] {
    auto invalid = [&](const std::string& what) {
      std::cerr << "replay: " << what << "\n";
      exit_code = kExitInvalid;
    };
    auto file = fuzz::read_findings_file(o->file);
    if (!file) return invalid(file.error());
    auto timeout = parse_duration(o->timeout);
    if (!timeout) return invalid("--timeout " + timeout.error());
    if (*timeout <= Duration::zero()) return invalid("--timeout: expected a duration above 0");

    std::vector<const fuzz::Finding*> selected;
    for (const std::string& id : o->ids) {
      const auto it = std::find_if(file->findings.begin(), file->findings.end(),
                                   [&](const fuzz::Finding& f) { return f.id() == id; });
      if (it == file->findings.end()) return invalid("--id " + id + ": no such finding in " + o->file);
      selected.push_back(&*it);
    }
    if (o->ids.empty())
      for (const fuzz::Finding& f : file->findings) selected.push_back(&f);
    if (selected.empty()) {
      std::cout << o->file << ": no findings to replay\n";
      exit_code = 0;
      return;
    }

    // Every target is checked before anything is sent.
    std::vector<net::Url> targets;
    for (const fuzz::Finding* f : selected) {
      const std::string& url = o->base_url.empty() ? f->base_url : o->base_url;
      const std::string what = o->base_url.empty() ? f->id() + ": base_url '" + url + "'" : "--base-url '" + url + "'";
      if (url.empty()) return invalid(f->id() + ": the finding has no base_url; give --base-url");
      auto parsed = net::Url::parse(url);
      if (!parsed) return invalid(what + ": " + parsed.error());
      if (!allowed_hosts().allows_host(parsed->host))
        return invalid(what + ": not on the allow-list; " + allow_hint());
      targets.push_back(*parsed);
    }

    // schema_mismatch needs the document the findings were judged against.
    std::optional<openapi::Document> document;
    std::unique_ptr<openapi::ResponseChecker> checker;
    const bool needs_document = std::any_of(
        selected.begin(), selected.end(), [](const fuzz::Finding* f) { return f->trigger.rule == "schema_mismatch"; });
    if (needs_document) {
      if (file->openapi.empty())
        return invalid(o->file + ": a finding's trigger is schema_mismatch but the file names no OpenAPI document");
      auto loaded = openapi::load(document_path(o->file, file->openapi));
      if (!loaded) return invalid(loaded.error());
      document = std::move(*loaded);
      checker = std::make_unique<openapi::ResponseChecker>(*document);
    }

    std::size_t reproduced = 0;
    for (std::size_t i = 0; i < selected.size(); ++i) {
      const fuzz::Finding& finding = *selected[i];
      if (auto checked = fuzz::check_trigger(finding.trigger); !checked) {
        std::cout << finding.id() << " " << fuzz::severity_name(finding.severity) << " " << finding.oracle
                  << ": cannot be replayed (" << checked.error() << ")\n";
        continue;
      }
      fuzz::SenderOptions options;
      options.base = targets[i];
      options.timeout = *timeout;
      // A time-based finding needs the wait it was found with, whatever --timeout says.
      if (finding.trigger.rule == "latency_over")
        options.timeout = std::max<Duration>(
            *timeout, std::chrono::milliseconds(std::min<long long>(std::stoll(finding.trigger.value), 3'600'000)) +
                          std::chrono::seconds(1));  // at most an hour: a bound beyond is no timing test
      options.tls.verify = !o->insecure;
      options.tls.ca_file = o->ca_file;
      std::string setup_note;
      // Values a setup answer gives (the id a create made) replace the recorded ones in what follows.
      std::vector<std::string> setup = finding.setup_requests;
      std::string request = finding.raw_request;
      bool bound = true;
      for (std::size_t s = 0; s < setup.size(); ++s) {
        const fuzz::Reply answer = fuzz::exchange_once(options, setup[s], is_head(setup[s]));
        if (answer.outcome != fuzz::Outcome::response && setup_note.empty())
          setup_note = "setup request " + std::to_string(s + 1) + " got " + describe(answer);
        if (auto applied = fuzz::apply_bindings(finding.bindings, s, answer, setup, request); !applied) {
          setup_note = applied.error();
          bound = false;
          break;
        }
      }
      const fuzz::Reply reply = bound ? fuzz::exchange_once(options, request, is_head(request)) : fuzz::Reply{};
      const openapi::Operation* operation = document ? document->find(finding.operation) : nullptr;
      const bool triggers = bound && fuzz::reply_triggers(finding.trigger, reply, checker.get(), operation);
      if (triggers) ++reproduced;

      const std::string label = finding.id() + " " + std::string(fuzz::severity_name(finding.severity)) + " " +
                                finding.oracle + (finding.operation.empty() ? "" : " " + finding.operation);
      std::cout << label << (triggers ? ": reproduces (" : ": does not reproduce (")
                << (bound ? "got " + describe(reply) : "not sent: " + setup_note) << "; trigger "
                << finding.trigger.rule << (finding.trigger.value.empty() ? "" : " " + finding.trigger.value) << ")\n";
      if (!finding.title.empty()) std::cout << "  " << finding.title << "\n";
      if (!setup_note.empty()) std::cout << "  note: " << setup_note << "\n";
      if (finding.trigger.rule == "schema_mismatch" && operation == nullptr)
        std::cout << "  note: " << document->file << " has no operation '" << finding.operation
                  << "': the reply cannot be checked against it\n";
      if (!finding.active_faults.empty()) {
        std::cout << "  note: found while these faults were active, which are not active now:";
        for (std::size_t f = 0; f < finding.active_faults.size(); ++f)
          std::cout << (f == 0 ? " " : ", ") << finding.active_faults[f];
        if (finding.without_faults)
          std::cout << (*finding.without_faults ? " (it also happened without them)"
                                                : " (it did not happen without them)");
        std::cout << "\n";
      }
    }
    std::cout << reproduced << " of " << selected.size() << " finding(s) reproduce\n";
    exit_code = reproduced == selected.size() ? 0 : 1;
  });
}

}  // namespace chaosplus::cli
