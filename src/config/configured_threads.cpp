#include <algorithm>

#include "conveyor/config/pipeline_config.hpp"

namespace conveyor {

int configured_threads(const StageConfig& stage) {
  if (stage.threads > 0) return stage.threads;
  switch (stage.cores.kind) {
    case CoreSpec::Kind::kCount:
      return stage.cores.per_worker;
    case CoreSpec::Kind::kIds:
      return std::max<int>(1, static_cast<int>(stage.cores.ids.size()) / stage.workers);
    case CoreSpec::Kind::kUnpinned:
      return 1;
  }
  return 1;
}

}  // namespace conveyor
