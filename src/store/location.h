#pragma once
// Where the results store is, decided the same way by every command (run, recover, history, show,
// report, compare, server): the --store flag, else $CHAOSPLUS_STORE, else the `store:` key of the
// config file, else <state_dir>/results.db.
#include <string>

#include "core/result.h"

namespace chaosplus::store {

// The config file: $CHAOSPLUS_CONFIG, else $XDG_CONFIG_HOME/chaosplus/config.yaml, else
// ~/.config/chaosplus/config.yaml.
std::string config_path();

// `flag`: the --store value ("" when not given). A config file that is missing is no error (unless
// $CHAOSPLUS_CONFIG names it); one that cannot be read or parsed, or whose `store:` is not a
// string, is, with file:line. A relative file path in the config file is taken from its folder.
Result<std::string> resolve_location(const std::string& flag, const std::string& state_dir);

}  // namespace chaosplus::store
