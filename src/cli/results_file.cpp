#include "cli/results_file.hpp"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <stdexcept>

namespace conveyor::cli {
namespace {

namespace fs = std::filesystem;

bool is_result_line(const nlohmann::json& line) {
  return line.is_object() && line.contains("input") && line["input"].is_string() && line.contains("ok");
}

}  // namespace

void check_output_may_be_replaced(const fs::path& output, const std::vector<fs::path>& inputs) {
  std::error_code ec;
  if (!fs::exists(output, ec)) return;
  for (const auto& file : inputs)
    if (fs::equivalent(output, file, ec))
      throw std::runtime_error("--output '" + output.string() + "' is also an input ('" + file.string() +
                               "'): write the results elsewhere");
  if (fs::is_directory(output, ec)) return;  // opening it fails with its own message
  std::ifstream in(output, std::ios::binary);
  std::string first_line;
  std::getline(in, first_line);
  if (first_line.empty()) return;
  if (!is_result_line(nlohmann::json::parse(first_line, nullptr, false)))
    throw std::runtime_error("--output '" + output.string() +
                             "' exists and is not a results file of conveyor run: not replacing it "
                             "(remove it, or write the results elsewhere)");
}

std::set<std::string> finished_inputs(const fs::path& output) {
  std::set<std::string> inputs;
  std::error_code ec;
  if (!fs::exists(output, ec)) return inputs;
  std::ifstream in(output, std::ios::binary);
  if (!in)
    throw std::runtime_error("cannot read '" + output.string() + "' to resume: " + std::strerror(errno));
  std::ostringstream all;
  all << in.rdbuf();
  const std::string text = all.str();
  const std::size_t complete = text.rfind('\n') == std::string::npos ? 0 : text.rfind('\n') + 1;
  std::size_t line_number = 0;
  for (std::size_t start = 0; start < complete;) {
    const std::size_t end = text.find('\n', start);
    ++line_number;
    const auto line = nlohmann::json::parse(text.substr(start, end - start), nullptr, false);
    if (!is_result_line(line))
      throw std::runtime_error("--resume: line " + std::to_string(line_number) + " of '" + output.string() +
                               "' is not a result of conveyor run");
    inputs.insert(line["input"].get<std::string>());
    start = end + 1;
  }
  if (complete < text.size()) {
    fs::resize_file(output, complete, ec);
    if (ec)
      throw std::runtime_error("--resume: cannot cut the unfinished last line of '" + output.string() +
                               "': " + ec.message());
    std::fprintf(stderr, "note: the last line of '%s' was cut short (an interrupted write): it runs again\n",
                 output.c_str());
  }
  return inputs;
}

}  // namespace conveyor::cli
