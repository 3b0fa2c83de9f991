#pragma once
// The form of a normalized schema that valijson's draft-7 parser accepts without complaint. The
// parser stops the process (it is built without exceptions) on a keyword of the wrong shape, such
// as a non-text `description`, and its `format` check reads any value as text; so the schema handed
// to it keeps only the validation keywords it knows, each of the right type, and checks a format
// only on strings. Annotations, examples, x- keys and cycle markers are dropped (a cycle marker
// becomes the empty schema: anything goes).
#include "openapi/document.h"

namespace chaosplus::openapi {

struct CheckableOptions {
  bool patterns = true;  // false: drop `pattern` and `patternProperties` (std::regex recurses per character)
};

Json checkable_schema(const Json& schema, const CheckableOptions& options = {});

}  // namespace chaosplus::openapi
