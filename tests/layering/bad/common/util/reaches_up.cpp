// Fixture for the layering check (never compiled): common/util including the coordinator.
#include "coordinator/store/store.h"
