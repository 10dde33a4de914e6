#pragma once
#include <string>
#include <vector>

namespace conveyor::config_detail {

// The candidate most like `word` (a likely typo: at most a third of its letters differ), or "" if none is.
std::string closest_name(const std::string& word, const std::vector<std::string>& candidates);

// "a, b, c"
std::string join_names(const std::vector<std::string>& names);

}  // namespace conveyor::config_detail
