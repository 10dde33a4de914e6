#include "serve/front_end_profile.hpp"

#include <fmt/format.h>

namespace conveyor::serve {
namespace {

plan::StageIdentity front_end_identity() {
  return {"serve.front_end", OpArgs{}, {}};
}

std::string age_text(int64_t seconds) {
  if (seconds < 120) return fmt::format("{} s", seconds);
  if (seconds < 7200) return fmt::format("{} min", seconds / 60);
  if (seconds < 172800) return fmt::format("{} h", seconds / 3600);
  return fmt::format("{} days", seconds / 86400);
}

}  // namespace

FrontEndProfile front_end_profile(const Runtime& runtime) {
  FrontEndProfile front_end;
  front_end.profile.name = kFrontEndStage;
  front_end.profile.parallel = false;
  front_end.profile.role = plan::StageProfile::Role::kFrontEnd;
  const auto stored = runtime.profiles().lookup(front_end_identity(), 1, runtime.topology().cpu_model());
  if (stored) {
    front_end.profile.by_threads[1] = stored->service_time();
    front_end.summary =
        fmt::format("front end: {:.1f} µs CPU per request ({} samples, {} old)", stored->mean() * 1e6,
                    stored->count(), age_text(plan::ProfileStore::now_unix() - stored->updated()));
  } else {
    front_end.guessed = true;
    front_end.profile.by_threads[1] = plan::ServiceTime::deterministic(kGuessedFrontEndSeconds);
    front_end.summary = fmt::format(
        "front end: no stored profile on this CPU; planned at a guessed {:.0f} µs CPU per request (the "
        "server "
        "stores what it measures when it stops)",
        kGuessedFrontEndSeconds * 1e6);
  }
  return front_end;
}

void record_front_end(Runtime& runtime, const std::vector<double>& samples) {
  if (samples.empty()) return;
  runtime.profiles().record(front_end_identity(), kFrontEndStage, 1, samples, runtime.topology().cpu_model());
}

}  // namespace conveyor::serve
