#include "fuzz/pattern.h"

#include <array>
#include <memory>
#include <string_view>
#include <vector>

namespace chaosplus::fuzz::pattern {
namespace {

using CharSet = std::array<bool, 128>;

struct Alternation;

struct Atom {
  enum class Kind { literal, set, group } kind = Kind::literal;
  std::string literal;  // bytes (one character, maybe multi-byte UTF-8)
  CharSet set{};        // for `set`: the ASCII characters allowed
  std::shared_ptr<Alternation> group;
};

struct Piece {
  Atom atom;
  std::size_t min = 1;
  std::optional<std::size_t> max = 1;  // nullopt: unbounded
};

struct Alternation {
  std::vector<std::vector<Piece>> branches;
};

void add_range(CharSet& set, int from, int to) {
  for (int c = from; c <= to && c < 128; ++c) set[static_cast<std::size_t>(c)] = true;
}

CharSet class_set(char letter) {
  CharSet set{};
  switch (letter) {
    case 'd': add_range(set, '0', '9'); break;
    case 'w':
      add_range(set, '0', '9');
      add_range(set, 'a', 'z');
      add_range(set, 'A', 'Z');
      set['_'] = true;
      break;
    case 's':
      set[' '] = true;
      set['\t'] = true;
      set['\n'] = true;
      set['\r'] = true;
      set['\f'] = true;
      set['\v'] = true;
      break;
  }
  return set;
}

// Printable ASCII only: what a negated class or '.' gives (no control characters in valid values).
CharSet complement(const CharSet& set) {
  CharSet out{};
  for (int c = 0x20; c < 0x7F; ++c) out[static_cast<std::size_t>(c)] = !set[static_cast<std::size_t>(c)];
  return out;
}

class Parser {
 public:
  explicit Parser(std::string_view text) : text_(text) {}

  std::optional<Alternation> parse() {
    auto out = alternation();
    if (!out || pos_ != text_.size()) return std::nullopt;
    return out;
  }

 private:
  bool at_end() const { return pos_ >= text_.size(); }
  char peek() const { return text_[pos_]; }

  std::optional<Alternation> alternation() {
    Alternation alt;
    alt.branches.emplace_back();
    while (!at_end() && peek() != ')') {
      if (peek() == '|') {
        ++pos_;
        alt.branches.emplace_back();
        continue;
      }
      if (peek() == '^' || peek() == '$') {  // anchors: the generated string is the whole match
        ++pos_;
        continue;
      }
      auto atom_value = atom();
      if (!atom_value) return std::nullopt;
      Piece piece{std::move(*atom_value)};
      if (!quantifier(piece)) return std::nullopt;
      alt.branches.back().push_back(std::move(piece));
    }
    return alt;
  }

  bool quantifier(Piece& piece) {
    if (at_end()) return true;
    const char c = peek();
    if (c == '*' || c == '+' || c == '?') {
      ++pos_;
      piece.min = c == '+' ? 1 : 0;
      piece.max = c == '?' ? std::optional<std::size_t>(1) : std::nullopt;
    } else if (c == '{') {
      const std::size_t close = text_.find('}', pos_);
      if (close == std::string_view::npos) return true;  // a literal '{' follows as its own atom
      const std::string_view inside = text_.substr(pos_ + 1, close - pos_ - 1);
      const std::size_t comma = inside.find(',');
      auto number = [](std::string_view digits) -> std::optional<std::size_t> {
        if (digits.empty() || digits.size() > 6) return std::nullopt;
        std::size_t v = 0;
        for (char d : digits) {
          if (d < '0' || d > '9') return std::nullopt;
          v = v * 10 + static_cast<std::size_t>(d - '0');
        }
        return v;
      };
      auto low = number(inside.substr(0, comma));
      if (!low) return true;
      piece.min = *low;
      if (comma == std::string_view::npos) {
        piece.max = *low;
      } else if (comma + 1 == inside.size()) {
        piece.max = std::nullopt;
      } else {
        auto high = number(inside.substr(comma + 1));
        if (!high || *high < *low) return false;
        piece.max = *high;
      }
      pos_ = close + 1;
    } else {
      return true;
    }
    if (!at_end() && (peek() == '?' || peek() == '+')) ++pos_;  // lazy / possessive: same strings
    return true;
  }

  std::optional<Atom> atom() {
    const char c = peek();
    Atom atom;
    if (c == '(') {
      ++pos_;
      if (text_.substr(pos_, 2) == "?:") {
        pos_ += 2;
      } else if (text_.substr(pos_, 2) == "?<" && pos_ + 2 < text_.size() && text_[pos_ + 2] != '=' &&
                 text_[pos_ + 2] != '!') {
        const std::size_t close = text_.find('>', pos_);
        if (close == std::string_view::npos) return std::nullopt;
        pos_ = close + 1;
      } else if (!at_end() && peek() == '?') {
        return std::nullopt;  // lookaround
      }
      auto inner = alternation();
      if (!inner || at_end() || peek() != ')') return std::nullopt;
      ++pos_;
      atom.kind = Atom::Kind::group;
      atom.group = std::make_shared<Alternation>(std::move(*inner));
      return atom;
    }
    if (c == '[') return char_class();
    if (c == '.') {
      ++pos_;
      atom.kind = Atom::Kind::set;
      CharSet newline{};
      newline['\n'] = true;
      newline['\r'] = true;
      atom.set = complement(newline);
      return atom;
    }
    if (c == '*' || c == '+' || c == '?' || c == ')') return std::nullopt;
    if (c == '\\') return escape(false);
    atom.literal = utf8_char();
    return atom;
  }

  std::string utf8_char() {
    std::size_t length = 1;
    const auto lead = static_cast<unsigned char>(peek());
    if (lead >= 0xF0) length = 4;
    else if (lead >= 0xE0) length = 3;
    else if (lead >= 0xC0) length = 2;
    std::string out(text_.substr(pos_, length));
    pos_ += out.size();
    return out;
  }

  // After a backslash; in a class, only single characters and \d \w \s make sense.
  std::optional<Atom> escape(bool in_class) {
    ++pos_;
    if (at_end()) return std::nullopt;
    const char c = text_[pos_++];
    Atom atom;
    switch (c) {
      case 'd':
      case 'w':
      case 's':
        atom.kind = Atom::Kind::set;
        atom.set = class_set(c);
        return atom;
      case 'D':
      case 'W':
      case 'S':
        atom.kind = Atom::Kind::set;
        atom.set = complement(class_set(static_cast<char>(c - 'A' + 'a')));
        return atom;
      case 't': atom.literal = "\t"; return atom;
      case 'n': atom.literal = "\n"; return atom;
      case 'r': atom.literal = "\r"; return atom;
      case 'f': atom.literal = "\f"; return atom;
      case 'v': atom.literal = "\v"; return atom;
      case 'x':
      case 'u': {
        const std::size_t digits = c == 'x' ? 2 : 4;
        if (pos_ + digits > text_.size()) return std::nullopt;
        unsigned value = 0;
        for (std::size_t i = 0; i < digits; ++i) {
          const char h = text_[pos_ + i];
          value <<= 4;
          if (h >= '0' && h <= '9') value |= static_cast<unsigned>(h - '0');
          else if (h >= 'a' && h <= 'f') value |= static_cast<unsigned>(h - 'a' + 10);
          else if (h >= 'A' && h <= 'F') value |= static_cast<unsigned>(h - 'A' + 10);
          else return std::nullopt;
        }
        pos_ += digits;
        if (value >= 0x80) return std::nullopt;  // non-ASCII escapes: not in this subset
        atom.literal = std::string(1, static_cast<char>(value));
        return atom;
      }
      case 'b':
      case 'B':
        if (in_class) return std::nullopt;
        atom.literal = "";  // word boundary: zero-width; the generated words usually sit at one
        return atom;
      case 'p':
      case 'P':
      case 'k': return std::nullopt;
      default:
        if (c >= '1' && c <= '9') return std::nullopt;  // backreference
        atom.literal = std::string(1, c);
        return atom;
    }
  }

  std::optional<Atom> char_class() {
    ++pos_;  // '['
    bool negated = false;
    if (!at_end() && peek() == '^') {
      negated = true;
      ++pos_;
    }
    CharSet set{};
    while (!at_end() && peek() != ']') {
      int low = 0;
      if (peek() == '\\') {
        auto escaped = escape(true);
        if (!escaped) return std::nullopt;
        if (escaped->kind == Atom::Kind::set) {
          for (std::size_t i = 0; i < 128; ++i) set[i] = set[i] || escaped->set[i];
          continue;
        }
        if (escaped->literal.size() != 1) return std::nullopt;
        low = static_cast<unsigned char>(escaped->literal[0]);
      } else {
        low = static_cast<unsigned char>(text_[pos_++]);
      }
      if (low >= 128) return std::nullopt;
      int high = low;
      if (pos_ + 1 < text_.size() && peek() == '-' && text_[pos_ + 1] != ']') {
        ++pos_;
        if (peek() == '\\') {
          auto escaped = escape(true);
          if (!escaped || escaped->literal.size() != 1) return std::nullopt;
          high = static_cast<unsigned char>(escaped->literal[0]);
        } else {
          high = static_cast<unsigned char>(text_[pos_++]);
        }
        if (high >= 128 || high < low) return std::nullopt;
      }
      add_range(set, low, high);
    }
    if (at_end()) return std::nullopt;
    ++pos_;  // ']'
    Atom atom;
    atom.kind = Atom::Kind::set;
    atom.set = negated ? complement(set) : set;
    return atom;
  }

  std::string_view text_;
  std::size_t pos_ = 0;
};

bool emit(const Alternation& alt, Rng& rng, std::size_t extra, std::string& out, int depth);

bool emit_atom(const Atom& atom, Rng& rng, std::size_t extra, std::string& out, int depth) {
  switch (atom.kind) {
    case Atom::Kind::literal: out += atom.literal; return true;
    case Atom::Kind::group: return emit(*atom.group, rng, extra, out, depth + 1);
    case Atom::Kind::set: {
      std::vector<char> choices;
      for (std::size_t c = 0; c < 128; ++c)
        if (atom.set[c]) choices.push_back(static_cast<char>(c));
      if (choices.empty()) return false;
      out += choices[rng.below(choices.size())];
      return true;
    }
  }
  return false;
}

bool emit(const Alternation& alt, Rng& rng, std::size_t extra, std::string& out, int depth) {
  if (depth > 32 || out.size() > 4096) return false;
  const auto& branch = alt.branches[rng.below(alt.branches.size())];
  for (const auto& piece : branch) {
    const std::size_t high = piece.max ? *piece.max : piece.min + extra;
    const auto count = piece.min + rng.below(high - piece.min + 1);
    for (std::size_t i = 0; i < count; ++i)
      if (!emit_atom(piece.atom, rng, extra, out, depth)) return false;
  }
  return true;
}

}  // namespace

std::optional<std::string> generate(const std::string& pattern, Rng& rng, std::size_t extra_repeat) {
  auto parsed = Parser(pattern).parse();
  if (!parsed) return std::nullopt;
  std::string out;
  if (!emit(*parsed, rng, extra_repeat, out, 0)) return std::nullopt;
  return out;
}

}  // namespace chaosplus::fuzz::pattern
