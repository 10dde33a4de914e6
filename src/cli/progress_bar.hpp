#pragma once
#include <cstdint>

#include "conveyor/runtime/sample.hpp"

namespace conveyor::cli {

// A one-line progress bar with rate and ETA on stderr; silent when stderr is not a terminal.
class ProgressBar {
 public:
  explicit ProgressBar(const char* label);
  void update(uint64_t done, uint64_t total);
  void finish();

 private:
  const char* label_;
  bool enabled_;
  Clock::time_point start_;
  Clock::time_point last_draw_{};
  bool drawn_ = false;
};

}  // namespace conveyor::cli
