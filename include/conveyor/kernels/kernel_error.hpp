#pragma once
#include <stdexcept>

namespace conveyor {

// A reference kernel cannot be prepared (unsupported dtype, attribute or operator) or failed while running
// (an index out of range). The message starts with the signature's `where` when one was given.
class KernelError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

}  // namespace conveyor
