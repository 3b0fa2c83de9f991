#pragma once
// The form of a normalized schema that valijson's draft-7 parser accepts without complaint. The
// parser stops the process (it is built without exceptions) on a keyword of the wrong shape, such
// as a non-text `description`; so the schema handed to it keeps only the validation keywords it
// knows, each of the right type. Annotations, examples, x- keys and cycle markers are dropped (a
// cycle marker becomes the empty schema: anything goes), and so is `format` (valijson reads any
// value as text for it, and builds a regex per value: formats.h checks them instead).
#include "openapi/document.h"

namespace chaosplus::openapi {

struct CheckableOptions {
  bool patterns = true;  // false: drop `pattern` and `patternProperties` (std::regex recurses per character)
};

Json checkable_schema(const Json& schema, const CheckableOptions& options = {});

}  // namespace chaosplus::openapi
