#pragma once
// Reads the model (operations, parameters, bodies, responses, links, security) out of a document
// whose files the Workspace holds; problems go to the Workspace's error list.
#include "openapi/document.h"
#include "openapi/refs.h"

namespace chaosplus::openapi {

Document read_model(Workspace& workspace);

}  // namespace chaosplus::openapi
