#pragma once
// The config file every command reads (docs/operations.md): $CHAOSPLUS_CONFIG, else
// $XDG_CONFIG_HOME/chaosplus/config.yaml, else ~/.config/chaosplus/config.yaml.
//
//   store: results.db                  # or postgresql://...
//   allow: [10.77.0.0/24, 192.168.1.5] # hosts experiments may touch besides loopback
//   etcd:                              # where agents coordinate (docs/agents.md)
//     endpoints: [http://127.0.0.1:2379]
//     ca_file: ca.pem                  # TLS; cert_file and key_file for mutual TLS
//     cert_file: client.pem
//     key_file: client-key.pem
//     user: chaosplus                  # etcd authentication; the password is read from password_file
//     password_file: etcd-password
//     lease_ttl: 5s                    # the run lease's TTL
//
// Relative file paths are taken from the config file's folder. Every error says file:line.
#include <optional>
#include <string>
#include <vector>

#include "core/result.h"
#include "core/units.h"

namespace chaosplus {

struct EtcdSettings {
  std::vector<std::string> endpoints;
  std::string ca_file;
  std::string cert_file;
  std::string key_file;
  std::string user;
  std::string password_file;
  std::optional<Duration> lease_ttl;
};

struct ConfigFile {
  std::string path;                      // "" when there is no config file
  std::string store;                     // as written, a relative file path made absolute; "" = not set
  std::vector<std::string> allow;        // IPs and networks
  std::vector<std::string> allow_where;  // "path:line" of each, for messages
  EtcdSettings etcd;
};

// Where the config file is looked for.
std::string config_file_path();

// Reads it. A missing file is no error (an empty ConfigFile) unless $CHAOSPLUS_CONFIG names it; one
// that cannot be read or parsed, or with a setting of the wrong shape, is, with file:line.
Result<ConfigFile> read_config_file();
Result<ConfigFile> read_config_file(const std::string& path);

// Fills allowed_hosts() (core/allowed_hosts.h) from the config's `allow:` and $CHAOSPLUS_ALLOW.
Status apply_allow_list(const ConfigFile& config);

}  // namespace chaosplus
