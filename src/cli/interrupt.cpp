#include "cli/interrupt.hpp"

#include <csignal>

#include "cli/exit_status.hpp"

namespace conveyor::cli {
namespace {

std::atomic<int> g_count{0};
std::atomic<int> g_first{0};  // the first signal's number
static_assert(std::atomic<int>::is_always_lock_free, "the handler's stores must be async-signal-safe");

struct sigaction g_previous_int, g_previous_term;

extern "C" void on_interrupt(int signal_number) {
  int none = 0;
  g_first.compare_exchange_strong(none, signal_number);
  if (g_count.fetch_add(1) + 1 >= 2) {
    struct sigaction fallback {};  // sigaction is async-signal-safe
    fallback.sa_handler = SIG_DFL;
    sigemptyset(&fallback.sa_mask);
    sigaction(SIGINT, &fallback, nullptr);
    sigaction(SIGTERM, &fallback, nullptr);
  }
}

}  // namespace

InterruptWatch::InterruptWatch() {
  g_count = 0;
  g_first = 0;
  struct sigaction action {};
  action.sa_handler = on_interrupt;
  sigemptyset(&action.sa_mask);
  action.sa_flags = SA_RESTART;  // the other threads' system calls carry on
  sigaction(SIGINT, &action, &g_previous_int);
  sigaction(SIGTERM, &action, &g_previous_term);
}

InterruptWatch::~InterruptWatch() {
  // Once a signal came, the process is on its way out with 130/143: a second one arriving now, after the
  // work, still only counts (then the default action is back), rather than ending it by the signal.
  if (g_count.load() > 0) return;
  sigaction(SIGINT, &g_previous_int, nullptr);
  sigaction(SIGTERM, &g_previous_term, nullptr);
}

const std::atomic<int>& InterruptWatch::level() const {
  return g_count;
}

int InterruptWatch::exit_status() const {
  switch (g_first.load()) {
    case SIGINT:
      return kExitSigint;
    case SIGTERM:
      return kExitSigterm;
    default:
      return 0;
  }
}

const char* InterruptWatch::signal_name() const {
  switch (g_first.load()) {
    case SIGINT:
      return "SIGINT";
    case SIGTERM:
      return "SIGTERM";
    default:
      return "";
  }
}

}  // namespace conveyor::cli
