#pragma once
#include <CLI/CLI.hpp>

namespace conveyor::cli {

// Each adds one subcommand to the app; its callback runs the command and may throw.
void add_run_command(CLI::App& app);
void add_bench_command(CLI::App& app);
void add_demo_command(CLI::App& app);
void add_ops_command(CLI::App& app);
void add_zoo_command(CLI::App& app);
void add_profile_command(CLI::App& app);
void add_plan_command(CLI::App& app);
void add_simulate_command(CLI::App& app);
void add_split_command(CLI::App& app);
void add_infer_command(CLI::App& app);
void add_serve_command(CLI::App& app);

}  // namespace conveyor::cli
