#include "openapi/document.h"

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>

#include "openapi/model.h"
#include "openapi/refs.h"
#include "openapi/source.h"

namespace chaosplus::openapi {

const ResponseSpec* Operation::response_for(int status) const {
  const std::string exact = std::to_string(status);
  const std::string range = exact.size() == 3 ? exact.substr(0, 1) + "XX" : "";
  const ResponseSpec* by_range = nullptr;
  const ResponseSpec* fallback = nullptr;
  for (const auto& response : responses) {
    if (response.status == exact) return &response;
    if (!range.empty() && response.status == range) by_range = &response;
    if (response.status == "default") fallback = &response;
  }
  return by_range != nullptr ? by_range : fallback;
}

bool Operation::needs_credentials() const {
  for (const auto& alternative : security) {
    if (!alternative.empty()) return true;
  }
  return false;
}

const Operation* Document::find(const std::string& operation_id) const {
  for (const auto& operation : operations) {
    if (operation.id == operation_id) return &operation;
  }
  return nullptr;
}

namespace {

Result<Document> read_document(const std::string& text, const std::string& file) {
  auto source = parse_source(text, file);
  if (!source.ok()) return source.failure();
  Workspace workspace(std::move(source).value());
  Document document = read_model(workspace);
  if (!workspace.errors().empty()) {
    std::string message;
    for (const auto& error : workspace.errors()) message += (message.empty() ? "" : "\n") + error;
    return Error{std::move(message), ErrorCode::invalid_argument};
  }
  return document;
}

}  // namespace

Result<Document> load_text(const std::string& text, const std::string& file) {
  // The readers check what they read; this is the net under them (a bug must not end the process
  // of a long chaos run that merely reads a document).
  try {
    return read_document(text, file);
  } catch (const std::exception& e) {
    return Error{file + ": could not be read (internal error: " + e.what() + ")", ErrorCode::internal};
  }
}
Result<Document> load(const std::string& path) {
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) {
    return Error{path + ": is a directory, expected an OpenAPI document (JSON or YAML)", ErrorCode::invalid_argument};
  }
  // Told before reading it all into memory.
  if (const auto size = std::filesystem::file_size(path, ec); !ec && size > kMaxFileBytes) {
    return Error{path + ": found a file of " + std::to_string(size) + " bytes, expected at most " +
                     std::to_string(kMaxFileBytes),
                 ErrorCode::invalid_argument};
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return Error{path + ": cannot read the OpenAPI document (" + std::strerror(errno) + ")", ErrorCode::not_found};
  }
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  return load_text(text, path);
}

}  // namespace chaosplus::openapi
