#include <stdexcept>
#include <string>

#include "conveyor/runtime/pipeline_spec.hpp"

namespace conveyor {

std::vector<int> BatchSpec::run_sizes() const {
  if (max_size < 1)
    throw std::invalid_argument("batch max_size must be at least 1, got " + std::to_string(max_size));
  if (max_delay.count() < 0)
    throw std::invalid_argument("batch max_delay must not be negative, got " +
                                std::to_string(max_delay.count()) + " µs");
  if (sizes.empty()) {
    std::vector<int> powers;
    for (int size = 1; size < max_size; size *= 2) powers.push_back(size);
    powers.push_back(max_size);
    return powers;
  }
  const auto listed = [&] {
    std::string text;
    for (const int size : sizes) text += (text.empty() ? "" : ", ") + std::to_string(size);
    return "[" + text + "]";
  };
  if (sizes.front() != 1)
    throw std::invalid_argument("batch sizes " + listed() + " must start at 1 (a request may come alone)");
  for (std::size_t i = 1; i < sizes.size(); ++i)
    if (sizes[i] <= sizes[i - 1])
      throw std::invalid_argument("batch sizes " + listed() + " must be ascending");
  if (sizes.back() != max_size)
    throw std::invalid_argument("batch sizes " + listed() + " must end at max_size " +
                                std::to_string(max_size));
  return sizes;
}

}  // namespace conveyor
