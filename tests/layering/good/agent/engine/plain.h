// Fixture for the layering check (never compiled): an engine header without LibTorch.
#include <string>
