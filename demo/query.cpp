#include "query.h"

#include <cctype>
#include <charconv>
#include <memory>

namespace chaosplus::demo {

namespace {

enum class Kind { word, number, text, symbol, param, end };

struct Token {
  Kind kind = Kind::end;
  std::string text;  // as written (a text literal without its quotes, '' unescaped)
};

bool is_word_start(char c) { return std::isalpha(static_cast<unsigned char>(c)) || c == '_'; }
bool is_word_char(char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; }

bool is_comparison(std::string_view op) {
  for (std::string_view known : {"=", "==", "!=", "<>", "<", "<=", ">", ">="}) {
    if (op == known) return true;
  }
  return false;
}

bool iequal(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(a[i])) != std::tolower(static_cast<unsigned char>(b[i]))) return false;
  }
  return true;
}

Result<std::vector<Token>> tokenize(std::string_view sql) {
  std::vector<Token> tokens;
  std::size_t i = 0;
  while (i < sql.size()) {
    const char c = sql[i];
    if (std::isspace(static_cast<unsigned char>(c))) {
      ++i;
    } else if (sql.substr(i, 2) == "--") {
      i = std::min(sql.find('\n', i), sql.size());
    } else if (c == '\'') {
      std::string text;
      std::size_t j = i + 1;
      bool closed = false;
      while (j < sql.size()) {
        if (sql[j] == '\'') {
          if (j + 1 < sql.size() && sql[j + 1] == '\'') {
            text += '\'';
            j += 2;
            continue;
          }
          closed = true;
          break;
        }
        text += sql[j++];
      }
      if (!closed) return Error{"unrecognized token: \"" + std::string(sql.substr(i)) + "\""};
      tokens.push_back({Kind::text, std::move(text)});
      i = j + 1;
    } else if (std::isdigit(static_cast<unsigned char>(c))) {
      std::size_t j = i;
      while (j < sql.size() && (std::isdigit(static_cast<unsigned char>(sql[j])) || sql[j] == '.')) ++j;
      tokens.push_back({Kind::number, std::string(sql.substr(i, j - i))});
      i = j;
    } else if (is_word_start(c)) {
      std::size_t j = i;
      while (j < sql.size() && is_word_char(sql[j])) ++j;
      tokens.push_back({Kind::word, std::string(sql.substr(i, j - i))});
      i = j;
    } else if (c == '?') {
      tokens.push_back({Kind::param, "?"});
      ++i;
    } else {
      const std::string_view two = sql.substr(i, 2);
      if (two == "!=" || two == "<>" || two == "<=" || two == ">=" || two == "==") {
        tokens.push_back({Kind::symbol, std::string(two)});
        i += 2;
      } else if (std::string_view("=<>()*;,").find(c) != std::string_view::npos) {
        tokens.push_back({Kind::symbol, std::string(1, c)});
        ++i;
      } else {
        return Error{"unrecognized token: \"" + std::string(1, c) + "\""};
      }
    }
  }
  tokens.push_back({Kind::end, ""});
  return tokens;
}

struct Node {
  enum class Type { literal, column, binary, negation } type = Type::literal;
  Value value;
  std::string name;  // column name, or the operator of a binary node (upper case)
  std::unique_ptr<Node> left, right;
};

using NodePtr = std::unique_ptr<Node>;

class Parser {
 public:
  Parser(std::vector<Token> tokens, const std::vector<Value>& params) : tokens_(std::move(tokens)), params_(params) {}

  Result<NodePtr> select(std::string_view table) {
    if (!keyword("SELECT") || !symbol("*") || !keyword("FROM")) return syntax_error();
    if (peek().kind != Kind::word) return syntax_error();
    if (!iequal(peek().text, table)) return Error{"no such table: " + peek().text};
    ++pos_;
    NodePtr where;
    if (keyword("WHERE")) {
      auto condition = expression();
      if (!condition) return condition;
      where = std::move(*condition);
    }
    symbol(";");
    if (peek().kind != Kind::end) return syntax_error();
    if (next_param_ != params_.size()) return Error{"bind or column index out of range"};
    if (!where) where = literal(Value{1LL});
    return where;
  }

 private:
  const Token& peek() const { return tokens_[pos_]; }
  bool keyword(std::string_view word) {
    if (peek().kind != Kind::word || !iequal(peek().text, word)) return false;
    ++pos_;
    return true;
  }
  bool symbol(std::string_view text) {
    if (peek().kind != Kind::symbol || peek().text != text) return false;
    ++pos_;
    return true;
  }
  Error syntax_error() const {
    if (peek().kind == Kind::end) return Error{"incomplete input"};
    const std::string shown = peek().kind == Kind::text ? "'" + peek().text + "'" : peek().text;
    return Error{"near \"" + shown + "\": syntax error"};
  }
  static NodePtr literal(Value value) {
    auto node = std::make_unique<Node>();
    node->value = std::move(value);
    return node;
  }
  static NodePtr binary(std::string op, NodePtr left, NodePtr right) {
    auto node = std::make_unique<Node>();
    node->type = Node::Type::binary;
    node->name = std::move(op);
    node->left = std::move(left);
    node->right = std::move(right);
    return node;
  }

  Result<NodePtr> expression() {  // or
    auto left = conjunction();
    if (!left) return left;
    NodePtr node = std::move(*left);
    while (keyword("OR")) {
      auto right = conjunction();
      if (!right) return right;
      node = binary("OR", std::move(node), std::move(*right));
    }
    return node;
  }

  Result<NodePtr> conjunction() {
    auto left = negation();
    if (!left) return left;
    NodePtr node = std::move(*left);
    while (keyword("AND")) {
      auto right = negation();
      if (!right) return right;
      node = binary("AND", std::move(node), std::move(*right));
    }
    return node;
  }

  Result<NodePtr> negation() {
    if (!keyword("NOT")) return comparison();
    auto inner = negation();
    if (!inner) return inner;
    auto node = std::make_unique<Node>();
    node->type = Node::Type::negation;
    node->left = std::move(*inner);
    return node;
  }

  Result<NodePtr> comparison() {
    auto left = primary();
    if (!left) return left;
    std::string op;
    if (keyword("LIKE")) {
      op = "LIKE";
    } else if (peek().kind == Kind::symbol && is_comparison(peek().text)) {
      op = peek().text == "==" ? "=" : peek().text == "<>" ? "!=" : peek().text;
      ++pos_;
    } else {
      return left;
    }
    auto right = primary();
    if (!right) return right;
    return binary(op, std::move(*left), std::move(*right));
  }

  Result<NodePtr> primary() {
    const Token token = peek();
    switch (token.kind) {
      case Kind::symbol:
        if (token.text != "(") return syntax_error();
        {
          ++pos_;
          auto inner = expression();
          if (!inner) return inner;
          if (!symbol(")")) return syntax_error();
          return inner;
        }
      case Kind::number: {
        const char* first = token.text.data();
        const char* last = first + token.text.size();
        long long n = 0;
        if (auto [ptr, ec] = std::from_chars(first, last, n); ec == std::errc() && ptr == last) {
          ++pos_;
          return literal(Value{n});
        }
        double d = 0;
        if (auto [ptr, ec] = std::from_chars(first, last, d); ec == std::errc() && ptr == last) {
          ++pos_;
          return literal(Value{d});
        }
        return syntax_error();  // "1.2.3", or beyond a double
      }
      case Kind::text: ++pos_; return literal(Value{token.text});
      case Kind::param:
        ++pos_;
        if (next_param_ >= params_.size()) return Error{"bind or column index out of range"};
        return literal(params_[next_param_++]);
      case Kind::word: {
        for (const char* reserved : {"SELECT", "FROM", "WHERE", "AND", "OR", "NOT", "LIKE"}) {
          if (iequal(token.text, reserved)) return syntax_error();
        }
        ++pos_;
        auto node = std::make_unique<Node>();
        node->type = Node::Type::column;
        node->name = token.text;
        return node;
      }
      case Kind::end: return syntax_error();
    }
    return syntax_error();
  }

  std::vector<Token> tokens_;
  const std::vector<Value>& params_;
  std::size_t pos_ = 0;
  std::size_t next_param_ = 0;
};

std::string as_text(const Value& v) {
  if (const auto* s = std::get_if<std::string>(&v)) return *s;
  if (const auto* n = std::get_if<long long>(&v)) return std::to_string(*n);
  std::string out(32, '\0');
  auto [ptr, ec] = std::to_chars(out.data(), out.data() + out.size(), std::get<double>(v));
  out.resize(ec == std::errc() ? static_cast<std::size_t>(ptr - out.data()) : 0);
  return out;
}

bool is_number(const Value& v) { return !std::holds_alternative<std::string>(v); }
double as_number(const Value& v) {
  if (const auto* n = std::get_if<long long>(&v)) return static_cast<double>(*n);
  if (const auto* d = std::get_if<double>(&v)) return *d;
  double d = 0;  // like SQLite: a text's leading number, else 0
  const auto& s = std::get<std::string>(v);
  std::from_chars(s.data(), s.data() + s.size(), d);
  return d;
}

bool truthy(const Value& v) { return as_number(v) != 0; }

// SQL LIKE: % any run, _ one character, ASCII letters compared case-insensitively.
bool like(std::string_view text, std::string_view pattern) {
  std::size_t t = 0, p = 0, star_p = std::string_view::npos, star_t = 0;
  while (t < text.size()) {
    if (p < pattern.size() && pattern[p] == '%') {
      star_p = p++;
      star_t = t;
    } else if (p < pattern.size() && (pattern[p] == '_' || std::tolower(static_cast<unsigned char>(pattern[p])) ==
                                                               std::tolower(static_cast<unsigned char>(text[t])))) {
      ++p;
      ++t;
    } else if (star_p != std::string_view::npos) {
      p = star_p + 1;
      t = ++star_t;
    } else {
      return false;
    }
  }
  while (p < pattern.size() && pattern[p] == '%') ++p;
  return p == pattern.size();
}

Result<Value> evaluate(const Node& node, const Row& row) {
  switch (node.type) {
    case Node::Type::literal: return node.value;
    case Node::Type::column: {
      auto it = row.find(node.name);
      if (it == row.end()) return Error{"no such column: " + node.name};
      return it->second;
    }
    case Node::Type::negation: {
      auto inner = evaluate(*node.left, row);
      if (!inner) return inner;
      return Value{truthy(*inner) ? 0LL : 1LL};
    }
    case Node::Type::binary: break;
  }
  auto left = evaluate(*node.left, row);
  if (!left) return left;
  auto right = evaluate(*node.right, row);
  if (!right) return right;
  const std::string& op = node.name;
  bool result = false;
  if (op == "OR") {
    result = truthy(*left) || truthy(*right);
  } else if (op == "AND") {
    result = truthy(*left) && truthy(*right);
  } else if (op == "LIKE") {
    result = like(as_text(*left), as_text(*right));
  } else {
    int order = 0;
    if (is_number(*left) && is_number(*right)) {
      const double a = as_number(*left), b = as_number(*right);
      order = a < b ? -1 : a > b ? 1 : 0;
    } else {
      order = as_text(*left).compare(as_text(*right));
      order = order < 0 ? -1 : order > 0 ? 1 : 0;
    }
    if (op == "=") result = order == 0;
    if (op == "!=") result = order != 0;
    if (op == "<") result = order < 0;
    if (op == "<=") result = order <= 0;
    if (op == ">") result = order > 0;
    if (op == ">=") result = order >= 0;
  }
  return Value{result ? 1LL : 0LL};
}

}  // namespace

Result<std::vector<std::size_t>> run_query(std::string_view sql, const std::vector<Value>& params,
                                           std::string_view table, const std::vector<Row>& rows) {
  auto tokens = tokenize(sql);
  if (!tokens) return tokens.failure();
  Parser parser(std::move(*tokens), params);
  auto where = parser.select(table);
  if (!where) return where.failure();
  std::vector<std::size_t> matches;
  for (std::size_t i = 0; i < rows.size(); ++i) {
    auto keep = evaluate(**where, rows[i]);
    if (!keep) return keep.failure();
    if (truthy(*keep)) matches.push_back(i);
  }
  return matches;
}

}  // namespace chaosplus::demo
