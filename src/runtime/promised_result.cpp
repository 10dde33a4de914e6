#include "conveyor/runtime/promised_result.hpp"

#include <memory>

namespace conveyor {

std::pair<ResultCallback, std::future<Result>> promised_result() {
  auto promise = std::make_shared<std::promise<Result>>();
  std::future<Result> future = promise->get_future();
  return {[promise](Result&& result) { promise->set_value(std::move(result)); }, std::move(future)};
}

}  // namespace conveyor
