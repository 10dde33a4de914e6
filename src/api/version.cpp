#include "conveyor/version.hpp"

namespace conveyor {

const char* version() { return CONVEYOR_VERSION; }

}  // namespace conveyor
