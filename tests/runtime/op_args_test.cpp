#include "conveyor/runtime/op_args.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <limits>
#include <stdexcept>

namespace conveyor {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

std::string parse_error(std::string_view text) {
  try {
    OpArgs::parse_json(text);
  } catch (const std::invalid_argument& e) {
    return e.what();
  }
  return "<no error>";
}

TEST(OpArgs, StartsAsAnEmptyMapping) {
  const OpArgs args;
  EXPECT_TRUE(args.is_mapping());
  EXPECT_EQ(args.size(), 0u);
  EXPECT_TRUE(args.keys().empty());
  EXPECT_FALSE(args.has("size"));
  EXPECT_EQ(args.to_json(), "{}");
}

TEST(OpArgs, ParsesEveryKind) {
  const OpArgs args = OpArgs::parse_json(
      R"({"none": null, "flag": true, "count": -3, "scale": 0.5, "name": "pixels", "list": [1, "x"],
          "map": {"a": 1}})");
  EXPECT_TRUE(args.at("none").is_null());
  EXPECT_TRUE(args.at("flag").is_bool());
  EXPECT_TRUE(args.at("flag").as_bool());
  EXPECT_TRUE(args.at("count").is_integer());
  EXPECT_TRUE(args.at("count").is_number());
  EXPECT_EQ(args.at("count").as_int64(), -3);
  EXPECT_DOUBLE_EQ(args.at("count").as_double(), -3.0);  // an integer reads as a number too
  EXPECT_FALSE(args.at("scale").is_integer());
  EXPECT_TRUE(args.at("scale").is_number());
  EXPECT_DOUBLE_EQ(args.at("scale").as_double(), 0.5);
  EXPECT_EQ(args.at("name").as_string(), "pixels");
  ASSERT_TRUE(args.at("list").is_list());
  EXPECT_EQ(args.at("list").size(), 2u);
  EXPECT_EQ(args.at("list").at(1).as_string(), "x");
  EXPECT_TRUE(args.at("map").is_mapping());
  EXPECT_EQ(args.at("map").at("a").as_int64(), 1);
  EXPECT_EQ(args.keys(), (std::vector<std::string>{"count", "flag", "list", "map", "name", "none", "scale"}));
}

TEST(OpArgs, Int64IfFitsTakesOnlyIntegersThatFit) {
  const OpArgs args = OpArgs::parse_json(R"({"small": -3, "big": 18446744073709551615, "half": 0.5, "text": "7"})");
  EXPECT_EQ(args.at("small").int64_if_fits(), std::optional<int64_t>(-3));
  EXPECT_EQ(args.at("big").int64_if_fits(), std::nullopt);
  EXPECT_THROW(args.at("big").as_int64(), std::out_of_range);
  EXPECT_EQ(args.at("half").int64_if_fits(), std::nullopt);
  EXPECT_EQ(args.at("text").int64_if_fits(), std::nullopt);
}

TEST(OpArgs, ParseErrorsSayWhere) {
  const std::string error = parse_error("{\"size\": [224,\n 224}");
  EXPECT_THAT(error, HasSubstr("not valid JSON"));
  EXPECT_THAT(error, HasSubstr("line 2, column 5"));
  EXPECT_THAT(error, Not(HasSubstr("json.exception")));
  EXPECT_THAT(parse_error(""), HasSubstr("line 1, column 1"));
  EXPECT_THAT(parse_error("{} x"), HasSubstr("line 1, column 4"));
}

TEST(OpArgs, SetsEveryKindAndReadsItBack) {
  OpArgs args;
  args.set("input", "image")
      .set("output", std::string("pixels"))
      .set("scale", 1.0 / 255)
      .set("size", 224)
      .set("limit", int64_t{1} << 40)
      .set("rgb", false)
      .set("mean", std::vector<double>{0.485, 0.456, 0.406})
      .set("dims", std::vector<int64_t>{3, 4})
      .set("names", std::vector<std::string>{"a", "b"})
      .set("nested", OpArgs().set("k", 1))
      .set("none", OpArgs(nullptr));
  EXPECT_EQ(args.at("input").as_string(), "image");
  EXPECT_EQ(args.at("output").as_string(), "pixels");
  EXPECT_DOUBLE_EQ(args.at("scale").as_double(), 1.0 / 255);
  EXPECT_EQ(args.at("size").as_int64(), 224);
  EXPECT_EQ(args.at("limit").as_int64(), int64_t{1} << 40);
  EXPECT_FALSE(args.at("rgb").as_bool());
  EXPECT_DOUBLE_EQ(args.at("mean").at(2).as_double(), 0.406);
  EXPECT_TRUE(args.at("dims").at(0).is_integer());
  EXPECT_EQ(args.at("names").at(1).as_string(), "b");
  EXPECT_EQ(args.at("nested").at("k").as_int64(), 1);
  EXPECT_TRUE(args.at("none").is_null());
  args.set("size", 256);  // replaces
  EXPECT_EQ(args.at("size").as_int64(), 256);
  EXPECT_EQ(OpArgs(std::vector<OpArgs>{OpArgs(1), OpArgs("x"), OpArgs(true)}).to_json(), R"([1,"x",true])");
}

TEST(OpArgs, NullBecomesAMappingOnSet) {
  OpArgs args(nullptr);
  args.set("k", 1);
  EXPECT_EQ(args.to_json(), R"({"k":1})");
}

TEST(OpArgs, WrongKindAndMissingEntriesThrowShowingTheValue) {
  const OpArgs args = OpArgs::parse_json(R"({"name": "x", "list": [1]})");
  try {
    args.at("name").as_int64();
    FAIL() << "no error";
  } catch (const std::invalid_argument& e) {
    EXPECT_THAT(e.what(), HasSubstr(R"("x" is not an integer)"));
  }
  EXPECT_THROW(args.at("list").as_string(), std::invalid_argument);
  EXPECT_THROW(args.at("name").size(), std::invalid_argument);
  EXPECT_THROW(args.at(0), std::invalid_argument);
  EXPECT_THROW(args.at("list").keys(), std::invalid_argument);
  EXPECT_THROW(OpArgs(5).set("k", 1), std::invalid_argument);
  try {
    args.at("size");
    FAIL() << "no error";
  } catch (const std::out_of_range& e) {
    EXPECT_THAT(e.what(), HasSubstr("no key 'size'"));
  }
  EXPECT_THROW(args.at("list").at(1), std::out_of_range);
  EXPECT_FALSE(OpArgs(5).has("k"));
}

TEST(OpArgs, AnIntegerTooLargeForInt64IsOutOfRange) {
  const OpArgs big = OpArgs::parse_json("18446744073709551615");
  EXPECT_TRUE(big.is_integer());
  EXPECT_THROW(big.as_int64(), std::out_of_range);
  EXPECT_EQ(OpArgs::parse_json("9223372036854775807").as_int64(), std::numeric_limits<int64_t>::max());
}

TEST(OpArgs, EqualityComparesContent) {
  const OpArgs a = OpArgs::parse_json(R"({"b": [1, 2], "a": "x"})");
  OpArgs b;
  b.set("a", "x").set("b", std::vector<int64_t>{1, 2});
  EXPECT_EQ(a, b);
  EXPECT_EQ(OpArgs(1), OpArgs(1.0));  // numbers by value
  EXPECT_NE(a, OpArgs());
  EXPECT_NE(OpArgs("1"), OpArgs(1));
  b.set("a", "y");
  EXPECT_NE(a, b);
}

TEST(OpArgs, ToJsonIsCompactSortedAndStable) {
  const OpArgs a = OpArgs::parse_json(R"({ "z": 1, "a": {"y": [1.5, "s"], "b": null}, "m": true })");
  const std::string expected = R"({"a":{"b":null,"y":[1.5,"s"]},"m":true,"z":1})";
  EXPECT_EQ(a.to_json(), expected);
  EXPECT_EQ(OpArgs::parse_json(a.to_json()).to_json(), expected);
  OpArgs built;
  built.set("m", true).set("z", 1).set(
      "a", OpArgs().set("y", std::vector<OpArgs>{OpArgs(1.5), OpArgs("s")}).set("b", OpArgs(nullptr)));
  EXPECT_EQ(built.to_json(), expected);
}

TEST(OpArgs, ToJsonReplacesBytesThatAreNotUtf8) {
  EXPECT_EQ(OpArgs(std::string("a\xff")).to_json(), "\"a\xEF\xBF\xBD\"");
}

TEST(OpArgs, CopiesStayIndependentAfterSet) {
  OpArgs original;
  original.set("size", 224).set("nested", OpArgs().set("k", "v"));
  OpArgs copy = original;
  copy.set("size", 256);
  EXPECT_EQ(original.at("size").as_int64(), 224);
  EXPECT_EQ(copy.at("size").as_int64(), 256);

  OpArgs nested = original.at("nested");  // shares the original's value
  nested.set("k", "changed");
  EXPECT_EQ(original.at("nested").at("k").as_string(), "v");
  EXPECT_EQ(nested.at("k").as_string(), "changed");

  original.set("size", 1);
  EXPECT_EQ(copy.at("size").as_int64(), 256);

  OpArgs self;
  self.set("k", 1);
  self.set("self", self);  // a value may be set into itself
  EXPECT_EQ(self.to_json(), R"({"k":1,"self":{"k":1}})");
}

TEST(OpArgs, AnElementOutlivesItsOwner) {
  OpArgs element;
  {
    const OpArgs owner = OpArgs::parse_json(R"({"list": ["a", "b"]})");
    element = owner.at("list");
  }
  EXPECT_EQ(element.at(1).as_string(), "b");
}

}  // namespace
}  // namespace conveyor
