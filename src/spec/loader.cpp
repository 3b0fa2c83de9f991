#include "spec/loader.h"

#include <pthread.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <cerrno>
#include <charconv>
#include <climits>
#include <cstring>
#include <exception>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <regex>
#include <span>

#include "spec/address.h"
#include "spec/builder.h"
#include "spec/fault_catalog.h"
#include "spec/interpolate.h"
#include "spec/kernel_params.h"
#include "spec/schema.h"
#include "spec/suggest.h"
#include "spec/text_rules.h"
#include "spec/yaml_tree.h"

namespace chaosplus::spec {
namespace {

using reading::Builder;
using reading::Issue;

bool at_or_under(const std::string& pointer, const std::string& base) {
  return pointer == base || (pointer.size() > base.size() && pointer.starts_with(base) && pointer[base.size()] == '/');
}

LoadResult load(std::string_view text, const std::string& file_name, const Variables& variables) {
  LoadResult result;
  YamlDocument document = read_yaml(text, with_overrides(variables, process_environment()));
  std::vector<Issue> issues;
  for (auto& issue : document.issues) issues.push_back({issue.pointer, issue.mark, issue.message});

  if (document.root) {
    Builder builder;
    builder.base_dir = std::filesystem::path(file_name).parent_path().string();
    Experiment experiment = builder.build(*document.root);
    // A value whose interpolation failed holds its raw text: do not also complain about that text.
    const std::size_t reading_issues = issues.size();
    for (auto& issue : builder.issues) {
      bool poisoned = false;
      for (std::size_t i = 0; i < reading_issues; ++i) {
        poisoned = poisoned || (!issues[i].pointer.empty() && at_or_under(issue.pointer, issues[i].pointer));
      }
      if (!poisoned) issues.push_back(std::move(issue));
    }
    // The schema is the contract for editors and other tools; what it finds that the loader already
    // explained (at the same place or inside it) is not repeated in the schema's words.
    if (!document.oversized_scalar) {
      for (auto& schema_issue : check_against_schema(*document.root)) {
        bool explained = false;
        for (const auto& issue : issues) explained = explained || at_or_under(issue.pointer, schema_issue.pointer);
        if (!explained) issues.push_back({schema_issue.pointer, schema_issue.mark, schema_issue.message});
      }
    }
    if (issues.empty()) {
      experiment.source_path = file_name;
      result.experiment = std::move(experiment);
    }
  }
  std::stable_sort(issues.begin(), issues.end(), [](const Issue& a, const Issue& b) {
    return std::tie(a.mark.line, a.mark.column) < std::tie(b.mark.line, b.mark.column);
  });
  for (auto& issue : issues) {
    Diagnostic diagnostic{file_name, issue.mark.line, issue.mark.column, printable(issue.message)};
    const bool repeated = !result.errors.empty() && result.errors.back().line == diagnostic.line &&
                          result.errors.back().column == diagnostic.column &&
                          result.errors.back().message == diagnostic.message;
    if (!repeated) result.errors.push_back(std::move(diagnostic));
  }
  if (!result.errors.empty()) result.experiment.reset();
  return result;
}

// std::regex (in valijson's patterns and for the file's own regexes) and deep YAML recurse per
// character or level; a large private stack keeps that from overflowing a small caller stack.
constexpr std::size_t kLoaderStackBytes = 64u << 20;

LoadResult on_large_stack(const std::function<LoadResult()>& work) {
  struct Job {
    const std::function<LoadResult()>& work;
    LoadResult result;
    std::exception_ptr error;
  } job{work, {}, nullptr};
  pthread_attr_t attributes;
  if (pthread_attr_init(&attributes) != 0) return work();
  pthread_attr_setstacksize(&attributes, kLoaderStackBytes);
  pthread_t thread;
  const int created = pthread_create(
      &thread, &attributes,
      [](void* raw) -> void* {
        auto* j = static_cast<Job*>(raw);
        try {
          j->result = j->work();
        } catch (...) {
          j->error = std::current_exception();
        }
        return nullptr;
      },
      &job);
  pthread_attr_destroy(&attributes);
  if (created != 0) return work();  // no thread to be had: the caller's stack will have to do
  pthread_join(thread, nullptr);
  if (job.error) std::rethrow_exception(job.error);
  return std::move(job.result);
}

}  // namespace

std::string Diagnostic::to_string() const {
  if (line <= 0) return file + ": " + message;
  if (column <= 0) return file + ":" + std::to_string(line) + ": " + message;
  return file + ":" + std::to_string(line) + ":" + std::to_string(column) + ": " + message;
}

LoadResult load_experiment_text(std::string_view yaml, const std::string& file_name, const Variables& variables) {
  try {
    return on_large_stack([&] { return load(yaml, file_name, variables); });
  } catch (const std::exception& e) {
    // A defect of ours, not of the file; still a message rather than a crash.
    LoadResult result;
    result.errors.push_back({file_name, 0, 0, std::string("internal error while loading the experiment: ") + e.what()});
    return result;
  }
}

LoadResult load_experiment_file(const std::string& path, const Variables& variables) {
  LoadResult result;
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) {
    result.errors.push_back({path, 0, 0, "is a directory, expected an experiment file (YAML)"});
    return result;
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    result.errors.push_back({path, 0, 0, std::string("cannot read the file: ") + std::strerror(errno)});
    return result;
  }
  std::string text;
  char buffer[64 * 1024];
  while (in.read(buffer, sizeof buffer) || in.gcount() > 0) {
    text.append(buffer, static_cast<std::size_t>(in.gcount()));
    if (text.size() > kMaxFileBytes) break;  // read_yaml reports the size
  }
  return load_experiment_text(text, path, variables);
}

}  // namespace chaosplus::spec
