#include <cstdio>
#include <exception>
#include <string>

#include "cli/commands.hpp"
#include "conveyor/version.hpp"

int main(int argc, char** argv) {
  CLI::App app{"conveyor: pipeline-parallel inference on pinned CPU cores", "conveyor"};
  app.require_subcommand(1);
  app.set_version_flag("--version", std::string("conveyor ") + conveyor::version());
  app.footer("Run 'conveyor COMMAND --help' for a command's options and an example.");
  conveyor::cli::add_demo_command(app);
  conveyor::cli::add_run_command(app);
  conveyor::cli::add_bench_command(app);
  conveyor::cli::add_ops_command(app);
  conveyor::cli::add_zoo_command(app);
  conveyor::cli::add_profile_command(app);
  conveyor::cli::add_plan_command(app);
  conveyor::cli::add_simulate_command(app);
  conveyor::cli::add_split_command(app);
  conveyor::cli::add_infer_command(app);
  conveyor::cli::add_serve_command(app);
  if (argc > 1) {  // CLI11 would only say "A subcommand is required"
    const std::string first = argv[1];
    bool known = first == "-h" || first == "--help" || first == "--version";
    for (const CLI::App* command : app.get_subcommands({})) known = known || command->get_name() == first;
    if (!known) {
      std::fprintf(stderr, "conveyor: unknown %s '%s'; run 'conveyor --help' for the commands\n",
                   first[0] == '-' ? "option" : "command", first.c_str());
      return 106;  // CLI11's exit code for arguments it did not expect
    }
  }
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "conveyor: error: %s\n", e.what());
    return 1;
  }
  return 0;
}
