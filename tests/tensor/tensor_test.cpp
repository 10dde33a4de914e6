#include "conveyor/tensor/tensor.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>

#include "conveyor/tensor/npy.hpp"

namespace conveyor {
namespace {

TEST(Tensor, IsZeroFilledAlignedAndSharesItsBuffer) {
  Tensor t(DType::kFloat32, {2, 3});
  EXPECT_EQ(t.numel(), 6);
  EXPECT_EQ(t.nbytes(), 24u);
  EXPECT_EQ(reinterpret_cast<std::uintptr_t>(t.raw()) % Tensor::kAlignment, 0u);
  for (float v : t.values<float>()) EXPECT_EQ(v, 0.0f);
  Tensor alias = t;
  alias.data<float>()[4] = 5;
  EXPECT_EQ(t.data<float>()[4], 5);
  Tensor copy = t.clone();
  copy.data<float>()[4] = 6;
  EXPECT_EQ(t.data<float>()[4], 5);
}

TEST(Tensor, WrongDtypeAccessIsAnError) {
  Tensor t(DType::kInt64, {4});
  EXPECT_THROW(t.data<float>(), TensorError);
  try {
    t.data<float>();
  } catch (const TensorError& e) {
    EXPECT_STREQ(e.what(), "tensor is int64[4], accessed as float32");
  }
}

TEST(Tensor, ReshapeKeepsElementCount) {
  Tensor t = Tensor::from<int32_t>({2, 2}, std::vector<int32_t>{1, 2, 3, 4});
  EXPECT_EQ(t.reshaped({4}).data<int32_t>()[3], 4);
  EXPECT_THROW(t.reshaped({3}), TensorError);
  EXPECT_THROW(Tensor(DType::kFloat32, {-1, 2}), std::invalid_argument);
  EXPECT_THROW(Tensor(DType::kFloat32, {1 << 20, 1 << 20, 1 << 20}), std::exception);
}

class NpyRoundTrip : public ::testing::TestWithParam<DType> {};

TEST_P(NpyRoundTrip, WritesAndReadsBack) {
  Tensor t(GetParam(), {2, 3, 1});
  auto* bytes = static_cast<uint8_t*>(t.raw());
  for (std::size_t i = 0; i < t.nbytes(); ++i) bytes[i] = static_cast<uint8_t>(GetParam() == DType::kBool ? i % 2 : i * 7);
  const std::string path = ::testing::TempDir() + "/round_trip_" + std::string(dtype_name(GetParam())) + ".npy";
  write_npy(path, t);
  Tensor back = read_npy(path);
  EXPECT_EQ(back.dtype(), t.dtype());
  EXPECT_EQ(back.shape(), t.shape());
  EXPECT_EQ(0, std::memcmp(back.raw(), t.raw(), t.nbytes()));
}

TEST(Npy, InfoReadsTheHeaderAloneOfAFileWhoseDataIsCut) {
  const std::string path = ::testing::TempDir() + "/info_cut.npy";
  write_npy(path, Tensor(DType::kInt64, {2, 5}));
  std::filesystem::resize_file(path, std::filesystem::file_size(path) - 8);  // data no longer complete
  const NpyInfo info = read_npy_info(path);
  EXPECT_EQ(info.dtype, DType::kInt64);
  EXPECT_EQ(info.shape, (Shape{2, 5}));
  EXPECT_THROW(read_npy(path), TensorError);  // the whole read still sees the cut

  const std::string not_npy = ::testing::TempDir() + "/info_not.npy";
  std::ofstream(not_npy, std::ios::binary) << "tiny";
  EXPECT_THROW(read_npy_info(not_npy), TensorError);
  EXPECT_THROW(read_npy_info(::testing::TempDir() + "/info_missing.npy"), TensorError);
}

INSTANTIATE_TEST_SUITE_P(AllDtypes, NpyRoundTrip,
                         ::testing::Values(DType::kFloat32, DType::kFloat64, DType::kInt64, DType::kInt32,
                                           DType::kInt8, DType::kUInt8, DType::kBool));

TEST(Npy, ReadsWhatNumpyWrites) {
  // np.save of np.arange(3, dtype='<i8').reshape(1, 3): header bytes as numpy writes them.
  std::string header = "{'descr': '<i8', 'fortran_order': False, 'shape': (1, 3), }";
  header.append(128 - 10 - header.size() - 1, ' ');  // numpy pads magic+header to 64-byte multiples
  header += '\n';
  std::string file = std::string("\x93NUMPY\x01\x00", 8);
  file += static_cast<char>(header.size());
  file += '\0';
  file += header;
  for (int64_t v : {0, 1, 2}) file.append(reinterpret_cast<const char*>(&v), 8);
  Tensor t = parse_npy(file.data(), file.size(), "arange.npy");
  EXPECT_EQ(t.shape(), (Shape{1, 3}));
  EXPECT_EQ(t.data<int64_t>()[2], 2);
}

TEST(Npy, BadFilesGiveErrorsNamingTheFile) {
  const std::string junk = "not a numpy file at all";
  try {
    parse_npy(junk.data(), junk.size(), "x.npy");
    FAIL();
  } catch (const TensorError& e) {
    EXPECT_STREQ(e.what(), "x.npy: not a .npy file (bad magic)");
  }
  Tensor t(DType::kFloat32, {10});
  const std::string path = ::testing::TempDir() + "/truncated.npy";
  write_npy(path, t);
  std::filesystem::resize_file(path, std::filesystem::file_size(path) - 8);
  EXPECT_THROW(read_npy(path), TensorError);
  EXPECT_THROW(read_npy(::testing::TempDir() + "/does_not_exist.npy"), TensorError);
  std::string big_endian = std::string("\x93NUMPY\x01\x00", 8) + std::string(1, 54) + '\0' +
                           "{'descr': '>f4', 'fortran_order': False, 'shape': (1,), }\n";
  EXPECT_THROW(parse_npy(big_endian.data(), big_endian.size(), "be.npy"), TensorError);
}

}  // namespace
}  // namespace conveyor
