#include "store/location.h"

#include <yaml-cpp/yaml.h>

#include <cstdlib>
#include <filesystem>

#include "store/store.h"

namespace chaosplus::store {
namespace {

std::string env(const char* name) {
  const char* value = std::getenv(name);
  return value == nullptr ? std::string() : std::string(value);
}

std::string at(const std::string& path, const YAML::Mark& mark) {
  return path + (mark.line >= 0 ? ":" + std::to_string(mark.line + 1) : std::string());
}

// The `store:` of the config file at `path`; "" when it has none.
Result<std::string> store_in_config(const std::string& path) {
  YAML::Node root;
  try {
    root = YAML::LoadFile(path);
  } catch (const YAML::BadFile&) {
    return Error{"cannot read the config file " + path, ErrorCode::io_error};
  } catch (const YAML::Exception& e) {
    return Error{at(path, e.mark) + ": not valid YAML: " + e.msg, ErrorCode::invalid_argument};
  }
  if (root.IsNull()) return std::string();
  if (!root.IsMap()) {
    return Error{at(path, root.Mark()) + ": expected a mapping of settings (store: ...)", ErrorCode::invalid_argument};
  }
  const YAML::Node store = root["store"];
  if (!store || store.IsNull()) return std::string();
  if (!store.IsScalar() || store.Scalar().empty()) {
    return Error{at(path, store.Mark()) + ": store: expected a postgresql:// URI or a file path",
                 ErrorCode::invalid_argument};
  }
  std::string location = store.Scalar();
  const bool file = location.find("://") == std::string::npos;
  std::string file_path = location.starts_with("sqlite:") ? location.substr(7) : location;
  if (file && std::filesystem::path(file_path).is_relative()) {
    location = (std::filesystem::path(path).parent_path() / file_path).lexically_normal().string();
  }
  return location;
}

}  // namespace

std::string config_path() {
  if (auto explicit_path = env("CHAOSPLUS_CONFIG"); !explicit_path.empty()) return explicit_path;
  if (auto xdg = env("XDG_CONFIG_HOME"); !xdg.empty()) return xdg + "/chaosplus/config.yaml";
  const std::string home = env("HOME");
  return (home.empty() ? std::string("/tmp") : home) + "/.config/chaosplus/config.yaml";
}

Result<std::string> resolve_location(const std::string& flag, const std::string& state_dir) {
  if (!flag.empty()) return flag;
  if (auto from_env = env("CHAOSPLUS_STORE"); !from_env.empty()) return from_env;
  const std::string path = config_path();
  std::error_code ec;
  if (std::filesystem::exists(path, ec) || !env("CHAOSPLUS_CONFIG").empty()) {
    auto configured = store_in_config(path);
    if (!configured) return configured.failure();
    if (!configured->empty()) return *configured;
  }
  return default_location(state_dir);
}

}  // namespace chaosplus::store
