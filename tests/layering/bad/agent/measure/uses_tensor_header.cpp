// Fixture for the layering check (never compiled): measure reaching a tensor header.
#include "agent/engine/wraps_tensor_header.h"
