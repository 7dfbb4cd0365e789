// Fixture for the layering check (never compiled): brings ATen in through another header.
#include "agent/engine/tensor_header.h"
