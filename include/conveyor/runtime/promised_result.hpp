#pragma once
#include <future>
#include <utility>

#include "conveyor/runtime/pipeline.hpp"

namespace conveyor {

// A result callback that fulfils the returned future: the future forms of submit() and try_submit().
std::pair<ResultCallback, std::future<Result>> promised_result();

}  // namespace conveyor
