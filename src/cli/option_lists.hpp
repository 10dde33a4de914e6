#pragma once
#include <string>
#include <vector>

#include "conveyor/api/errors.hpp"

namespace conveyor::cli {

// "4" -> the first 4 usable cores (0..3 beyond the machine's size, for what-ifs); "0-3,6" -> those ids.
std::vector<int> parse_core_budget(const std::string& text);

// "1..4" | "1,2,4" | "2" -> sorted distinct thread counts >= 1.
std::vector<int> parse_thread_counts(const std::string& text);

// The `conveyor profile` command that measures a pipeline file's stages at `threads`.
std::string profile_command_hint(const std::string& pipeline_file, const std::string& threads);

// Runs `plan_something`; a MissingProfilesError comes out with the `conveyor profile` command that
// measures the stages.
template <class F>
auto with_profile_hint(F&& plan_something) {
  try {
    return plan_something();
  } catch (const MissingProfilesError& error) {
    throw MissingProfilesError(std::string(error.what()) + ".\nMeasure them first:\n  " +
                                   profile_command_hint(error.pipeline_file(), "1..N"),
                               error.pipeline_file(), error.stages());
  }
}

}  // namespace conveyor::cli
