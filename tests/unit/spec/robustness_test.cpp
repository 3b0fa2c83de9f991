// The loader must answer every input with either an experiment or diagnostics: no exception, no crash,
// no "internal error". Mutations of a valid file stand in for a fuzzer; the seed is fixed and printed
// so a failure can be replayed.
#include <gtest/gtest.h>
#include <pthread.h>

#include <random>

#include "spec/loader.h"
#include "support/support.h"

namespace chaosplus::spec {
namespace {

void expect_answer(const std::string& text, const std::string& what) {
  LoadResult result;
  ASSERT_NO_THROW(result = load_experiment_text(text, "fuzz.yaml")) << what;
  EXPECT_NE(result.ok(), !result.errors.empty()) << what;
  if (!result.ok()) {
    EXPECT_FALSE(result.experiment) << what;
  }
  for (const auto& d : result.errors) {
    EXPECT_FALSE(d.message.empty()) << what;
    EXPECT_GE(d.line, 0) << what;
    EXPECT_EQ(d.message.find("internal error"), std::string::npos) << what << ": " << d.message;
  }
}

// Loads on a thread with a small stack, like a worker thread of a server might have.
LoadResult load_on_small_stack(const std::string& text) {
  struct Job {
    const std::string& text;
    LoadResult result;
  } job{text, {}};
  pthread_attr_t attributes;
  pthread_attr_init(&attributes);
  pthread_attr_setstacksize(&attributes, 256 * 1024);
  pthread_t thread;
  const int created = pthread_create(
      &thread, &attributes,
      [](void* raw) -> void* {
        auto* j = static_cast<Job*>(raw);
        j->result = load_experiment_text(j->text, "small-stack.yaml");
        return nullptr;
      },
      &job);
  pthread_attr_destroy(&attributes);
  EXPECT_EQ(created, 0);
  if (created == 0) pthread_join(thread, nullptr);
  return job.result;
}

std::string full_file() { return testing::read_file(testing::source_path("tests/data/experiments/valid/full.yaml")); }

TEST(Robustness, AnswersEveryTruncationOfAValidFile) {
  const std::string text = full_file();
  for (std::size_t length = 0; length < text.size(); length += 3) {
    expect_answer(text.substr(0, length), "truncated at " + std::to_string(length));
  }
}

TEST(Robustness, AnswersRandomByteMutations) {
  const std::string text = full_file();
  const unsigned seed = 20240611;
  std::mt19937 rng(seed);
  const std::string alphabet = ":-[]{},'\"#&*!|>%@`\t\n ${}0123456789abcxyz\\\x00\xff";
  for (int round = 0; round < 400; ++round) {
    std::string mutated = text;
    const int edits = 1 + static_cast<int>(rng() % 4);
    for (int e = 0; e < edits; ++e) {
      const std::size_t pos = rng() % mutated.size();
      const char c = alphabet[rng() % alphabet.size()];
      switch (rng() % 3) {
        case 0: mutated[pos] = c; break;
        case 1: mutated.insert(mutated.begin() + static_cast<std::ptrdiff_t>(pos), c); break;
        default: mutated.erase(pos, 1); break;
      }
    }
    expect_answer(mutated, "seed " + std::to_string(seed) + " round " + std::to_string(round));
  }
}

TEST(Robustness, AnswersLineDeletionsDuplicationsAndReindentation) {
  const auto lines = [] {
    std::vector<std::string> out;
    std::string text = full_file();
    std::size_t start = 0;
    while (start < text.size()) {
      std::size_t end = text.find('\n', start);
      if (end == std::string::npos) end = text.size();
      out.push_back(text.substr(start, end - start));
      start = end + 1;
    }
    return out;
  }();
  auto join = [](const std::vector<std::string>& ls) {
    std::string out;
    for (const auto& l : ls) out += l + "\n";
    return out;
  };
  for (std::size_t i = 0; i < lines.size(); ++i) {
    auto deleted = lines;
    deleted.erase(deleted.begin() + static_cast<std::ptrdiff_t>(i));
    expect_answer(join(deleted), "line " + std::to_string(i + 1) + " deleted");
    auto duplicated = lines;
    duplicated.insert(duplicated.begin() + static_cast<std::ptrdiff_t>(i), lines[i]);
    expect_answer(join(duplicated), "line " + std::to_string(i + 1) + " duplicated");
    auto indented = lines;
    indented[i] = "  " + indented[i];
    expect_answer(join(indented), "line " + std::to_string(i + 1) + " indented");
  }
}

TEST(Robustness, AnswersHostileInputs) {
  std::string nested_lists(5000, '[');
  std::string nested_maps;
  for (int i = 0; i < 3000; ++i) nested_maps += "{a: ";
  std::string bomb = "name: x\na: &a [x, x, x, x, x, x, x, x, x, x]\n";
  for (char c = 'b'; c <= 'j'; ++c) {
    bomb += std::string(1, c) + ": &" + c + " [";
    for (int i = 0; i < 10; ++i) bomb += std::string(i ? ", *" : "*") + static_cast<char>(c - 1);
    bomb += "]\n";
  }
  const std::vector<std::pair<std::string, std::string>> inputs{
      {"nested lists", nested_lists},
      {"nested maps", nested_maps},
      {"alias bomb", bomb},
      {"long name", "name: " + std::string(100000, 'a') + "\nphases: [{name: a, duration: 1s}]\n"},
      {"long key", std::string(100000, 'k') + ": 1\n"},
      {"long regex",
       "name: x\nsteady_state:\n  probes:\n    - {name: p, http: {url: 'http://127.0.0.1/'}, expect: {body_regex: '" +
           std::string(3000, '(') + "'}}\nphases: [{name: a, duration: 1s}]\n"},
      {"nul bytes", std::string("name: x\0y\nphases: []\n", 21)},
      {"invalid utf-8", "name: \xff\xfe\xc3\nphases: [{name: \xc3\x28, duration: 1s}]\n"},
      {"tabs", "name: x\nphases:\n\t- name: a\n"},
      {"only a scalar", "hello"},
      {"only a number", "42"},
      {"null document", "~"},
      {"document markers", "---\n...\n---\n"},
      {"huge duration", "name: x\nphases: [{name: a, duration: 99999999999999999999h}]\n"},
      {"huge at",
       "name: x\ntargets: {t: {process: {command: [x]}}}\nphases: [{name: a, duration: 1s, faults: [{kill: {target: t, "
       "at: 360d, for: 360d}}]}]\n"},
      {"huge integers",
       "name: x\ntargets: {t: {attach: {pid: 999999999999999999999999}}}\nphases: [{name: a, duration: 1s}]\n"},
      {"tags", "name: !!binary aGk=\nphases: !custom [1]\n"},
      {"merge keys", "name: x\nbase: &b {duration: 1s}\nphases: [{<<: *b, name: a}]\n"},
      {"interpolation garbage", "name: ${\nphases: ${A:-${B}}\n"},
      {"complex keys", "? {a: 1}\n: x\n? [1]\n: y\n"},
      {"empty keys", ": x\n\"\": y\n"},
      {"crlf", "name: x\r\nphases:\r\n  - name: a\r\n    duration: 1s\r\n"},
  };
  for (const auto& [what, text] : inputs) expect_answer(text, what);
}

// yaml-cpp stops at 2,000 levels with "bad file"; the user is told the limit and where it was passed.
TEST(Robustness, ReportsTheNestingLimitWhereItIsPassedHoweverDeepTheFile) {
  constexpr int kDeep = 100000;
  auto repeat = [](const std::string& part, int times) {
    std::string out;
    out.reserve(part.size() * static_cast<std::size_t>(times));
    for (int i = 0; i < times; ++i) out += part;
    return out;
  };
  std::string block_maps;  // 1,000 levels of indented maps (as deep as 1 MiB allows)
  for (int i = 0; i < 1000; ++i) block_maps += std::string(static_cast<std::size_t>(i), ' ') + "a:\n";
  struct Case {
    std::string what;
    std::string text;
    int line;
    int column;
  };
  // The first value deeper than 64 levels: the root is level 0. In a flow left open yaml-cpp reads
  // each '[' as a list holding a one-pair map (each could still turn out to be a key), two levels.
  const std::vector<Case> cases{
      {"closed flow lists", std::string(kDeep, '[') + std::string(kDeep, ']'), 1, 66},
      {"closed flow maps", repeat("{a: ", kDeep) + std::string(kDeep, '}'), 1, 261},
      {"flow lists under a key", "name: x\nphases: " + std::string(kDeep, '[') + std::string(kDeep, ']'), 2, 73},
      {"block lists on one line", repeat("- ", kDeep) + "x\n", 1, 131},
      {"block maps", block_maps, 66, 66},
      {"open flow lists", std::string(kDeep, '['), 1, 34},
      {"open flow maps", repeat("{a: ", kDeep), 1, 257},
      {"a million open flow lists", std::string(1000000, '['), 1, 34},
  };
  for (const auto& c : cases) {
    const LoadResult result = load_experiment_text(c.text, "deep.yaml");
    std::string got;
    int limits = 0;
    for (const auto& d : result.errors) {
      got += "\n  " + d.to_string();
      EXPECT_EQ(d.message.find("bad file"), std::string::npos) << c.what << ": " << d.to_string();
      if (d.message.find("nested more than 64 levels deep") == std::string::npos) continue;
      ++limits;
      EXPECT_EQ(d.line, c.line) << c.what << ": " << d.to_string();
      EXPECT_EQ(d.column, c.column) << c.what << ": " << d.to_string();
    }
    EXPECT_EQ(limits, 1) << c.what << ":" << got;
  }
  // And on a caller's small stack, as a server worker might load a file.
  const LoadResult small = load_on_small_stack(std::string(kDeep, '['));
  ASSERT_EQ(small.errors.size(), 1u);
  EXPECT_NE(small.errors[0].message.find("nested more than 64 levels deep"), std::string::npos);
}

TEST(Robustness, HandlesLongValuesInPatternCheckedFieldsOnASmallCallerStack) {
  std::string durations;
  for (int i = 0; i < 2000; ++i) durations += "1s";
  const std::vector<std::pair<std::string, std::string>> inputs{
      {"long name", "name: " + std::string(4000, 'a') + "\nphases: [{name: a, duration: 1s}]\n"},
      {"long duration", "name: x\nphases: [{name: a, duration: " + durations + "}]\n"},
      {"long url", "name: x\nsteady_state:\n  probes:\n    - {name: p, http: {url: \"http://127.0.0.1/" +
                       std::string(4000, 'a') + "\"}}\nphases: [{name: a, duration: 1s}]\n"},
      {"deep regex",
       "name: x\nsteady_state:\n  probes:\n    - {name: p, http: {url: \"http://127.0.0.1/\"}, expect: {body_regex: '" +
           std::string(500, '(') + "a" + std::string(500, ')') + "'}}\nphases: [{name: a, duration: 1s}]\n"},
  };
  for (const auto& [what, text] : inputs) {
    const LoadResult result = load_on_small_stack(text);
    EXPECT_NE(result.ok(), !result.errors.empty()) << what;
  }
}

}  // namespace
}  // namespace chaosplus::spec
