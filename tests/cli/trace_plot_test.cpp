// `run --trace`, `bench --trace` and `bench --plot`: the real binary, the files a user opens.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <opencv2/imgcodecs.hpp>
#include <set>
#include <sstream>

#include "cli/run_command.hpp"

namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using Output = conveyor::testing::CommandOutput;

class TracePlot : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::path(::testing::TempDir()) / ("conveyor_trace_plot_" + std::to_string(::getpid()));
    fs::create_directories(dir_ / "inputs");
  }
  void TearDown() override { fs::remove_all(dir_); }

  // stdout and stderr together; run and bench add to the profile history, kept out of the user's cache.
  Output conveyor(const std::string& args) {
    return conveyor::testing::run_command("XDG_CACHE_HOME=" + (dir_ / "cache").string() + " " +
                                          CONVEYOR_BINARY + " " + args + " 2>&1");
  }
  void write_jpeg(const fs::path& path, int width, int height) {
    cv::Mat image(height, width, CV_8UC3, cv::Scalar(40, 120, 200));
    std::vector<uchar> jpeg;
    cv::imencode(".jpg", image, jpeg);
    std::ofstream(path, std::ios::binary)
        .write(reinterpret_cast<const char*>(jpeg.data()), static_cast<std::streamsize>(jpeg.size()));
  }
  static std::string read(const fs::path& file) {
    std::ifstream in(file, std::ios::binary);
    std::stringstream text;
    text << in.rdbuf();
    return text.str();
  }
  std::string example() const {
    return (fs::path(CONVEYOR_SOURCE_DIR) / "examples" / "image_preprocess.yaml").string();
  }
  std::string bench(const std::string& extra) {
    write_jpeg(dir_ / "inputs" / "one.jpg", 256, 256);
    return "bench " + example() + " --input " + (dir_ / "inputs").string() +
           " --requests 30 --warmup 3 --concurrency 2 " + extra;
  }

  fs::path dir_;
};

// request id -> stage -> its slice
std::map<uint64_t, std::map<std::string, json>> slices_by_request(const json& trace) {
  std::map<uint64_t, std::map<std::string, json>> slices;
  for (const auto& e : trace.at("traceEvents"))
    if (e.at("ph") == "X") slices[e.at("args").at("request").get<uint64_t>()][e.at("name")] = e;
  return slices;
}

std::set<std::string> lane_names(const json& trace) {
  std::set<std::string> names;
  for (const auto& e : trace.at("traceEvents"))
    if (e.at("ph") == "M" && e.at("name") == "thread_name")
      names.insert(e.at("args").at("name").get<std::string>());
  return names;
}

TEST_F(TracePlot, RunTraceHasEveryInputsStagesAndMarksTheFailedOne) {
  write_jpeg(dir_ / "inputs" / "a.jpg", 320, 240);
  std::ofstream(dir_ / "inputs" / "b_corrupt.jpg") << "\xff\xd8\xff\xe0 not a jpeg";
  write_jpeg(dir_ / "inputs" / "c.jpg", 100, 400);
  const fs::path trace_file = dir_ / "run.json";
  const Output out = conveyor("run " + example() + " --input " + (dir_ / "inputs").string() + " --output " +
                              (dir_ / "results.jsonl").string() + " --trace " + trace_file.string());
  EXPECT_EQ(out.status, 3) << out.text;  // one input failed
  EXPECT_NE(out.text.find("trace: 3 requests -> " + trace_file.string()), std::string::npos) << out.text;

  const json trace = json::parse(read(trace_file));
  EXPECT_EQ(lane_names(trace), (std::set<std::string>{"decode #0", "preprocess #0"}));
  const auto slices = slices_by_request(trace);
  ASSERT_EQ(slices.size(), 3u);
  std::size_t failed = 0;
  for (const auto& [id, by_stage] : slices) {
    const std::string input = by_stage.at("decode").at("args").at("input");
    if (input.find("b_corrupt.jpg") != std::string::npos) {
      ++failed;
      EXPECT_EQ(by_stage.size(), 1u);  // decode failed: preprocess never ran
      EXPECT_TRUE(by_stage.at("decode").at("args").contains("error"));
      continue;
    }
    ASSERT_EQ(by_stage.size(), 2u) << input;
    const json& decode = by_stage.at("decode");
    EXPECT_GE(by_stage.at("preprocess").at("ts").get<double>(),
              decode.at("ts").get<double>() + decode.at("dur").get<double>());
  }
  EXPECT_EQ(failed, 1u);
}

TEST_F(TracePlot, BenchTraceAndSvgPlotCoverTheMeasuredRequests) {
  const fs::path trace_file = dir_ / "bench.json", svg = dir_ / "bench.svg";
  const Output out = conveyor(bench("--trace " + trace_file.string() + " --plot " + svg.string()));
  ASSERT_EQ(out.status, 0) << out.text;
  EXPECT_NE(out.text.find("plot: "), std::string::npos) << out.text;

  const json trace = json::parse(read(trace_file));
  EXPECT_EQ(slices_by_request(trace).size(), 30u);  // warmup excluded
  EXPECT_EQ(trace.at("otherData").at("requests_recorded"), 30);
  // Counters end at zero: every request that entered a queue left it.
  std::map<std::string, int> last;
  for (const auto& e : trace.at("traceEvents"))
    if (e.at("ph") == "C") last[e.at("name")] = e.at("args").begin()->get<int>();
  EXPECT_EQ(last,
            (std::map<std::string, int>{{"queue decode", 0}, {"queue preprocess", 0}, {"in flight", 0}}));

  const std::string text = read(svg);
  EXPECT_TRUE(text.rfind("<?xml", 0) == 0 || text.rfind("<svg", 0) == 0) << text.substr(0, 80);
  for (const char* stage : {"decode", "preprocess"}) EXPECT_NE(text.find(stage), std::string::npos) << stage;
}

TEST_F(TracePlot, BenchPlotsAPng) {
  const fs::path png = dir_ / "bench.png";
  const Output out = conveyor(bench("--plot " + png.string()));
  ASSERT_EQ(out.status, 0) << out.text;
  EXPECT_EQ(read(png).substr(0, 8), std::string("\x89PNG\r\n\x1a\n", 8));
}

TEST_F(TracePlot, BenchRefusesAPlotFormatBeforeRunning) {
  const Output out = conveyor(bench("--plot " + (dir_ / "bench.pdf").string()));
  EXPECT_EQ(out.status, 1) << out.text;
  EXPECT_NE(out.text.find(".svg or .png"), std::string::npos) << out.text;
  EXPECT_EQ(out.text.find("throughput"), std::string::npos) << "it benched first: " << out.text;
}

TEST_F(TracePlot, TraceNeedsAPipelineFileNotAServer) {
  const Output out = conveyor("bench --url http://127.0.0.1:1/m --input " + (dir_ / "inputs").string() +
                              " --trace " + (dir_ / "t.json").string());
  EXPECT_NE(out.status, 0) << out.text;
  EXPECT_NE(out.text.find("--trace"), std::string::npos) << out.text;
}

}  // namespace
