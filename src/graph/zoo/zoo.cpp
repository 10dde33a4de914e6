#include "graph/zoo/zoo_model.hpp"

#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/io/zero_copy_stream_impl_lite.h>
#include <onnx/checker.h>
#include <onnx/shape_inference/implementation.h>

#include <fstream>
#include <functional>
#include <stdexcept>

#include "graph/zoo/architectures.hpp"

namespace conveyor::zoo {
namespace {

using Builder = std::function<void(onnx::GraphProto&, const ZooOptions&)>;

struct Entry {
  std::string name;
  bool is_image_model;
  Builder build;
};

const std::vector<Entry>& registry() {
  static const std::vector<Entry> entries = {
      {"resnet18", true, [](onnx::GraphProto& g, const ZooOptions& o) { detail::build_resnet(g, o, 18); }},
      {"resnet50", true, [](onnx::GraphProto& g, const ZooOptions& o) { detail::build_resnet(g, o, 50); }},
      {"mobilenet_v2", true, detail::build_mobilenet_v2},
      {"bert", false, detail::build_bert},
      {"bert_encoder", false, detail::build_bert_encoder},
      {"mlp", false, detail::build_mlp},
      {"tinycnn", true, detail::build_tinycnn},
  };
  return entries;
}

std::string known_names() {
  std::string list;
  for (const Entry& entry : registry()) list += (list.empty() ? "" : ", ") + entry.name;
  return list;
}

void validate(const Entry& entry, const ZooOptions& options) {
  const std::string where = "zoo: model '" + entry.name + "': ";
  if (options.batch < 1)
    throw std::invalid_argument(where + "batch must be >= 1, got " + std::to_string(options.batch));
  if (options.opset < 13 || options.opset > 17)
    throw std::invalid_argument(where + "opset must be in 13..17, got " + std::to_string(options.opset));
  if (entry.is_image_model && options.image_size < 32)
    throw std::invalid_argument(where + "image_size must be >= 32, got " +
                                std::to_string(options.image_size));
}

}  // namespace

std::vector<std::string> names() {
  std::vector<std::string> result;
  for (const Entry& entry : registry()) result.push_back(entry.name);
  return result;
}

onnx::ModelProto build(const std::string& name, const ZooOptions& options) {
  const Entry* found = nullptr;
  for (const Entry& entry : registry())
    if (entry.name == name) found = &entry;
  if (found == nullptr)
    throw std::invalid_argument("zoo: unknown model '" + name + "'; known models: " + known_names());
  validate(*found, options);

  onnx::ModelProto model;
  model.set_ir_version(options.opset <= 14 ? 7 : 8);  // IR 8 came with opset 15
  model.set_producer_name("conveyor.zoo");
  model.set_producer_version("1");
  model.set_doc_string(name + ", random weights, seed " + std::to_string(options.seed));
  onnx::OperatorSetIdProto* opset = model.add_opset_import();
  opset->set_domain("");
  opset->set_version(options.opset);
  found->build(*model.mutable_graph(), options);
  return model;
}

void check(const onnx::ModelProto& model) {
  const std::string what = "zoo: model '" + model.graph().name() + "' ";
  try {
    onnx::checker::check_model(model);
  } catch (const std::exception& error) {
    throw std::runtime_error(what + "fails onnx::checker: " + error.what());
  }
  try {
    onnx::ModelProto inferred = model;
    onnx::ShapeInferenceOptions strict(/*check_type=*/true, /*error_mode=*/1, /*data_prop=*/false);
    onnx::shape_inference::InferShapes(inferred, onnx::OpSchemaRegistry::Instance(), strict);
  } catch (const std::exception& error) {
    throw std::runtime_error(what + "fails shape inference: " + error.what());
  }
}

std::string serialize(const std::string& name, const ZooOptions& options) {
  const onnx::ModelProto model = build(name, options);
  check(model);
  std::string bytes;
  {
    google::protobuf::io::StringOutputStream string_stream(&bytes);
    google::protobuf::io::CodedOutputStream coded(&string_stream);
    coded.SetSerializationDeterministic(true);
    if (!model.SerializeToCodedStream(&coded))
      throw std::runtime_error("zoo: model '" + name + "' could not be serialised");
  }
  return bytes;
}

void write(const std::string& name, const ZooOptions& options, const std::string& path) {
  const std::string bytes = serialize(name, options);
  std::ofstream file(path, std::ios::binary | std::ios::trunc);
  if (!file) throw std::runtime_error("zoo: cannot open '" + path + "' for writing");
  file.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  if (!file)
    throw std::runtime_error("zoo: failed writing " + std::to_string(bytes.size()) + " bytes to '" + path +
                             "'");
}

}  // namespace conveyor::zoo
