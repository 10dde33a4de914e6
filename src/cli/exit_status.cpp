#include "cli/exit_status.hpp"

namespace conveyor::cli {

std::string exit_status_footer(const std::string& command) {
  if (command == "run")
    return "Exit status: 0 every input succeeded; 3 some failed (their lines hold the error); 1 error;\n"
           "2 usage error; 130 / 143 stopped by SIGINT / SIGTERM (the finished lines are kept: --resume "
           "continues).";
  if (command == "bench")
    return "Exit status: 0 every measured request succeeded; 3 some failed (the report counts them); 1 "
           "error;\n"
           "2 usage error; 130 / 143 stopped by SIGINT / SIGTERM.";
  if (command == "serve")
    return "Exit status: 0 stopped by SIGINT / SIGTERM after draining; 1 error; 2 usage error.";
  if (command.empty())
    return "Exit status: 0 ok; 1 error; 2 usage error (unknown command or option, bad value); 3 run / bench\n"
           "finished but some inputs or requests failed; 130 / 143 run / bench stopped by SIGINT / SIGTERM.";
  return "Exit status: 0 ok; 1 error; 2 usage error (unknown option, bad value).";
}

}  // namespace conveyor::cli
