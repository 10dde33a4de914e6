#include <gtest/gtest.h>

#include "conveyor/runtime/topology.hpp"

namespace conveyor {
namespace {

std::string error_of(const std::string& text) {
  try {
    parse_cpu_list(text);
  } catch (const std::invalid_argument& e) {
    return e.what();
  }
  return "";
}

TEST(CpuList, IdsAndRangesInTheOrderGiven) {
  EXPECT_EQ(parse_cpu_list("4-6,0,2"), (std::vector<int>{4, 5, 6, 0, 2}));
  EXPECT_EQ(format_cpu_list({6, 0, 1, 2, 4}), "0-2,4,6");
}

TEST(CpuList, MalformedListsSayWhatIsWrong) {
  EXPECT_EQ(error_of("0,,1"), "empty entry in '0,,1'");
  EXPECT_EQ(error_of("3-1"), "bad range '3-1'");
  EXPECT_EQ(error_of("0,0"), "core 0 is listed twice");
  EXPECT_EQ(error_of("x"), "'x' is not a core id or a range like 0-7");
  EXPECT_NE(error_of("0-5000").find("ids < 4096"), std::string::npos);
}

}  // namespace
}  // namespace conveyor
