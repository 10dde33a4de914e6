#pragma once
#include <stdexcept>
#include <string>
#include <vector>

namespace conveyor {

// Planning or predicting needs a stored profile that the profile store does not have.
class MissingProfilesError : public std::runtime_error {
 public:
  MissingProfilesError(const std::string& message, std::string pipeline_file, std::vector<std::string> stages)
      : std::runtime_error(message), pipeline_file_(std::move(pipeline_file)), stages_(std::move(stages)) {}
  const std::string& pipeline_file() const { return pipeline_file_; }  // the pipeline they belong to
  // The stages without a 1-thread profile on this CPU.
  const std::vector<std::string>& stages() const { return stages_; }

 private:
  std::string pipeline_file_;
  std::vector<std::string> stages_;
};

// A pipeline laid out as its file says needs more cores than the budget it is simulated on.
class BudgetExceededError : public std::invalid_argument {
 public:
  using std::invalid_argument::invalid_argument;
};

}  // namespace conveyor
