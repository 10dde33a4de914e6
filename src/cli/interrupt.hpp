#pragma once
#include <atomic>

namespace conveyor::cli {

// SIGINT / SIGTERM while a command works through its inputs: the handler only counts them (an atomic
// store, async-signal-safe); the command polls. The first asks it to stop admitting and finish what is in
// flight, the second to cancel that too; after the second the default action is back, so a third ends
// the process at once.
class InterruptWatch {
 public:
  InterruptWatch();   // installs the handlers
  ~InterruptWatch();  // puts the previous ones back, unless a signal came (the command is then ending)
  InterruptWatch(const InterruptWatch&) = delete;
  InterruptWatch& operator=(const InterruptWatch&) = delete;

  // 0: none yet; 1: stop admitting; 2 or more: cancel what is in flight. A LoadSpec::stop.
  const std::atomic<int>& level() const;
  int signals() const { return level().load(std::memory_order_relaxed); }
  // The documented exit status for the first signal: 130 (SIGINT) or 143 (SIGTERM); 0 when none came.
  int exit_status() const;
  const char* signal_name() const;  // "SIGINT", "SIGTERM"; "" when none came
};

}  // namespace conveyor::cli
