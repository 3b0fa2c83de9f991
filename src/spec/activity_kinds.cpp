#include "spec/activity_kinds.h"

#include <array>

#include "fuzz/fuzz_spec.h"
#include "spec/builder.h"
#include "writes/writes_spec.h"

namespace chaosplus::spec {
namespace {

// The `load` block of a phase and the stages it uses; it refers to the shared definitions
// (identifier, url, duration, text, scalarText) of schema/experiment.schema.json.
constexpr std::string_view kLoadSchema = R"json({
  "load": {
    "description": "traffic the phase sends while its faults are on",
    "type": "object",
    "additionalProperties": false,
    "required": [
      "url"
    ],
    "properties": {
      "name": {
        "$ref": "#/definitions/identifier"
      },
      "url": {
        "$ref": "#/definitions/url"
      },
      "method": {
        "enum": [
          "GET",
          "HEAD",
          "POST",
          "PUT",
          "PATCH",
          "DELETE",
          "OPTIONS"
        ]
      },
      "headers": {
        "type": "object",
        "additionalProperties": {
          "$ref": "#/definitions/scalarText"
        }
      },
      "body": {
        "$ref": "#/definitions/scalarText"
      },
      "connections": {
        "type": "integer",
        "minimum": 1,
        "maximum": 100000
      },
      "threads": {
        "type": "integer",
        "minimum": 1,
        "maximum": 64
      },
      "timeout": {
        "$ref": "#/definitions/duration"
      },
      "rate": {
        "type": "string",
        "pattern": "^\\s*[0-9]+(\\.[0-9]+)?\\s*/\\s*[smh]\\s*$"
      },
      "stages": {
        "type": "array",
        "minItems": 1,
        "items": {
          "$ref": "#/definitions/loadStage"
        }
      },
      "vus": {
        "type": "integer",
        "minimum": 1,
        "maximum": 10000000
      },
      "think": {
        "$ref": "#/definitions/duration"
      },
      "scenario": {
        "$ref": "#/definitions/text"
      },
      "max_sessions": {
        "type": "integer",
        "minimum": 1,
        "maximum": 10000000
      },
      "seed": {
        "description": "seed of a scenario mix's draws",
        "type": "integer",
        "minimum": 0,
        "maximum": 9007199254740991
      },
      "tls": {
        "description": "https:// only: certificate verification and trusted CAs",
        "type": "object",
        "additionalProperties": false,
        "properties": {
          "verify": {
            "type": "boolean"
          },
          "ca_file": {
            "$ref": "#/definitions/text"
          }
        }
      },
      "thresholds": {
        "type": "array",
        "items": {
          "type": "string"
        }
      },
      "generators": {
        "description": "send from this many agents, each a k6-style segment of the load, merged centrally (docs/load.md, Distributed load)",
        "type": "integer",
        "minimum": 1,
        "maximum": 1000
      },
      "on": {
        "description": "with generators: the agents to send from, by label (role: loadgen) and host: NAME",
        "type": "object",
        "minProperties": 1,
        "additionalProperties": {
          "$ref": "#/definitions/scalarText"
        }
      }
    }
  },
  "loadStage": {
    "description": "a ramp {to: 1000/s, over: 30s} (a rate drives arrivals, a plain number drives users) or a hold {hold: 1m}",
    "type": "object",
    "additionalProperties": false,
    "properties": {
      "to": {
        "type": [
          "string",
          "integer"
        ]
      },
      "over": {
        "$ref": "#/definitions/duration"
      },
      "hold": {
        "$ref": "#/definitions/duration"
      }
    },
    "oneOf": [
      {
        "required": [
          "to",
          "over"
        ]
      },
      {
        "required": [
          "hold"
        ]
      }
    ]
  }
})json";

// The `extension` block of a phase: an activity an external extension runs (docs/extensions.md);
// its parameters are the extension's own (definitions/extensionParams).
constexpr std::string_view kExtensionSchema = R"json({
  "extension": {
    "description": "an activity an extension runs during the phase (docs/extensions.md)",
    "type": "object",
    "additionalProperties": false,
    "required": [
      "extension",
      "activity"
    ],
    "properties": {
      "name": {
        "$ref": "#/definitions/identifier"
      },
      "extension": {
        "$ref": "#/definitions/identifier"
      },
      "activity": {
        "type": "string",
        "minLength": 1
      },
      "params": {
        "$ref": "#/definitions/extensionParams"
      }
    }
  }
})json";

// The `security` block of a phase (docs/security.md).
constexpr std::string_view kSecuritySchema = R"json({
  "security": {
    "description": "security probes during the phase: auth invariants re-checked while faults are on (fail-open), injection, headers, TLS",
    "type": "object",
    "additionalProperties": false,
    "required": [
      "openapi",
      "base_url"
    ],
    "properties": {
      "name": {
        "$ref": "#/definitions/identifier"
      },
      "openapi": {
        "$ref": "#/definitions/text"
      },
      "base_url": {
        "$ref": "#/definitions/url"
      },
      "users": {
        "description": "the first user creates objects, the second must not reach them",
        "type": "array",
        "items": {
          "type": "object",
          "additionalProperties": false,
          "required": [
            "name",
            "header"
          ],
          "properties": {
            "name": {
              "$ref": "#/definitions/text"
            },
            "header": {
              "description": "the credential header: 'Authorization: Bearer t1'",
              "type": "string",
              "pattern": "^[^:\\s]+:"
            }
          }
        }
      },
      "checks": {
        "type": "array",
        "minItems": 1,
        "items": {
          "enum": [
            "auth",
            "injection",
            "headers",
            "tls"
          ]
        }
      },
      "protected": {
        "description": "operation ids that need credentials although the document does not say so",
        "type": "array",
        "items": {
          "type": "string"
        }
      },
      "recheck": {
        "$ref": "#/definitions/duration"
      },
      "timeout": {
        "$ref": "#/definitions/duration"
      },
      "delay": {
        "$ref": "#/definitions/duration"
      },
      "max_requests": {
        "type": "integer",
        "minimum": 1,
        "maximum": 100000000
      },
      "thresholds": {
        "type": "array",
        "items": {
          "type": "string"
        }
      }
    }
  }
})json";

// The `fuzz` block of a phase (docs/fuzz.md).
constexpr std::string_view kFuzzSchema = R"json({
  "fuzz": {
    "description": "an API fuzzed from its OpenAPI document while the phase's faults are on (docs/fuzz.md)",
    "type": "object",
    "additionalProperties": false,
    "required": [
      "openapi",
      "base_url"
    ],
    "properties": {
      "name": {
        "$ref": "#/definitions/identifier"
      },
      "openapi": {
        "description": "the OpenAPI 3.0/3.1 document, JSON or YAML; a relative path is read from the experiment file's folder",
        "$ref": "#/definitions/text"
      },
      "base_url": {
        "$ref": "#/definitions/url"
      },
      "duration": {
        "description": "how long to fuzz (default: the phase's length)",
        "$ref": "#/definitions/duration"
      },
      "seed": {
        "description": "seed of the request stream: the same seed, document and target give the same requests",
        "type": "integer",
        "minimum": 0,
        "maximum": 9007199254740991
      },
      "connections": {
        "type": "integer",
        "minimum": 1,
        "maximum": 10000
      },
      "timeout": {
        "description": "per request: a slower answer is a hang",
        "$ref": "#/definitions/duration"
      },
      "max_requests": {
        "type": "integer",
        "minimum": 1,
        "maximum": 1000000000000
      },
      "headers": {
        "description": "sent with every request (credentials)",
        "type": "object",
        "additionalProperties": {
          "$ref": "#/definitions/scalarText"
        }
      },
      "target": {
        "description": "the experiment target whose process is watched: death, restart, memory growth",
        "$ref": "#/definitions/identifier"
      },
      "memory_growth": {
        "description": "resident memory growth of the target that is a finding, e.g. 100MiB (0: off)",
        "type": [
          "string",
          "integer"
        ]
      },
      "minimize": {
        "type": "boolean"
      },
      "thresholds": {
        "description": "conditions on the unique findings: \"findings < 1\", \"findings{severity>=high} < 1\"",
        "type": "array",
        "items": {
          "type": "string"
        }
      }
    }
  }
})json";

// The `writes` block of a phase (docs/databases.md, "Write workload").
constexpr std::string_view kWritesSchema = R"json({
  "writes": {
    "description": "a write workload with an acknowledged-write log during the phase: lost writes, RTO, RPO, split brain (docs/databases.md)",
    "type": "object",
    "additionalProperties": false,
    "required": [
      "dsn"
    ],
    "properties": {
      "name": {
        "$ref": "#/definitions/identifier"
      },
      "dsn": {
        "description": "a libpq connection string (loopback hosts only), e.g. 'host=127.0.0.11,127.0.0.12 port=5432 dbname=postgres target_session_attrs=read-write'",
        "$ref": "#/definitions/text"
      },
      "table": {
        "description": "the table written (created when missing), default chaosplus_writes",
        "type": "string",
        "pattern": "^[a-z_][a-z0-9_]*(\\.[a-z_][a-z0-9_]*)?$"
      },
      "clients": {
        "type": "integer",
        "minimum": 1,
        "maximum": 256
      },
      "rate": {
        "description": "inserts per second, all clients together, e.g. 200/s",
        "type": "string",
        "pattern": "^\\s*[0-9]+(\\.[0-9]+)?\\s*/\\s*[smh]\\s*$"
      },
      "timeout": {
        "description": "per insert, once connected: a slower one is unknown",
        "$ref": "#/definitions/duration"
      },
      "connect_timeout": {
        "description": "per reconnect, every host of the connection string together: a slower one is a failed insert",
        "$ref": "#/definitions/duration"
      },
      "patroni": {
        "description": "Patroni REST API addresses asked for /primary, to time the promotion",
        "type": "array",
        "minItems": 1,
        "items": {
          "type": "string"
        }
      },
      "history": {
        "description": "a JSONL file that gets every attempt",
        "$ref": "#/definitions/text"
      },
      "thresholds": {
        "description": "conditions on the figures: \"rto < 15s\", \"lost_writes == 0\", \"split_brain == 0\"",
        "type": "array",
        "items": {
          "type": "string"
        }
      }
    }
  }
})json";

std::optional<ActivitySpec> read_load(reading::Builder& builder, const YamlNode& block, const std::string& what,
                                      const std::string& phase) {
  return builder.read_load_activity(block, what, phase);
}

std::optional<ActivitySpec> read_security(reading::Builder& builder, const YamlNode& block, const std::string& what,
                                          const std::string& phase) {
  return builder.read_security_activity(block, what, phase);
}

std::optional<ActivitySpec> read_fuzz(reading::Builder& builder, const YamlNode& block, const std::string& what,
                                      const std::string& phase) {
  return builder.read_fuzz_activity(block, what, phase);
}

std::optional<ActivitySpec> read_writes(reading::Builder& builder, const YamlNode& block, const std::string& what,
                                        const std::string& phase) {
  return builder.read_writes_activity(block, what, phase);
}

std::optional<ActivitySpec> read_extension(reading::Builder& builder, const YamlNode& block, const std::string& what,
                                           const std::string& phase) {
  return builder.read_extension_activity(block, what, phase);
}

constexpr std::array kKinds{
    ActivityKind{Load::kKind, kLoadSchema, read_load},
    ActivityKind{fuzz::FuzzSpec::kKind, kFuzzSchema, read_fuzz},
    ActivityKind{"security", kSecuritySchema, read_security},
    ActivityKind{"extension", kExtensionSchema, read_extension},
    ActivityKind{writes::WritesSpec::kKind, kWritesSchema, read_writes},
};

}  // namespace

std::span<const ActivityKind> activity_kinds() { return kKinds; }

const ActivityKind* find_activity_kind(std::string_view name) {
  for (const ActivityKind& k : kKinds) {
    if (k.name == name) return &k;
  }
  return nullptr;
}

}  // namespace chaosplus::spec
