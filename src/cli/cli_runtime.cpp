#include "cli/cli_runtime.hpp"

#include <cstdio>

namespace conveyor::cli {

Runtime& cli_runtime() {
  static Runtime runtime([] {
    RuntimeOptions options;
    options.on_note = [](const std::string& text) { std::fprintf(stderr, "%s\n", text.c_str()); };
    return options;
  }());
  return runtime;
}

}  // namespace conveyor::cli
