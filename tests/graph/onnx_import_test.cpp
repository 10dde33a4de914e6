#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "conveyor/graph/onnx_import.hpp"
#include "graph/onnx_model_builder.hpp"

namespace conveyor {
namespace {

using testing::ModelBuilder;
using testing::random_tensor;

std::string error_of(const std::string& bytes, const ImportOptions& options = {}) {
  try {
    parse_onnx(bytes.data(), bytes.size(), options);
  } catch (const GraphError& e) {
    return e.what();
  }
  return "";
}

ModelBuilder conv_model() {
  ModelBuilder b;
  b.input("x", {1, 3, 8, 8}).output("y");
  b.initializer("w", random_tensor({4, 3, 3, 3}, 1));
  b.node("Conv", {"x", "w"}, {"y"}, "conv");
  return b;
}

TEST(OnnxImport, LoadsConvWithStaticShapes) {
  const std::string bytes = conv_model().bytes();
  const Graph g = parse_onnx(bytes.data(), bytes.size());
  ASSERT_EQ(g.nodes.size(), 1u);
  EXPECT_EQ(g.nodes[0].op_type, "Conv");
  EXPECT_EQ(g.value(g.outputs[0]).shape, (Shape{1, 4, 6, 6}));
  EXPECT_EQ(g.nodes[0].attrs.get_ints("pads"), (std::vector<int64_t>{0, 0, 0, 0}));
}

TEST(OnnxImport, TruncatedFileIsAnError) {
  const std::string bytes = conv_model().bytes();
  for (std::size_t cut : {bytes.size() / 2, bytes.size() - 7, std::size_t{3}}) {
    const std::string err = error_of(bytes.substr(0, cut));
    EXPECT_FALSE(err.empty()) << "cut at " << cut;
  }
  EXPECT_NE(error_of("this is not a protobuf at all").find("<memory>"), std::string::npos);
}

TEST(OnnxImport, MissingFileNamesIt) {
  try {
    load_onnx("/nonexistent/model.onnx");
    FAIL();
  } catch (const GraphError& e) {
    EXPECT_NE(std::string(e.what()).find("/nonexistent/model.onnx"), std::string::npos);
  }
}

TEST(OnnxImport, MissingInitializerNamesNodeAndValue) {
  ModelBuilder b;
  b.input("x", {1, 3, 8, 8}).output("y");
  b.node("Conv", {"x", "conv_weight"}, {"y"}, "first_conv");
  const std::string err = error_of(b.bytes());
  EXPECT_NE(err.find("first_conv"), std::string::npos) << err;
  EXPECT_NE(err.find("conv_weight"), std::string::npos) << err;
}

TEST(OnnxImport, UnsupportedOpNamesNodeAndOp) {
  ModelBuilder b;
  b.input("x", {2, 2}).output("y");
  b.node("NonMaxSuppression", {"x"}, {"y"}, "nms_node");
  const std::string err = error_of(b.bytes());
  EXPECT_NE(err.find("nms_node"), std::string::npos) << err;
  EXPECT_NE(err.find("NonMaxSuppression"), std::string::npos) << err;
  EXPECT_NE(err.find("unsupported"), std::string::npos) << err;
}

TEST(OnnxImport, CycleIsAnError) {
  ModelBuilder b;
  b.input("x", {2, 2}).output("c");
  b.node("Add", {"x", "b"}, {"a"}, "n1");
  b.node("Relu", {"a"}, {"b"}, "n2");
  b.node("Relu", {"b"}, {"c"}, "n3");
  const std::string err = error_of(b.bytes());
  EXPECT_NE(err.find("cycle"), std::string::npos) << err;
}

TEST(OnnxImport, ValueDefinedTwiceIsAnError) {
  ModelBuilder b;
  b.input("x", {2, 2}).output("y");
  b.node("Relu", {"x"}, {"y"});
  b.node("Relu", {"x"}, {"y"});
  EXPECT_NE(error_of(b.bytes()).find("defined twice"), std::string::npos);
}

TEST(OnnxImport, RawDataSizeMismatchIsAnError) {
  ModelBuilder b = conv_model();
  b.proto().mutable_graph()->mutable_initializer(0)->mutable_raw_data()->resize(10);
  EXPECT_NE(error_of(b.bytes()).find("raw_data"), std::string::npos);
}

TEST(OnnxImport, AbsurdDimsAreRefusedWithoutAllocating) {
  ModelBuilder b = conv_model();
  auto* init = b.proto().mutable_graph()->mutable_initializer(0);
  init->clear_dims();
  for (int64_t d : {1000000, 1000000, 1000000}) init->add_dims(d);
  EXPECT_FALSE(error_of(b.bytes()).empty());
  ModelBuilder c;
  c.input("x", {1}).output("y");
  Tensor shape = Tensor::from<int64_t>({2}, std::vector<int64_t>{1 << 30, 1 << 30});
  c.initializer("s", shape);
  c.node("ConstantOfShape", {"s"}, {"y"});
  EXPECT_NE(error_of(c.bytes()).find("limit"), std::string::npos);
}

TEST(OnnxImport, UnsupportedDtypeIsAnError) {
  ModelBuilder b;
  b.input("x", {2}).output("y");
  b.proto().mutable_graph()->mutable_input(0)->mutable_type()->mutable_tensor_type()->set_elem_type(10);  // fp16
  b.node("Relu", {"x"}, {"y"});
  EXPECT_NE(error_of(b.bytes()).find("FLOAT16"), std::string::npos);
}

TEST(OnnxImport, OpsetOutOfRangeIsAnError) {
  ModelBuilder b(19);
  b.input("x", {2}).output("y");
  b.node("Relu", {"x"}, {"y"});
  EXPECT_NE(error_of(b.bytes()).find("opset 19"), std::string::npos);
}

TEST(OnnxImport, SymbolicDimsComeFromOptions) {
  ModelBuilder b;
  b.input("x", {-1, 3, 4, 4}).output("y");
  b.node("Relu", {"x"}, {"y"});
  const std::string bytes = b.bytes();
  ImportOptions options;
  options.dims["batch"] = 5;
  const Graph g = parse_onnx(bytes.data(), bytes.size(), options);
  EXPECT_EQ(g.value(g.outputs[0]).shape, (Shape{5, 3, 4, 4}));
  const Graph g1 = parse_onnx(bytes.data(), bytes.size());
  EXPECT_EQ(g1.value(g1.outputs[0]).shape, (Shape{1, 3, 4, 4}));
}

// -1 is how some converters write "unknown" (it gets the default, like a symbolic dim); below that is wrong.
TEST(OnnxImport, NegativeInputDimensionIsAnError) {
  ModelBuilder b;
  b.input("x", {1, 4}).output("y");
  b.node("Relu", {"x"}, {"y"});
  auto* dim = b.proto()
                  .mutable_graph()
                  ->mutable_input(0)
                  ->mutable_type()
                  ->mutable_tensor_type()
                  ->mutable_shape()
                  ->mutable_dim(1);
  dim->set_dim_value(-1);
  const std::string unknown = b.bytes();
  const Graph g = parse_onnx(unknown.data(), unknown.size());
  EXPECT_EQ(g.value(g.inputs[0]).shape, (Shape{1, 1}));
  dim->set_dim_value(-4);
  const std::string error = error_of(b.bytes());
  EXPECT_NE(error.find("has a negative dimension -4"), std::string::npos) << error;
}

// A misspelt dimension name would otherwise leave the real one at its default of 1 without a word.
TEST(OnnxImport, ADimNoInputHasIsAnError) {
  ModelBuilder b;
  b.input("x", {-1, 3, 4, 4}).output("y");
  b.node("Relu", {"x"}, {"y"});
  ImportOptions options;
  options.dims["bacth"] = 5;
  const std::string error = error_of(b.bytes(), options);
  EXPECT_NE(
      error.find("no graph input has a symbolic dimension 'bacth'; the symbolic dimensions are 'batch'"),
      std::string::npos)
      << error;
}

// Shape -> Gather -> Unsqueeze -> Concat -> Reshape, as exporters write flatten: folds to one Reshape.
TEST(OnnxImport, ShapeArithmeticFoldsAway) {
  ModelBuilder b(13);
  b.input("x", {-1, 3, 4, 4}).output("y");
  b.initializer("zero", Tensor::from<int64_t>({}, std::vector<int64_t>{0}));
  b.initializer("axes0", Tensor::from<int64_t>({1}, std::vector<int64_t>{0}));
  b.initializer("minus1", Tensor::from<int64_t>({1}, std::vector<int64_t>{-1}));
  b.node("Shape", {"x"}, {"s"});
  ModelBuilder::attr(b.node("Gather", {"s", "zero"}, {"n"}), "axis", int64_t{0});
  b.node("Unsqueeze", {"n", "axes0"}, {"n1"});
  ModelBuilder::attr(b.node("Concat", {"n1", "minus1"}, {"shape"}), "axis", int64_t{0});
  b.node("Reshape", {"x", "shape"}, {"y"}, "flatten");
  const std::string bytes = b.bytes();
  ImportOptions options;
  options.dims["batch"] = 2;
  const Graph g = parse_onnx(bytes.data(), bytes.size(), options);
  ASSERT_EQ(g.nodes.size(), 1u) << g.summary();
  EXPECT_EQ(g.nodes[0].name, "flatten");
  EXPECT_EQ(g.value(g.outputs[0]).shape, (Shape{2, 48}));
}

TEST(OnnxImport, FrozenInputsFeedFolding) {
  ModelBuilder b(13);
  b.input("x", {2, 6}).input("shape", {3}, DType::kInt64).output("y");
  b.node("Reshape", {"x", "shape"}, {"y"});
  const std::string bytes = b.bytes();
  EXPECT_NE(error_of(bytes).find("must be a constant"), std::string::npos);
  ImportOptions options;
  options.frozen_inputs["shape"] = Tensor::from<int64_t>({3}, std::vector<int64_t>{3, 2, 2});
  const Graph g = parse_onnx(bytes.data(), bytes.size(), options);
  EXPECT_EQ(g.inputs.size(), 1u);
  EXPECT_EQ(g.value(g.outputs[0]).shape, (Shape{3, 2, 2}));
}

TEST(OnnxImport, ExternalDataIsReadBesideTheModel) {
  const auto dir = std::filesystem::temp_directory_path() / ("conveyor_ext_" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  const Tensor w = random_tensor({4, 3, 3, 3}, 7);
  {
    std::ofstream out(dir / "weights.bin", std::ios::binary);
    out << std::string(16, 'x');  // offset 16
    out.write(static_cast<const char*>(w.raw()), static_cast<std::streamsize>(w.nbytes()));
  }
  ModelBuilder b = conv_model();
  auto* init = b.proto().mutable_graph()->mutable_initializer(0);
  init->clear_raw_data();
  init->set_data_location(onnx::TensorProto_DataLocation_EXTERNAL);
  auto add = [&](const char* k, const std::string& v) {
    auto* e = init->add_external_data();
    e->set_key(k);
    e->set_value(v);
  };
  add("location", "weights.bin");
  add("offset", "16");
  b.save((dir / "model.onnx").string());
  ImportOptions keep;
  keep.optimize = false;
  const Graph g = load_onnx((dir / "model.onnx").string(), keep);
  const Tensor& loaded = g.value(g.nodes[0].inputs[1]).constant;
  ASSERT_EQ(loaded.shape(), w.shape());
  EXPECT_EQ(std::memcmp(loaded.raw(), w.raw(), w.nbytes()), 0);

  init->mutable_external_data(0)->set_value("../weights.bin");
  b.save((dir / "escape.onnx").string());
  EXPECT_THROW(load_onnx((dir / "escape.onnx").string()), GraphError);
  std::filesystem::remove_all(dir);
}

TEST(OnnxImport, TensorProtoFilesRoundTrip) {
  const auto path = std::filesystem::temp_directory_path() / ("conveyor_tp_" + std::to_string(::getpid()) + ".pb");
  const Tensor t = random_tensor({2, 3}, 3);
  onnx::TensorProto proto;
  ModelBuilder::fill_tensor(proto, "t", t);
  std::ofstream(path, std::ios::binary) << proto.SerializeAsString();
  const Tensor back = read_tensor_proto(path.string());
  EXPECT_EQ(back.shape(), t.shape());
  EXPECT_EQ(std::memcmp(back.raw(), t.raw(), t.nbytes()), 0);
  std::filesystem::remove(path);
}

}  // namespace
}  // namespace conveyor
