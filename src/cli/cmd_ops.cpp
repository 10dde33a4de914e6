#include <cstdio>

#include "cli/commands.hpp"
#include "conveyor/ops/registry.hpp"

namespace conveyor::cli {

void add_ops_command(CLI::App& app) {
  CLI::App* cmd = app.add_subcommand("ops", "List the built-in stage operators usable as 'op:' in a pipeline file");
  cmd->footer("Example:\n  conveyor ops");
  cmd->callback([] {
    for (const auto& [name, summary] : builtin_operators().list()) std::printf("%-18s %s\n", name.c_str(), summary.c_str());
  });
}

}  // namespace conveyor::cli
