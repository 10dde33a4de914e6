#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace conveyor {

using Shape = std::vector<int64_t>;

// Number of elements; 1 for a scalar (empty shape). Throws on negative dims or overflow.
int64_t shape_numel(const Shape& shape);
std::string shape_str(const Shape& shape);  // "[1, 3, 224, 224]"

}  // namespace conveyor
