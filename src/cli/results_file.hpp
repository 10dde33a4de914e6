#pragma once
#include <filesystem>
#include <set>
#include <string>
#include <vector>

namespace conveyor::cli {

// The results file may replace an earlier results file, never anything else: an input (destroyed before it
// is read), the pipeline file, a model or a vocabulary named by mistake. Throws saying which.
void check_output_may_be_replaced(const std::filesystem::path& output,
                                  const std::vector<std::filesystem::path>& inputs);

// For `run --resume`: the `input` of every line already in the results file (none when there is no file).
// A last line cut short (the run was killed while writing it) is cut off the file, with a note; any other
// line that is not a result is an error naming its line number.
std::set<std::string> finished_inputs(const std::filesystem::path& output);

}  // namespace conveyor::cli
