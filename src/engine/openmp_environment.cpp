#include <cstdlib>
#include <string>

#include "conveyor/engine/compiled_model.hpp"

namespace conveyor {

void check_openmp_environment() {
  for (const char* name : {"OMP_PROC_BIND", "OMP_PLACES", "GOMP_CPU_AFFINITY"}) {
    const char* value = std::getenv(name);
    if (value == nullptr || *value == '\0') continue;
    if (std::string(name) == "OMP_PROC_BIND" && std::string(value) == "false") continue;
    throw EngineError(std::string(name) + "=" + value +
                      " is set: libgomp would bind OpenMP team threads to fixed places and break the per-stage "
                      "core pinning conveyor relies on. Unset it before starting the process (libgomp reads it "
                      "at load time, so it cannot be undone from inside).");
  }
}

}  // namespace conveyor
