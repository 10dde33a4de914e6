#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>

#include "conveyor/tensor/npy.hpp"

namespace conveyor {
namespace {

using ::testing::HasSubstr;

// A version 1 .npy file with this header text and `data_bytes` zero bytes of data.
std::string npy_file(const std::string& header, std::size_t data_bytes = 256) {
  std::string padded = header;
  padded.append((64 - (10 + padded.size() + 1) % 64) % 64, ' ');
  padded += '\n';
  std::string file = std::string("\x93NUMPY\x01\x00", 8);
  file += static_cast<char>(padded.size() & 0xff);
  file += static_cast<char>(padded.size() >> 8);
  return file + padded + std::string(data_bytes, '\0');
}

Shape shape_of(const std::string& header) {
  const std::string file = npy_file(header);
  return parse_npy(file.data(), file.size(), "ok.npy").shape();
}

std::string error_of(const std::string& header) {
  const std::string file = npy_file(header);
  try {
    const Tensor t = parse_npy(file.data(), file.size(), "bad.npy");
    ADD_FAILURE() << "read as " << shape_str(t.shape()) << ": " << header;
  } catch (const TensorError& error) {
    return error.what();
  }
  return "";
}

TEST(NpyHeader, AcceptsTheWaysNumpyWritesShapes) {
  EXPECT_EQ(shape_of("{'descr': '<f4', 'fortran_order': False, 'shape': (1, 64), }"), (Shape{1, 64}));
  EXPECT_EQ(shape_of("{'descr': '<f4', 'fortran_order': False, 'shape': (1,64,), }"), (Shape{1, 64}));
  EXPECT_EQ(shape_of("{'descr': '<f4', 'fortran_order': False, 'shape': (64,)}"), (Shape{64}));
  EXPECT_EQ(shape_of("{'descr': '<f4', 'fortran_order': False, 'shape': (), }"), (Shape{}));
  EXPECT_EQ(shape_of("{'shape': (2, 0), \"descr\": \"<f4\", 'fortran_order': False}"), (Shape{2, 0}));
}

TEST(NpyHeader, ShapeMustBeATupleOfNonNegativeIntegers) {
  const std::string start = "{'descr': '<f4', 'fortran_order': False, 'shape': ";
  for (const std::string shape : {"(-1, 64)", "(1, -64)", "(1x, 64)", "(1.0, 64)", "(abc)", "(+1, 64)",
                                  "(1,, 64)", "(,)", "[1, 64]", "(1 64)", "1"}) {
    EXPECT_EQ(error_of(start + shape + ", }"),
              "bad.npy: .npy header: 'shape' must be a tuple of non-negative integers like (1, 64), got '" +
                  shape + "'");
  }
  EXPECT_THAT(error_of(start + "(1, 99999999999999999999), }"),
              HasSubstr("'shape' dimension 99999999999999999999 is too large"));
  EXPECT_THAT(error_of(start + "(1, 64"), HasSubstr("'shape' must be a tuple"));
}

TEST(NpyHeader, OnlyTheThreeKeysEachOnce) {
  // A 'shape' inside another key's string value is text, not the shape.
  EXPECT_EQ(
      error_of("{'note': \"'shape': (9,)\", 'descr': '<f4', 'fortran_order': False, 'shape': (1, 64), }"),
      "bad.npy: .npy header: unexpected key 'note' (a .npy header holds 'descr', 'fortran_order' and "
      "'shape')");
  EXPECT_EQ(error_of("{'descr': '<f4', 'fortran_order': False, 'shape': (3, 3), 'shape': (1, 64), }"),
            "bad.npy: .npy header: 'shape' appears twice");
  EXPECT_EQ(error_of("{'fortran_order': False, 'shape': (1, 64), }"), "bad.npy: .npy header has no 'descr'");
  EXPECT_EQ(error_of("{'descr': '<f4', 'shape': (1, 64), }"), "bad.npy: .npy header has no 'fortran_order'");
  EXPECT_EQ(error_of("{'descr': '<f4', 'fortran_order': False, }"), "bad.npy: .npy header has no 'shape'");
}

TEST(NpyHeader, MalformedValuesAreCalledMalformedNotMissing) {
  EXPECT_EQ(error_of("{'descr': '<f4', 'fortran_order': maybe, 'shape': (1, 64), }"),
            "bad.npy: .npy header: 'fortran_order' must be True or False, got 'maybe'");
  EXPECT_EQ(
      error_of("{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (1, 64), }"),
      "bad.npy: .npy header: 'descr' must be a quoted dtype like '<f4', got '[('a', '<f4')]' (structured "
      "dtypes are not supported)");
  EXPECT_EQ(error_of("{'descr': <f4, 'fortran_order': False, 'shape': (1, 64), }"),
            "bad.npy: .npy header: 'descr' must be a quoted dtype like '<f4', got '<f4'");
}

TEST(NpyHeader, WholeHeaderShapeErrors) {
  EXPECT_EQ(error_of(""), "bad.npy: .npy header is empty");
  EXPECT_EQ(
      error_of("this is not a dict at all"),
      "bad.npy: .npy header: expected a dict like {'descr': '<f4', ...}, got 'this is not a dict at all'");
  EXPECT_EQ(
      error_of("{'descr': '<f4' 'fortran_order': False, 'shape': (1, 64), }"),
      "bad.npy: .npy header: expected ',' or '}' after the value of 'descr', got ''fortran_order': False'");
  EXPECT_EQ(error_of("{'descr': '<f4', 'fortran_order': False, 'shape': (1, 64), } extra"),
            "bad.npy: .npy header: unexpected text after the closing '}': 'extra'");
  EXPECT_EQ(error_of("{'descr: '<f4'}"), "bad.npy: .npy header: expected ':' after 'descr: '");
  EXPECT_EQ(error_of(std::string("{'descr': '<f4\xff', 'fortran_order': False, 'shape': (1, 64), }")),
            "bad.npy: .npy header: byte 0xff at offset 14 is not ASCII text");
}

}  // namespace
}  // namespace conveyor
