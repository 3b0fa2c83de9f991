#include "spec/activity_kinds.h"

#include <array>

#include "spec/builder.h"

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

std::optional<ActivitySpec> read_load(reading::Builder& builder, const YamlNode& block, const std::string& what,
                                      const std::string& phase) {
  return builder.read_load_activity(block, what, phase);
}

constexpr std::array kKinds{
    ActivityKind{Load::kKind, kLoadSchema, read_load},
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
