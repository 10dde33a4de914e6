#pragma once
#include <sys/wait.h>

#include <cstdio>
#include <string>

namespace conveyor::testing {

struct CommandOutput {
  int status;        // exit status; -1 when killed by a signal
  std::string text;  // what it printed
};

// Runs a shell command line and captures its standard output (add " 2>&1" for stderr too).
inline CommandOutput run_command(const std::string& command) {
  FILE* pipe = popen(command.c_str(), "r");
  if (!pipe) return {-1, "popen failed: " + command};
  std::string text;
  char buffer[4096];
  while (std::size_t n = fread(buffer, 1, sizeof buffer, pipe)) text.append(buffer, n);
  const int status = pclose(pipe);
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, text};
}

}  // namespace conveyor::testing
