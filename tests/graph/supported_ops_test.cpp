// The operator table `conveyor infer --list-ops` prints is the importer's: the same operators, each once.
#include "conveyor/graph/supported_ops.hpp"

#include <gtest/gtest.h>

#include <algorithm>

#include "conveyor/graph/shape_inference.hpp"

namespace conveyor {
namespace {

TEST(SupportedOps, ListsExactlyTheOperatorsTheImporterTypes) {
  std::vector<std::string> listed = supported_onnx_ops();
  ASSERT_TRUE(std::is_sorted(listed.begin(), listed.end()));
  EXPECT_EQ(std::adjacent_find(listed.begin(), listed.end()), listed.end()) << "an operator listed twice";
  // Constant nodes become constants at import; every other listed operator is one shape inference types.
  listed.erase(std::remove(listed.begin(), listed.end(), "Constant"), listed.end());
  EXPECT_EQ(listed, known_ops());
}

TEST(SupportedOps, EveryOperatorSaysWhichAttributesItReads) {
  for (const SupportedOp& op : supported_ops()) EXPECT_FALSE(op.attributes.empty()) << op.op;
}

}  // namespace
}  // namespace conveyor
