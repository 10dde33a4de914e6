#include "op_test_support.hpp"

namespace conveyor {
namespace {

using test::json_args;

const std::vector<std::string> kOps = {"image.decode", "image.preprocess", "text.wordpiece", "post.softmax",
                                       "post.topk",    "post.argmax",      "post.threshold"};

// The smallest valid args of each op.
OpArgs minimal_args(const std::string& op) {
  if (op == "image.preprocess") return json_args(R"({"size": 224})");
  if (op == "text.wordpiece")
    return OpArgs().set("vocab", std::string(CONVEYOR_SOURCE_DIR) + "/examples/data/vocab.txt");
  if (op == "post.threshold") return json_args(R"({"threshold": 0.5})");
  return OpArgs();
}

TEST(BuiltinOperators, RegistersEveryOperatorWithASummary) {
  std::vector<std::string> names;
  for (const auto& [name, summary] : builtin_operators().list()) {
    names.push_back(name);
    EXPECT_FALSE(summary.empty()) << name;
  }
  for (const auto& op : kOps) EXPECT_NE(std::find(names.begin(), names.end(), op), names.end()) << op;
}

TEST(BuiltinOperators, UnknownOpListsTheKnownOnes) {
  try {
    builtin_operators().build("image.decod", OpArgs(), {}).factory;
    FAIL() << "built an unknown op";
  } catch (const std::invalid_argument& e) {
    const std::string message = e.what();
    EXPECT_NE(message.find("image.decod'"), std::string::npos) << message;
    for (const auto& op : kOps)
      EXPECT_NE(message.find(op), std::string::npos) << op << " missing from: " << message;
  }
}

TEST(BuiltinOperators, EveryOpBuildsFromMinimalArgsAndNullArgsWhereNoneAreRequired) {
  for (const auto& op : kOps) {
    EXPECT_NO_THROW(builtin_operators().build(op, minimal_args(op), {})) << op;
    if (minimal_args(op).size() == 0) {
      EXPECT_NO_THROW(builtin_operators().build(op, OpArgs(nullptr), {})) << op;
    }
  }
}

TEST(BuiltinOperators, EveryOpRejectsUnknownKeysAndNonMappingArgs) {
  for (const auto& op : kOps) {
    OpArgs args = minimal_args(op);
    args.set("bogus_key", 1);
    EXPECT_EQ(test::arg_error_key(op, args), "bogus_key") << op;
    const std::string message = test::arg_error_message(op, args);
    EXPECT_NE(message.find(op), std::string::npos) << message;
    EXPECT_NE(message.find("accepted:"), std::string::npos) << message;
    EXPECT_EQ(test::arg_error_key(op, json_args("[1, 2]")), "") << op;
  }
}

TEST(BuiltinOperators, FactoriesGiveIndependentOperatorsSharingSetup) {
  const auto factory = builtin_operators().build("post.argmax", OpArgs(), {}).factory;
  const auto a = factory(WorkerContext{"post", 0, {}, 1});
  const auto b = factory(WorkerContext{"post", 1, {}, 1});
  EXPECT_NE(a.get(), b.get());
  Sample sample;
  sample.tensors["probs"] = Tensor::from<float>({3}, std::vector<float>{0.1F, 0.8F, 0.1F});
  b->process(sample);
  EXPECT_EQ(sample.at("class").values<int64_t>()[0], 1);
}

}  // namespace
}  // namespace conveyor
