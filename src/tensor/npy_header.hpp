#pragma once
#include <string>

#include "conveyor/tensor/shape.hpp"

namespace conveyor::tensor_detail {

// The Python dict literal at the start of a .npy file, e.g.
//   {'descr': '<f4', 'fortran_order': False, 'shape': (1, 64), }
struct NpyHeader {
  std::string descr;
  bool fortran_order = false;
  Shape shape;
};

// Parses a .npy header strictly: a dict holding each of 'descr' (a quoted string), 'fortran_order' (True
// or False) and 'shape' (a tuple of non-negative decimal integers, trailing comma optional) once and
// nothing else, then only whitespace. Throws TensorError "<origin>: .npy header...: <what is wrong>".
NpyHeader parse_npy_header(const std::string& text, const std::string& origin);

}  // namespace conveyor::tensor_detail
