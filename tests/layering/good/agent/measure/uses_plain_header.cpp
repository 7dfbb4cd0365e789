// Fixture for the layering check (never compiled): measure through the plain interface.
#include "agent/engine/plain.h"
#include "analysis/statistics.h"
#include "common/util/errors.h"
