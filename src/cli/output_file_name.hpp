#pragma once
#include <set>
#include <string>

namespace conveyor::cli {

// A .npy file name for a tensor: anything but [A-Za-z0-9._-] becomes '_' (so "head/logits:0" makes no
// folder); names already in `taken` get a suffix, and the name is added to it.
std::string output_file_name(const std::string& tensor_name, std::set<std::string>& taken);

}  // namespace conveyor::cli
