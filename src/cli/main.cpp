#include <cstdio>
#include <exception>
#include <string>

#include "cli/commands.hpp"
#include "cli/exit_status.hpp"
#include "conveyor/version.hpp"

int main(int argc, char** argv) {
  CLI::App app{"conveyor: pipeline-parallel inference on pinned CPU cores", "conveyor"};
  app.require_subcommand(1);
  app.set_version_flag("--version", std::string("conveyor ") + conveyor::version());
  app.footer("Run 'conveyor COMMAND --help' for a command's options and an example.\n" +
             conveyor::cli::exit_status_footer(""));
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
  for (CLI::App* command : app.get_subcommands({})) {
    const std::string footer = command->get_footer();
    command->footer(footer + (footer.empty() ? "" : "\n") + conveyor::cli::exit_status_footer(command->get_name()));
  }
  if (argc > 1) {  // CLI11 would only say "A subcommand is required"
    const std::string first = argv[1];
    bool known = first == "-h" || first == "--help" || first == "--version";
    for (const CLI::App* command : app.get_subcommands({})) known = known || command->get_name() == first;
    if (!known) {
      std::fprintf(stderr, "conveyor: unknown %s '%s'; run 'conveyor --help' for the commands\n",
                   first[0] == '-' ? "option" : "command", first.c_str());
      return conveyor::cli::kExitUsage;
    }
  }
  try {
    app.parse(argc, argv);
  } catch (const CLI::Success& e) {  // --help, --version
    return app.exit(e);
  } catch (const CLI::RuntimeError& e) {  // a command's own status (3, 130, ...), already explained
    return e.get_exit_code();
  } catch (const CLI::ParseError& e) {  // CLI11's codes (106, 109, ...) are all one thing to a user
    app.exit(e);
    return conveyor::cli::kExitUsage;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "conveyor: error: %s\n", e.what());
    return conveyor::cli::kExitError;
  }
  return conveyor::cli::kExitOk;
}
