#include "cli/output_file_name.hpp"

namespace conveyor::cli {

std::string output_file_name(const std::string& tensor_name, std::set<std::string>& taken) {
  std::string base;
  for (char c : tensor_name) {
    const bool plain = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                       c == '.' || c == '_' || c == '-';
    base += plain ? c : '_';
  }
  if (base.empty() || base.find_first_not_of('.') == std::string::npos) base = "output" + base;
  std::string name = base;
  for (int n = 2; taken.count(name); ++n) name = base + "_" + std::to_string(n);
  taken.insert(name);
  return name + ".npy";
}

}  // namespace conveyor::cli
