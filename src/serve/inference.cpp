#include "serve/inference.hpp"

namespace conveyor::serve {

int http_status(Failure failure) {
  switch (failure) {
    case Failure::kBadRequest: return 400;
    case Failure::kNotFound: return 404;
    case Failure::kOverloaded: return 429;
    case Failure::kUnavailable: return 503;
    case Failure::kTimeout: return 504;
    case Failure::kInternal: return 500;
  }
  return 500;
}

int64_t checked_elements(const std::vector<int64_t>& shape, const std::string& context, const RequestLimits& limits) {
  const std::string too_many = context + ": shape has more than the server's max_tensor_elements (" +
                               std::to_string(limits.max_tensor_elements) + ")";
  int64_t elements = 1;
  for (const int64_t dim : shape) {
    if (dim < 0) throw ServeError(Failure::kBadRequest, context + ": shape holds " + std::to_string(dim) + ", not a size >= 0");
    if (dim != 0 && elements > limits.max_tensor_elements / dim) throw ServeError(Failure::kBadRequest, too_many);
    elements *= dim;
  }
  if (elements > limits.max_tensor_elements) throw ServeError(Failure::kBadRequest, too_many);
  return elements;
}

}  // namespace conveyor::serve
