#include "openapi/model.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <tuple>

namespace chaosplus::openapi {
namespace {

constexpr std::array<const char*, 8> kMethods = {"get", "put", "post", "delete", "options", "head", "patch", "trace"};

std::string upper(std::string text) {
  for (char& c : text) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return text;
}

std::string lower(std::string text) {
  for (char& c : text) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return text;
}

std::optional<ParameterIn> parameter_in(const std::string& text) {
  if (text == "path") return ParameterIn::path;
  if (text == "query") return ParameterIn::query;
  if (text == "header") return ParameterIn::header;
  if (text == "cookie") return ParameterIn::cookie;
  return std::nullopt;
}

bool valid_status_key(const std::string& key) {
  if (key == "default") return true;
  if (key.size() != 3 || key[0] < '1' || key[0] > '5') return false;
  const bool digits =
      std::isdigit(static_cast<unsigned char>(key[1])) && std::isdigit(static_cast<unsigned char>(key[2]));
  const bool range = (key[1] == 'X' || key[1] == 'x') && (key[2] == 'X' || key[2] == 'x');
  return digits || range;
}

class ModelReader {
 public:
  explicit ModelReader(Workspace& workspace) : ws_(workspace) {}

  Document read() {
    Document doc;
    const Node root = ws_.root();
    doc.file = root.file->path;
    if (!root.value->is_object()) {
      ws_.error(root, "found " + describe(*root.value) + ", expected an OpenAPI document (an object with 'openapi')");
      return doc;
    }
    if (!check_version(root, doc)) return doc;
    if (auto info = object_at(root.at("info"), false)) {
      if (auto title = info->at("title"); title.value && title.value->is_string()) doc.title = *title.value;
    }
    read_servers(root, doc);
    read_security_schemes(root, doc);
    top_security_ = read_security(root.at("security"), doc);
    read_paths(root, doc);
    resolve_link_refs(doc);
    check_unique_ids(doc);
    return doc;
  }

 private:
  // ---- small readers ---------------------------------------------------------------------------

  // The object at `node` after following references; empty (with an error) when it is something
  // else, and empty (silently) when absent and not required.
  std::optional<Node> object_at(const Node& node, bool required, const std::string& what = "an object") {
    if (node.value == nullptr) {
      if (required) ws_.error(node, "missing, expected " + what);
      return std::nullopt;
    }
    auto target = ws_.deref(node);
    if (!target) return std::nullopt;
    if (!target->value->is_object()) {
      ws_.error(*target, "found " + describe(*target->value) + ", expected " + what);
      return std::nullopt;
    }
    return target;
  }

  std::optional<std::string> text_at(const Node& node, bool required, const std::string& what = "text") {
    if (node.value == nullptr) {
      if (required) ws_.error(node, "missing, expected " + what);
      return std::nullopt;
    }
    if (!node.value->is_string()) {
      ws_.error(node, "found " + describe(*node.value) + ", expected " + what);
      return std::nullopt;
    }
    return node.value->get<std::string>();
  }

  std::optional<bool> bool_at(const Node& node) {
    if (node.value == nullptr) return std::nullopt;
    if (!node.value->is_boolean()) {
      ws_.error(node, "found " + describe(*node.value) + ", expected true or false");
      return std::nullopt;
    }
    return node.value->get<bool>();
  }

  // The keys of an object in the order the file gives them (nlohmann keeps them sorted).
  static std::vector<std::string> keys_in_order(const Node& node) {
    std::vector<std::pair<std::tuple<int, int, std::size_t>, std::string>> keyed;
    std::size_t index = 0;
    for (auto it = node.value->begin(); it != node.value->end(); ++it, ++index) {
      const Mark mark = node.file->mark_of(node.pointer + "/" + pointer_segment(it.key()));
      keyed.push_back({{mark.line, mark.column, index}, it.key()});
    }
    std::sort(keyed.begin(), keyed.end());
    std::vector<std::string> keys;
    keys.reserve(keyed.size());
    for (auto& [order, key] : keyed) keys.push_back(std::move(key));
    return keys;
  }

  // ---- document level --------------------------------------------------------------------------

  bool check_version(const Node& root, Document& doc) {
    const Node version = root.at("openapi");
    if (version.value == nullptr) {
      if (root.value->contains("swagger")) {
        ws_.error(root.at("swagger"),
                  "Swagger 2.0 is not supported, convert to OpenAPI 3 (for example with swagger2openapi) first");
      } else {
        ws_.error(root, "missing 'openapi', expected an OpenAPI 3.0 or 3.1 document ('openapi: 3.0.3')");
      }
      return false;
    }
    // YAML reads `openapi: 3.0` as a number; its text is what was meant.
    std::string text = version.value->is_string() ? version.value->get<std::string>() : version.value->dump();
    if (!text.starts_with("3.")) {
      ws_.error(version, "found " + describe(*version.value) + ", expected an OpenAPI version 3.0.x or 3.1.x");
      return false;
    }
    doc.openapi_version = std::move(text);
    return true;
  }

  void read_servers(const Node& root, Document& doc) {
    const Node servers = root.at("servers");
    if (servers.value == nullptr) return;
    if (!servers.value->is_array()) {
      ws_.error(servers, "found " + describe(*servers.value) + ", expected a list of servers");
      return;
    }
    for (std::size_t i = 0; i < servers.value->size(); ++i) {
      if (auto server = object_at(servers.at(i), true, "a server (an object with 'url')")) {
        if (auto url = text_at(server->at("url"), true, "the server's URL")) doc.servers.push_back(*url);
      }
    }
  }

  void read_security_schemes(const Node& root, Document& doc) {
    auto components = object_at(root.at("components"), false);
    if (!components) return;
    auto schemes = object_at(components->at("securitySchemes"), false, "a map of security schemes");
    if (!schemes) return;
    for (const auto& name : keys_in_order(*schemes)) {
      auto node = object_at(schemes->at(name), true, "a security scheme (an object with 'type')");
      if (!node) continue;
      SecurityScheme scheme;
      scheme.name = name;
      auto type =
          text_at(node->at("type"), true, "the scheme's type: http, apiKey, oauth2, openIdConnect or mutualTLS");
      if (!type) continue;
      scheme.type = *type;
      if (scheme.type == "http") {
        if (auto kind = text_at(node->at("scheme"), true, "the HTTP scheme ('bearer', 'basic')")) {
          scheme.scheme = lower(*kind);  // RFC 7235: auth schemes are case-insensitive
        }
      } else if (scheme.type == "apiKey") {
        if (auto param = text_at(node->at("name"), true, "the name of the header, query parameter or cookie")) {
          scheme.param_name = *param;
        }
        if (auto in = text_at(node->at("in"), true, "header, query or cookie")) {
          auto where_in = parameter_in(*in);
          if (!where_in || *where_in == ParameterIn::path) {
            ws_.error(node->at("in"), "found '" + *in + "', expected header, query or cookie");
          } else {
            scheme.in = *where_in;
          }
        }
      } else if (scheme.type != "oauth2" && scheme.type != "openIdConnect" && scheme.type != "mutualTLS") {
        ws_.error(node->at("type"),
                  "found '" + scheme.type + "', expected http, apiKey, oauth2, openIdConnect or mutualTLS");
        continue;
      }
      doc.security_schemes[name] = std::move(scheme);
    }
  }

  // `security`: a list of requirement objects, each naming schemes (with scopes). Empty optional
  // when absent.
  std::optional<std::vector<std::vector<std::string>>> read_security(const Node& node, const Document& doc) {
    if (node.value == nullptr) return std::nullopt;
    if (!node.value->is_array()) {
      ws_.error(node, "found " + describe(*node.value) + ", expected a list of security requirements");
      return std::nullopt;
    }
    std::vector<std::vector<std::string>> out;
    for (std::size_t i = 0; i < node.value->size(); ++i) {
      const Node requirement = node.at(i);
      if (!requirement.value->is_object()) {
        ws_.error(requirement, "found " + describe(*requirement.value) +
                                   ", expected a security requirement (scheme names to lists of scopes)");
        continue;
      }
      std::vector<std::string> names;
      for (auto it = requirement.value->begin(); it != requirement.value->end(); ++it) {
        if (!doc.security_schemes.contains(it.key())) {
          ws_.error(requirement.at(it.key()), "names the security scheme '" + it.key() +
                                                  "', expected one that components.securitySchemes defines");
        }
        names.push_back(it.key());
      }
      out.push_back(std::move(names));
    }
    return out;
  }

  // ---- paths and operations --------------------------------------------------------------------

  void read_paths(const Node& root, Document& doc) {
    const Node paths = root.at("paths");
    if (paths.value == nullptr) {
      // 3.1 allows a document of webhooks or components only; 3.0 requires paths.
      if (doc.openapi_version.starts_with("3.0")) ws_.error(root, "missing 'paths', expected the API's paths");
      return;
    }
    if (!paths.value->is_object()) {
      ws_.error(paths, "found " + describe(*paths.value) + ", expected a map of paths to path items");
      return;
    }
    for (const auto& path : keys_in_order(paths)) {
      if (path.starts_with("x-")) continue;
      if (!path.starts_with("/")) {
        ws_.error(paths.at(path), "the path '" + path + "' does not start with '/', expected '/" + path + "'");
        continue;
      }
      auto item = object_at(paths.at(path), true, "a path item (an object of operations)");
      if (!item) continue;
      read_path_item(*item, path, doc);
    }
  }

  void read_path_item(const Node& item, const std::string& path, Document& doc) {
    const std::vector<Parameter> shared = read_parameters(item.at("parameters"));
    for (const char* method : kMethods) {
      const Node node = item.at(method);
      if (node.value == nullptr) continue;
      if (!node.value->is_object()) {
        ws_.error(node, "found " + describe(*node.value) + ", expected an operation (an object with 'responses')");
        continue;
      }
      read_operation(node, method, path, shared, doc);
    }
  }

  void read_operation(const Node& node, const std::string& method, const std::string& path,
                      const std::vector<Parameter>& shared, Document& doc) {
    Operation op;
    operation_index_ = doc.operations.size();
    op.method = upper(method);
    op.path = path;
    op.where = ws_.location(node);
    if (auto id = text_at(node.at("operationId"), false, "the operation's id")) op.id = *id;
    if (op.id.empty()) op.id = op.method + " " + path;
    if (const Node tags = node.at("tags"); tags.value && tags.value->is_array()) {
      for (const auto& tag : *tags.value) {
        if (tag.is_string()) op.tags.push_back(tag.get<std::string>());
      }
    }
    // Path-level parameters first; the operation's own replace those with the same name and place.
    op.parameters = shared;
    for (auto& param : read_parameters(node.at("parameters"))) {
      auto same = std::find_if(op.parameters.begin(), op.parameters.end(),
                               [&](const Parameter& p) { return p.name == param.name && p.in == param.in; });
      if (same != op.parameters.end()) *same = std::move(param);
      else op.parameters.push_back(std::move(param));
    }
    add_template_parameters(op);
    if (node.value->contains("requestBody")) op.body = read_body(node.at("requestBody"));
    read_responses(node.at("responses"), op);
    if (auto security = read_security(node.at("security"), doc)) {
      op.security = std::move(*security);
      op.security_declared = true;
    } else if (top_security_) {
      op.security = *top_security_;
      op.security_declared = true;
    }
    doc.operations.push_back(std::move(op));
  }

  // A "{name}" of the path template that no parameter declares: an incomplete document, but the
  // request cannot be sent without a value, so it is a required text parameter.
  static void add_template_parameters(Operation& op) {
    for (std::size_t open = op.path.find('{'); open != std::string::npos; open = op.path.find('{', open + 1)) {
      const std::size_t close = op.path.find('}', open);
      if (close == std::string::npos) break;
      const std::string name = op.path.substr(open + 1, close - open - 1);
      const bool declared = std::any_of(op.parameters.begin(), op.parameters.end(), [&](const Parameter& p) {
        return p.in == ParameterIn::path && p.name == name;
      });
      if (declared || name.empty()) continue;
      Parameter param;
      param.name = name;
      param.in = ParameterIn::path;
      param.required = true;
      param.schema = Json{{"type", "string"}};
      param.style = "simple";
      op.parameters.push_back(std::move(param));
    }
  }

  std::vector<Parameter> read_parameters(const Node& list) {
    std::vector<Parameter> out;
    if (list.value == nullptr) return out;
    if (!list.value->is_array()) {
      ws_.error(list, "found " + describe(*list.value) + ", expected a list of parameters");
      return out;
    }
    for (std::size_t i = 0; i < list.value->size(); ++i) {
      auto node = object_at(list.at(i), true, "a parameter (an object with 'name' and 'in')");
      if (!node) continue;
      auto param = read_parameter(*node);
      if (!param) continue;
      // OpenAPI: header parameters named Accept, Content-Type or Authorization are ignored (the
      // media types and security schemes say those).
      const std::string name = lower(param->name);
      if (param->in == ParameterIn::header && (name == "accept" || name == "content-type" || name == "authorization")) {
        continue;
      }
      out.push_back(std::move(*param));
    }
    return out;
  }

  std::optional<Parameter> read_parameter(const Node& node) {
    Parameter param;
    auto name = text_at(node.at("name"), true, "the parameter's name");
    auto in_text = text_at(node.at("in"), true, "where the parameter goes: path, query, header or cookie");
    if (!name || !in_text) return std::nullopt;
    auto in = parameter_in(*in_text);
    if (!in) {
      ws_.error(node.at("in"), "found '" + *in_text + "', expected path, query, header or cookie");
      return std::nullopt;
    }
    param.name = *name;
    param.in = *in;
    param.required = param.in == ParameterIn::path || bool_at(node.at("required")).value_or(false);
    const bool form = param.in == ParameterIn::query || param.in == ParameterIn::cookie;
    param.style = text_at(node.at("style"), false, "a style").value_or(form ? "form" : "simple");
    param.explode = bool_at(node.at("explode")).value_or(param.style == "form");
    if (const Node schema = node.at("schema"); schema.value != nullptr) {
      param.schema = ws_.schema(schema);
    } else if (auto content = object_at(node.at("content"), false, "a map of one media type to its schema")) {
      // A parameter given by `content` (a JSON value in a query, say): its one media type's schema.
      for (const auto& media : keys_in_order(*content)) {
        if (auto entry = object_at(content->at(media), true, "a media type object")) {
          if (const Node inner = entry->at("schema"); inner.value != nullptr) param.schema = ws_.schema(inner);
          gather_examples(*entry, param.examples);
        }
        break;
      }
    }
    gather_examples(node, param.examples);
    schema_examples(param.schema, param.examples);
    return param;
  }

  // `example` and the values of `examples` (each an Example object, possibly a reference).
  void gather_examples(const Node& node, std::vector<Json>& out) {
    if (const Node example = node.at("example"); example.value != nullptr) out.push_back(*example.value);
    const Node examples = node.at("examples");
    if (examples.value == nullptr) return;
    if (!examples.value->is_object()) {
      ws_.error(examples, "found " + describe(*examples.value) + ", expected a map of names to Example objects");
      return;
    }
    for (const auto& name : keys_in_order(examples)) {
      auto entry = object_at(examples.at(name), true, "an Example object (with 'value')");
      if (!entry) continue;
      if (const Node value = entry->at("value"); value.value != nullptr) out.push_back(*value.value);
    }
  }

  static void schema_examples(const Json& schema, std::vector<Json>& out) {
    if (!schema.is_object()) return;
    if (auto example = schema.find("example"); example != schema.end()) out.push_back(*example);
    if (auto examples = schema.find("examples"); examples != schema.end() && examples->is_array()) {
      for (const auto& value : *examples) out.push_back(value);
    }
  }

  std::vector<Media> read_content(const Node& node) {
    std::vector<Media> out;
    auto content = object_at(node, false, "a map of media types");
    if (!content) return out;
    for (const auto& type : keys_in_order(*content)) {
      auto entry = object_at(content->at(type), true, "a media type object");
      if (!entry) continue;
      Media media;
      media.content_type = type;
      if (const Node schema = entry->at("schema"); schema.value != nullptr) media.schema = ws_.schema(schema);
      gather_examples(*entry, media.examples);
      schema_examples(media.schema, media.examples);
      out.push_back(std::move(media));
    }
    return out;
  }

  std::optional<RequestBody> read_body(const Node& at) {
    auto node = object_at(at, true, "a request body (an object with 'content')");
    if (!node) return std::nullopt;
    RequestBody body;
    body.required = bool_at(node->at("required")).value_or(false);
    if (node->at("content").value == nullptr) ws_.error(*node, "missing 'content', expected the body's media types");
    body.content = read_content(node->at("content"));
    return body;
  }

  void read_responses(const Node& at, Operation& op) {
    auto responses = object_at(at, false, "a map of status codes to responses");
    if (!responses) return;
    for (const auto& status : keys_in_order(*responses)) {
      if (status.starts_with("x-")) continue;
      const Node entry = responses->at(status);
      if (!valid_status_key(status)) {
        ws_.error(entry,
                  "found the status '" + status + "', expected a code such as 200, a range such as 4XX, or default");
        continue;
      }
      auto node = object_at(entry, true, "a response (an object with 'description')");
      if (!node) continue;
      ResponseSpec response;
      response.status = upper(status) == "DEFAULT" ? "default" : upper(status);
      response.content = read_content(node->at("content"));
      if (auto headers = object_at(node->at("headers"), false, "a map of header names to headers")) {
        for (const auto& name : keys_in_order(*headers)) {
          auto header = object_at(headers->at(name), true, "a header object");
          if (!header) continue;
          Json schema = Json::object();
          if (const Node s = header->at("schema"); s.value != nullptr) schema = ws_.schema(s);
          response.headers[name] = std::move(schema);
        }
      }
      if (auto links = object_at(node->at("links"), false, "a map of link names to links")) {
        for (const auto& name : keys_in_order(*links)) {
          response_index_ = op.responses.size();
          link_index_ = response.links.size();
          if (auto link = read_link(links->at(name), name)) response.links.push_back(std::move(*link));
        }
      }
      op.responses.push_back(std::move(response));
    }
  }

  static std::string expression_text(const Json& value) {
    return value.is_string() ? value.get<std::string>() : value.dump();
  }

  std::optional<Link> read_link(const Node& at, const std::string& name) {
    auto node = object_at(at, true, "a link object (with 'operationId' or 'operationRef')");
    if (!node) return std::nullopt;
    Link link;
    link.name = name;
    if (auto id = text_at(node->at("operationId"), false, "the linked operation's id")) {
      link.operation_id = *id;
    } else if (auto ref = text_at(node->at("operationRef"), false, "a reference to the linked operation")) {
      // Resolved once every operation is known: remember where it was.
      pending_refs_.push_back({node->at("operationRef"), *ref, operation_index_, response_index_, link_index_});
    } else {
      ws_.error(*node, "missing 'operationId' or 'operationRef', expected the operation the link leads to");
      return std::nullopt;
    }
    if (auto params = object_at(node->at("parameters"), false, "a map of parameter names to expressions")) {
      for (auto it = params->value->begin(); it != params->value->end(); ++it) {
        link.parameters[it.key()] = expression_text(*it);
      }
    }
    if (const Node body = node->at("requestBody"); body.value != nullptr)
      link.request_body = expression_text(*body.value);
    return link;
  }

  // operationRef "#/paths/~1users~1{id}/get" (or "file#/paths/...") -> that operation's id.
  void resolve_link_refs(Document& doc) {
    for (const auto& pending : pending_refs_) {
      const Json holder_value = Json{{"$ref", pending.ref}};
      const Node holder{pending.at.file, pending.at.pointer.substr(0, pending.at.pointer.rfind('/')), &holder_value};
      auto target = ws_.deref(holder);
      if (!target) continue;
      auto op = std::find_if(doc.operations.begin(), doc.operations.end(), [&](const Operation& candidate) {
        return candidate.where.file == target->file->path && candidate.where.pointer == target->pointer;
      });
      if (op == doc.operations.end()) {
        ws_.error(pending.at, "'" + pending.ref + "' does not name an operation, expected '#/paths/<path>/<method>'");
        continue;
      }
      doc.operations[pending.operation].responses[pending.response].links[pending.link].operation_id = op->id;
    }
  }

  void check_unique_ids(const Document& doc) {
    std::map<std::string, const Operation*> seen;
    for (const auto& op : doc.operations) {
      auto [at, fresh] = seen.emplace(op.id, &op);
      if (!fresh) {
        ws_.error(*ws_.root().file, op.where.pointer + "/operationId",
                  "the operationId '" + op.id + "' is also used at " + at->second->where.pointer +
                      ", expected each operation to have its own");
      }
    }
  }

  // A link's operationRef, resolved once every operation is known; the indices find the link.
  struct PendingRef {
    Node at;
    std::string ref;
    std::size_t operation = 0;
    std::size_t response = 0;
    std::size_t link = 0;
  };

  Workspace& ws_;
  std::optional<std::vector<std::vector<std::string>>> top_security_;
  std::vector<PendingRef> pending_refs_;
  std::size_t operation_index_ = 0;  // where the link being read will be
  std::size_t response_index_ = 0;
  std::size_t link_index_ = 0;
};

}  // namespace

Document read_model(Workspace& workspace) { return ModelReader(workspace).read(); }

}  // namespace chaosplus::openapi
