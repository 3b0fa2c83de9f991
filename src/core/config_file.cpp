#include "core/config_file.h"

#include <yaml-cpp/yaml.h>

#include <cstdlib>
#include <filesystem>

#include "core/allowed_hosts.h"

namespace chaosplus {
namespace {

std::string env(const char* name) {
  const char* value = std::getenv(name);
  return value == nullptr ? std::string() : std::string(value);
}

std::string at(const std::string& path, const YAML::Mark& mark) {
  return path + (mark.line >= 0 ? ":" + std::to_string(mark.line + 1) : std::string());
}

Error wrong(const std::string& path, const YAML::Node& node, const std::string& what) {
  return Error{at(path, node.Mark()) + ": " + what, ErrorCode::invalid_argument};
}

std::string relative_to(const std::string& config, const std::string& file) {
  if (file.empty() || std::filesystem::path(file).is_absolute()) return file;
  return (std::filesystem::path(config).parent_path() / file).lexically_normal().string();
}

Status read_store(const std::string& path, const YAML::Node& store, ConfigFile& out) {
  if (!store || store.IsNull()) return ok_status();
  if (!store.IsScalar() || store.Scalar().empty()) {
    return wrong(path, store, "store: expected a postgresql:// URI or a file path");
  }
  std::string location = store.Scalar();
  const bool file = location.find("://") == std::string::npos;
  const std::string file_path = location.starts_with("sqlite:") ? location.substr(7) : location;
  if (file && std::filesystem::path(file_path).is_relative()) location = relative_to(path, file_path);
  out.store = location;
  return ok_status();
}

Status read_allow(const std::string& path, const YAML::Node& allow, ConfigFile& out) {
  if (!allow || allow.IsNull()) return ok_status();
  const std::string expected = "expected a list of IP addresses or networks, e.g. allow: [10.77.0.0/24, 192.168.1.5]";
  if (!allow.IsSequence()) return wrong(path, allow, "allow: " + expected);
  for (const auto& item : allow) {
    if (!item.IsScalar() || item.Scalar().empty()) return wrong(path, item, "allow: " + expected);
    AllowedHosts probe;  // checks the entry's shape now, so the error points at its line
    if (auto added = probe.add(item.Scalar(), at(path, item.Mark())); !added) return added.failure();
    out.allow.push_back(item.Scalar());
    out.allow_where.push_back(at(path, item.Mark()));
  }
  return ok_status();
}

Status read_etcd(const std::string& path, const YAML::Node& etcd, ConfigFile& out) {
  if (!etcd || etcd.IsNull()) return ok_status();
  if (!etcd.IsMap()) {
    return wrong(path, etcd,
                 "etcd: expected a map with endpoints and optionally ca_file, cert_file, key_file, "
                 "user, password_file, lease_ttl");
  }
  for (const auto& entry : etcd) {
    const std::string key = entry.first.as<std::string>();
    const YAML::Node& value = entry.second;
    if (key == "endpoints") {
      auto add = [&](const YAML::Node& item) -> Status {
        if (!item.IsScalar() || item.Scalar().empty()) {
          return wrong(path, item, "etcd: endpoints: expected URLs such as http://127.0.0.1:2379");
        }
        const std::string url = item.Scalar();
        if (!url.starts_with("http://") && !url.starts_with("https://")) {
          return wrong(path, item, "etcd: endpoints: found '" + url + "', expected an http:// or https:// URL");
        }
        out.etcd.endpoints.push_back(url);
        return ok_status();
      };
      if (value.IsSequence()) {
        for (const auto& item : value) {
          if (auto added = add(item); !added) return added;
        }
      } else if (auto added = add(value); !added) {
        return added;
      }
    } else if (key == "ca_file" || key == "cert_file" || key == "key_file" || key == "password_file" || key == "user") {
      if (!value.IsScalar() || value.Scalar().empty()) {
        return wrong(path, value, "etcd: " + key + ": expected " + (key == "user" ? "a user name" : "a file path"));
      }
      const std::string text = value.Scalar();
      if (key == "ca_file") out.etcd.ca_file = relative_to(path, text);
      if (key == "cert_file") out.etcd.cert_file = relative_to(path, text);
      if (key == "key_file") out.etcd.key_file = relative_to(path, text);
      if (key == "password_file") out.etcd.password_file = relative_to(path, text);
      if (key == "user") out.etcd.user = text;
    } else if (key == "lease_ttl") {
      auto ttl = value.IsScalar() ? parse_duration(value.Scalar()) : Result<Duration>(Error{"not a duration"});
      if (!ttl || *ttl < std::chrono::seconds(1)) {
        return wrong(path, value, "etcd: lease_ttl: expected a duration of at least 1s, such as 5s");
      }
      out.etcd.lease_ttl = *ttl;
    } else {
      return wrong(path, entry.first,
                   "etcd: unknown setting '" + key +
                       "', expected endpoints, ca_file, cert_file, key_file, user, password_file or lease_ttl");
    }
  }
  return ok_status();
}

}  // namespace

std::string config_file_path() {
  if (auto explicit_path = env("CHAOSPLUS_CONFIG"); !explicit_path.empty()) return explicit_path;
  if (auto xdg = env("XDG_CONFIG_HOME"); !xdg.empty()) return xdg + "/chaosplus/config.yaml";
  const std::string home = env("HOME");
  return (home.empty() ? std::string("/tmp") : home) + "/.config/chaosplus/config.yaml";
}

Result<ConfigFile> read_config_file() {
  const std::string path = config_file_path();
  std::error_code ec;
  if (!std::filesystem::exists(path, ec) && env("CHAOSPLUS_CONFIG").empty()) return ConfigFile{};
  return read_config_file(path);
}

Result<ConfigFile> read_config_file(const std::string& path) {
  ConfigFile out;
  out.path = path;
  YAML::Node root;
  try {
    root = YAML::LoadFile(path);
  } catch (const YAML::BadFile&) {
    return Error{"cannot read the config file " + path, ErrorCode::io_error};
  } catch (const YAML::Exception& e) {
    return Error{at(path, e.mark) + ": not valid YAML: " + e.msg, ErrorCode::invalid_argument};
  }
  if (root.IsNull()) return out;
  if (!root.IsMap()) return wrong(path, root, "expected a mapping of settings (store:, allow:, etcd:)");
  try {
    if (auto s = read_store(path, root["store"], out); !s) return s.failure();
    if (auto s = read_allow(path, root["allow"], out); !s) return s.failure();
    if (auto s = read_etcd(path, root["etcd"], out); !s) return s.failure();
  } catch (const YAML::Exception& e) {
    return Error{at(path, e.mark) + ": " + e.msg, ErrorCode::invalid_argument};
  }
  return out;
}

Status apply_allow_list(const ConfigFile& config) {
  for (std::size_t i = 0; i < config.allow.size(); ++i) {
    if (auto added = allowed_hosts().add(config.allow[i], config.allow_where[i]); !added) return added;
  }
  if (const std::string list = env("CHAOSPLUS_ALLOW"); !list.empty()) {
    if (auto added = allowed_hosts().add_list(list, "$CHAOSPLUS_ALLOW"); !added) return added;
  }
  return ok_status();
}

}  // namespace chaosplus
