#pragma once
#include <string>

namespace conveyor::cli {

// What every conveyor command exits with (documented in each command's --help footer).
constexpr int kExitOk = 0;
constexpr int kExitError = 1;       // the command could not do its work (a bad file, a startup error)
constexpr int kExitUsage = 2;       // the command line itself is wrong: unknown command or option, bad value
constexpr int kExitSomeFailed = 3;  // run / bench: it finished, but some inputs or requests failed
constexpr int kExitSigint = 130;    // run / bench stopped by SIGINT (128 + 2), what it finished is kept
constexpr int kExitSigterm = 143;   // ... by SIGTERM (128 + 15)

// The footer lines that say so, for the command `command` ("" for conveyor itself).
std::string exit_status_footer(const std::string& command);

}  // namespace conveyor::cli
