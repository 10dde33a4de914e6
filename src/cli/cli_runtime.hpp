#pragma once
#include "conveyor/api/runtime.hpp"

namespace conveyor::cli {

// The one Runtime of a conveyor command: this machine, the default profile store and caches; what the
// runtime does on its own (plan: auto profiling and planning) is said on stderr.
Runtime& cli_runtime();

}  // namespace conveyor::cli
