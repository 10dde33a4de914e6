// run / bench with .npy tensors in and out, interrupted work, dot-files and exit statuses: the binary as a
// user drives it.
#include <gtest/gtest.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <sstream>
#include <thread>

#include "cli/run_command.hpp"
#include "conveyor/tensor/npy.hpp"

extern char** environ;

namespace {

namespace fs = std::filesystem;
using conveyor::DType;
using conveyor::Shape;
using conveyor::Tensor;
using Output = conveyor::testing::CommandOutput;

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

std::string file_text(const fs::path& file) {
  std::ifstream in(file, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

std::vector<nlohmann::json> result_lines(const fs::path& file) {
  std::ifstream in(file);
  std::vector<nlohmann::json> lines;
  for (std::string line; std::getline(in, line);) lines.push_back(nlohmann::json::parse(line));
  return lines;
}

Tensor floats(const Shape& shape, float start) {
  Tensor t(DType::kFloat32, shape);
  for (int64_t i = 0; i < t.numel(); ++i)
    t.data<float>()[i] = std::sin(start + 0.37f * static_cast<float>(i));
  return t;
}

std::vector<float> softmax(const Tensor& t) {
  std::vector<float> out(static_cast<std::size_t>(t.numel()));
  float largest = -1e30f;
  for (int64_t i = 0; i < t.numel(); ++i) largest = std::max(largest, t.data<float>()[i]);
  double sum = 0;
  for (int64_t i = 0; i < t.numel(); ++i) sum += std::exp(t.data<float>()[i] - largest);
  for (int64_t i = 0; i < t.numel(); ++i)
    out[static_cast<std::size_t>(i)] = static_cast<float>(std::exp(t.data<float>()[i] - largest) / sum);
  return out;
}

// A conveyor process started in the background, so that a test can signal it mid-run.
class Background {
 public:
  Background(const std::string& command, const fs::path& out, const fs::path& err) {
    const std::string line = "exec env " + command + " >" + out.string() + " 2>" + err.string();
    const char* argv[] = {"/bin/sh", "-c", line.c_str(), nullptr};
    if (posix_spawn(&pid_, "/bin/sh", nullptr, nullptr, const_cast<char* const*>(argv), environ) != 0)
      pid_ = -1;
  }
  ~Background() {
    if (pid_ > 0 && !status_) {
      kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
    }
  }
  pid_t pid() const { return pid_; }

  // Whether it has ended (without waiting for it).
  bool ended() {
    int status = 0;
    if (!status_ && waitpid(pid_, &status, WNOHANG) == pid_) status_ = status;
    return status_.has_value();
  }

  // Whether the process has installed its own SIGINT handler (/proc/PID/status SigCgt): from then on a
  // signal is the command's to handle, not the default "terminate".
  bool catches_sigint() const {
    std::ifstream status("/proc/" + std::to_string(pid_) + "/status");
    for (std::string line; std::getline(status, line);)
      if (line.rfind("SigCgt:", 0) == 0)
        return (std::stoull(line.substr(7), nullptr, 16) >> (SIGINT - 1)) & 1;
    return false;
  }

  // Whether `signal_number` was sent to it and not yet delivered (/proc/PID/status ShdPnd).
  bool signal_pending(int signal_number) const {
    std::ifstream status("/proc/" + std::to_string(pid_) + "/status");
    for (std::string line; std::getline(status, line);)
      if (line.rfind("ShdPnd:", 0) == 0)
        return (std::stoull(line.substr(7), nullptr, 16) >> (signal_number - 1)) & 1;
    return false;
  }

  // The exit status; -1 when a signal ended it.
  int wait() {
    if (!status_) {
      int status = 0;
      waitpid(pid_, &status, 0);
      status_ = status;
    }
    return WIFEXITED(*status_) ? WEXITSTATUS(*status_) : -1;
  }

 private:
  pid_t pid_ = -1;
  std::optional<int> status_;
};

// Polls `condition` every 10 ms for up to a minute (a bound against a hang, not a timing assertion).
template <typename Condition>
bool eventually(Condition condition) {
  for (int i = 0; i < 6000; ++i) {
    if (condition()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return false;
}

class TensorsIo : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::path(::testing::TempDir()) / ("conveyor_tensors_io_" + std::to_string(::getpid()));
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::string env() const { return "XDG_CACHE_HOME=" + (dir_ / "cache").string() + " "; }
  // stdout and stderr together; `timeout` turns a hang into a failure (status 124).
  Output conveyor(const std::string& args) {
    return conveyor::testing::run_command(env() + "timeout 300 " + std::string(CONVEYOR_BINARY) + " " + args +
                                          " 2>&1");
  }
  fs::path path(const std::string& name) const { return dir_ / name; }
  fs::path write_npy(const std::string& name, const Tensor& tensor) {
    const fs::path file = path(name);
    fs::create_directories(file.parent_path());
    conveyor::write_npy(file.string(), tensor);
    return file;
  }
  fs::path write_file(const std::string& name, const std::string& text) {
    const fs::path file = path(name);
    fs::create_directories(file.parent_path());
    std::ofstream(file, std::ios::binary) << text;
    return file;
  }

  // Two tensors in, each through its own softmax: the pipeline reads `a` and `b`, and writes pa, then pb.
  fs::path two_softmax_pipeline() {
    return write_file("two.yaml",
                      "name: two-softmax\nstages:\n"
                      "  - {name: sa, op: post.softmax, cores: none, args: {input: a, output: pa}}\n"
                      "  - {name: sb, op: post.softmax, cores: none, args: {input: b, output: pb}}\n");
  }
  // The zoo mlp (float32 input [1, 64] -> logits [1, 10]) as one onnx stage.
  fs::path mlp_pipeline() {
    const Output zoo = conveyor("zoo mlp -o " + path("mlp.onnx").string());
    EXPECT_EQ(zoo.status, 0) << zoo.text;
    return write_file("mlp.yaml",
                      "name: mlp\nstages:\n"
                      "  - {name: model, op: onnx, cores: none, threads: 1, args: {path: mlp.onnx}}\n");
  }

  // `run` of `inputs` .npy tensors through a small transformer encoder (milliseconds an input): a run of
  // many is still going when a test signals it right after the first lines appear. Results: r.jsonl.
  std::string slow_run_args(int inputs) {
    const Output zoo = conveyor("zoo bert_encoder --layers 2 --hidden 128 --heads 2 --seq-len 64 -o " +
                                path("encoder.onnx").string());
    EXPECT_EQ(zoo.status, 0) << zoo.text;
    const fs::path pipeline = write_file("encoder.yaml",
                                         "name: encoder\nstages:\n  - {name: model, op: onnx, cores: none, "
                                         "threads: 1, args: {path: encoder.onnx}}\n");
    for (int i = 0; i < inputs; ++i) {
      char name[32];
      std::snprintf(name, sizeof name, "in/%05d.npy", i);
      write_npy(name, floats({1, 64, 128}, static_cast<float>(i)));
    }
    return "run " + pipeline.string() + " --input hidden_states=" + path("in").string() + " --output " +
           path("r.jsonl").string();
  }

  fs::path dir_;
};

TEST_F(TensorsIo, NpyInputsAreMatchedByStemAndLinesHoldTheLastStagesOutputs) {
  const Tensor ax = floats({1, 5}, 0.1f), ay = floats({2, 3}, 0.7f), bx = floats({1, 4}, 1.3f),
               by = floats({3}, 2.9f);
  write_npy("a/x.npy", ax);
  write_npy("a/y.npy", ay);
  write_npy("b/x.npy", bx);
  write_npy("b/y.npy", by);
  write_file("a/.DS_Store", "finder junk");
  write_file("a/.hidden", "more");
  const fs::path results = path("r.jsonl");
  const std::string args = "run " + two_softmax_pipeline().string() + " --input a=" + path("a").string() +
                           " --input b=" + path("b").string() + " --output " + results.string();

  const Output out = conveyor(args);
  ASSERT_EQ(out.status, 0) << out.text;
  EXPECT_TRUE(contains(out.text, "note: 2 hidden files in '" + path("a").string() + "/' skipped"))
      << out.text;
  EXPECT_TRUE(contains(out.text, "2 inputs: 2 ok, 0 failed")) << out.text;
  auto lines = result_lines(results);
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_EQ(lines[0]["input"], "x");
  EXPECT_EQ(lines[1]["input"], "y");
  const Tensor* b_of[] = {&bx, &by};
  for (std::size_t i = 0; i < 2; ++i) {
    ASSERT_EQ(lines[i]["outputs"].size(), 1u) << lines[i].dump();  // only the last stage's output
    const auto& pb = lines[i]["outputs"]["pb"];
    EXPECT_EQ(pb["shape"], nlohmann::json(b_of[i]->shape()));
    const std::vector<float> expected = softmax(*b_of[i]);
    ASSERT_EQ(pb["data"].size(), expected.size());
    for (std::size_t k = 0; k < expected.size(); ++k)
      EXPECT_NEAR(pb["data"][k].get<float>(), expected[k], 1e-6f);
  }

  const Output both = conveyor(args + " --outputs pa,pb");
  ASSERT_EQ(both.status, 0) << both.text;
  lines = result_lines(results);
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_EQ(lines[0]["outputs"]["pa"]["shape"], nlohmann::json({1, 5}));
  EXPECT_EQ(lines[1]["outputs"]["pa"]["shape"], nlohmann::json({2, 3}));
  EXPECT_TRUE(lines[1]["outputs"].contains("pb"));

  const Output unknown = conveyor(args + " --outputs pa,logits");
  EXPECT_EQ(unknown.status, 1) << unknown.text;
  EXPECT_TRUE(contains(unknown.text, "--outputs: the pipeline makes no 'logits'; it makes 'pa', 'pb'"))
      << unknown.text;
}

TEST_F(TensorsIo, AStemOneTensorLacksIsAnErrorNamingIt) {
  write_npy("a/x.npy", floats({4}, 0));
  write_npy("a/y.npy", floats({4}, 1));
  write_npy("b/x.npy", floats({4}, 2));
  const Output out = conveyor("run " + two_softmax_pipeline().string() + " --input a=" + path("a").string() +
                              " --input b=" + path("b").string() + " --output " + path("r.jsonl").string());
  EXPECT_EQ(out.status, 1) << out.text;
  EXPECT_TRUE(contains(out.text,
                       "input 'y' has no file for tensor 'b' (there is '" + path("a/y.npy").string() + "')"))
      << out.text;
  EXPECT_FALSE(fs::exists(path("r.jsonl")));

  const Output missing =
      conveyor("run " + two_softmax_pipeline().string() + " --input a=" + path("a").string() + " --output " +
               path("r.jsonl").string());
  EXPECT_EQ(missing.status, 1) << missing.text;
  EXPECT_TRUE(contains(missing.text, "the pipeline reads tensor 'b', which no --input gives"))
      << missing.text;
}

TEST_F(TensorsIo, AWrongDtypeOrShapeIsAnErrorAtStartNamingFileTensorExpectedAndFound) {
  const std::string pipeline = mlp_pipeline().string();
  write_npy("ok/a.npy", floats({1, 64}, 0));
  const fs::path ints = write_npy("ints/b.npy", Tensor(DType::kInt64, {1, 64}));
  Output out = conveyor("run " + pipeline + " --input input=" + path("ok/a.npy").string() + "," +
                        ints.string() + " --output " + path("r.jsonl").string());
  EXPECT_EQ(out.status, 1) << out.text;
  EXPECT_TRUE(contains(out.text, "input '" + ints.string() +
                                     "' for tensor 'input' is int64 [1, 64]; it takes "
                                     "float32 [1, 64]"))
      << out.text;

  const fs::path narrow = write_npy("narrow/c.npy", floats({1, 32}, 0));
  out = conveyor("bench " + pipeline + " --input input=" + narrow.string() + " -n 5 --warmup 0");
  EXPECT_EQ(out.status, 1) << out.text;
  EXPECT_TRUE(contains(out.text, "input '" + narrow.string() +
                                     "' for tensor 'input' is float32 [1, 32]; it takes "
                                     "float32 [1, 64]"))
      << out.text;

  out = conveyor("run " + pipeline + " --input pixels=" + path("ok").string() + " --output " +
                 path("r.jsonl").string());
  EXPECT_EQ(out.status, 1) << out.text;
  EXPECT_TRUE(contains(out.text, "the pipeline does not read a tensor 'pixels'")) << out.text;
  EXPECT_TRUE(contains(out.text, "it reads 'input'")) << out.text;
}

TEST_F(TensorsIo, OutputDirHoldsEachResultsTensorsAsNpyFilesThatMatchTheJsonData) {
  const std::string pipeline = mlp_pipeline().string();
  write_npy("in/first.npy", floats({1, 64}, 0.5f));
  write_npy("in/second.npy", floats({1, 64}, 3.5f));
  const std::string inputs = " --input input=" + path("in").string();
  const Output as_json = conveyor("run " + pipeline + inputs + " --output " + path("json.jsonl").string());
  ASSERT_EQ(as_json.status, 0) << as_json.text;
  const Output as_files = conveyor("run " + pipeline + inputs + " --output " + path("files.jsonl").string() +
                                   " --output-dir " + path("out").string());
  ASSERT_EQ(as_files.status, 0) << as_files.text;

  const auto json_lines = result_lines(path("json.jsonl"));
  const auto file_lines = result_lines(path("files.jsonl"));
  ASSERT_EQ(file_lines.size(), 2u);
  ASSERT_EQ(json_lines.size(), 2u);
  const char* stems[] = {"first", "second"};
  for (std::size_t i = 0; i < 2; ++i) {
    const auto& logits = file_lines[i]["outputs"]["logits"];
    EXPECT_FALSE(logits.contains("data"));
    EXPECT_EQ(logits["file"], (path("out") / stems[i] / "logits.npy").string());
    const Tensor written = conveyor::read_npy(logits["file"].get<std::string>());
    ASSERT_EQ(written.shape(), (Shape{1, 10}));
    const auto& data = json_lines[i]["outputs"]["logits"]["data"];
    ASSERT_EQ(data.size(), 10u);
    for (std::size_t k = 0; k < 10; ++k) EXPECT_NEAR(written.data<float>()[k], data[k].get<float>(), 1e-5f);
  }
}

TEST_F(TensorsIo, RunInterruptedBySigintKeepsWhatItFinishedAndResumeCompletesTheRest) {
  constexpr int kInputs = 600;
  const std::string args = slow_run_args(kInputs);
  const fs::path results = path("r.jsonl");
  {
    Background run(env() + CONVEYOR_BINARY + " " + args, path("out.txt"), path("err.txt"));
    ASSERT_GT(run.pid(), 0);
    ASSERT_TRUE(
        eventually([&] { return run.ended() || (run.catches_sigint() && file_text(results).size() > 0); }));
    ASSERT_FALSE(run.ended()) << file_text(path("err.txt"));
    kill(run.pid(), SIGINT);
    EXPECT_EQ(run.wait(), 130) << file_text(path("err.txt"));
  }
  const std::string err = file_text(path("err.txt"));
  const auto lines = result_lines(results);
  ASSERT_GE(lines.size(), 1u);
  ASSERT_LT(lines.size(), static_cast<std::size_t>(kInputs));
  EXPECT_TRUE(contains(err, std::to_string(lines.size()) + " of " + std::to_string(kInputs) + " done -> " +
                                results.string() + " (interrupted by SIGINT; --resume continues)"))
      << err;
  for (std::size_t i = 0; i < lines.size(); ++i) {  // exactly the first lines, each finished
    char stem[32];
    std::snprintf(stem, sizeof stem, "%05zu", i);
    EXPECT_EQ(lines[i]["input"], stem);
    EXPECT_TRUE(lines[i]["ok"].get<bool>());
  }

  const Output resumed = conveyor(args + " --resume");
  ASSERT_EQ(resumed.status, 0) << resumed.text;
  EXPECT_TRUE(contains(resumed.text, std::to_string(kInputs - lines.size()) + " inputs: " +
                                         std::to_string(kInputs - lines.size()) + " ok, 0 failed"))
      << resumed.text;
  const auto all = result_lines(results);
  ASSERT_EQ(all.size(), static_cast<std::size_t>(kInputs));
  std::set<std::string> inputs;
  for (const auto& line : all) inputs.insert(line["input"].get<std::string>());
  EXPECT_EQ(inputs.size(), static_cast<std::size_t>(kInputs));  // no duplicates, none missing

  const Output again = conveyor(args + " --resume");
  EXPECT_EQ(again.status, 0) << again.text;
  EXPECT_TRUE(contains(again.text, "all " + std::to_string(kInputs) + " inputs are already in"))
      << again.text;
}

// A second signal cancels what is in flight: those have no line (they were not done), the rest are kept.
TEST_F(TensorsIo, ASecondSignalCancelsWhatIsInFlightAndKeepsOnlyFinishedLines) {
  constexpr int kInputs = 600;
  const std::string args = slow_run_args(kInputs);
  const fs::path results = path("r.jsonl");
  {
    Background run(env() + CONVEYOR_BINARY + " " + args, path("out.txt"), path("err.txt"));
    ASSERT_GT(run.pid(), 0);
    ASSERT_TRUE(
        eventually([&] { return run.ended() || (run.catches_sigint() && file_text(results).size() > 0); }));
    ASSERT_FALSE(run.ended()) << file_text(path("err.txt"));
    kill(run.pid(), SIGTERM);
    // Two of one signal sent at once may arrive as one: send the second once the first is delivered.
    ASSERT_TRUE(eventually([&] { return run.ended() || !run.signal_pending(SIGTERM); }));
    kill(run.pid(), SIGTERM);
    EXPECT_EQ(run.wait(), 143) << file_text(path("err.txt"));
  }
  const auto lines = result_lines(results);
  ASSERT_LT(lines.size(), static_cast<std::size_t>(kInputs));
  EXPECT_TRUE(contains(file_text(path("err.txt")), std::to_string(lines.size()) + " of " +
                                                       std::to_string(kInputs) + " done -> " +
                                                       results.string() + " (interrupted by SIGTERM"))
      << file_text(path("err.txt"));
  for (const auto& line : lines) EXPECT_TRUE(line["ok"].get<bool>()) << line.dump();  // no "cancelled" lines

  const Output resumed = conveyor(args + " --resume");
  ASSERT_EQ(resumed.status, 0) << resumed.text;
  std::set<std::string> inputs;
  for (const auto& line : result_lines(results)) inputs.insert(line["input"].get<std::string>());
  EXPECT_EQ(inputs.size(), static_cast<std::size_t>(kInputs));
  EXPECT_EQ(result_lines(results).size(), static_cast<std::size_t>(kInputs));
}

TEST_F(TensorsIo, BenchInterruptedPrintsThePartialReport) {
  const std::string pipeline = mlp_pipeline().string();
  write_npy("in/a.npy", floats({1, 64}, 0));
  Background bench(env() + CONVEYOR_BINARY + " bench " + pipeline + " --input input=" + path("in").string() +
                       " --requests 100000000 --warmup 0 --concurrency 2 --json",
                   path("out.txt"), path("err.txt"));
  ASSERT_GT(bench.pid(), 0);
  ASSERT_TRUE(eventually([&] { return bench.ended() || bench.catches_sigint(); }));
  ASSERT_FALSE(bench.ended()) << file_text(path("err.txt"));
  kill(bench.pid(), SIGTERM);
  EXPECT_EQ(bench.wait(), 143) << file_text(path("err.txt"));
  const auto report = nlohmann::json::parse(file_text(path("out.txt")));
  EXPECT_EQ(report["interrupted"], "SIGTERM");
  EXPECT_EQ(report["requests_asked"], 100000000);
  EXPECT_LT(report["requests"].get<uint64_t>(), 100000000u);
  EXPECT_EQ(report["errors"], 0);
}

TEST_F(TensorsIo, UsageErrorsExitWith2AndEveryHelpSaysSo) {
  const std::string pipeline = two_softmax_pipeline().string();
  write_npy("a/x.npy", floats({4}, 0));
  for (const std::string& args :
       {std::string("frobnicate"), std::string("--frob"), std::string("run"),
        "run " + pipeline + " --input a=" + path("a").string() + " --no-such-option",
        "bench " + pipeline + " --input a=" + path("a").string() + " --requests 0",
        "run " + pipeline + " --input a=" + path("a").string() + " --input-tensor a"}) {
    const Output out = conveyor(args);
    EXPECT_EQ(out.status, 2) << args << "\n" << out.text;
  }
  const Output help = conveyor("--help");
  EXPECT_EQ(help.status, 0);
  EXPECT_TRUE(contains(help.text, "2 usage error")) << help.text;
  for (const char* command :
       {"demo", "run", "bench", "ops", "zoo", "profile", "plan", "simulate", "split", "infer", "serve"}) {
    const Output out = conveyor(std::string(command) + " --help");
    EXPECT_EQ(out.status, 0) << command;
    EXPECT_TRUE(contains(out.text, "Exit status: 0")) << command << ":\n" << out.text;
    EXPECT_TRUE(contains(out.text, "2 usage error")) << command << ":\n" << out.text;
  }
  EXPECT_TRUE(contains(conveyor("run --help").text, "130 / 143 stopped by SIGINT / SIGTERM"));
}

TEST_F(TensorsIo, RawFilesStillTakeDotFilesOutAndNpyFilesAsBytes) {
  const fs::path decode =
      write_file("decode.yaml", "stages:\n  - {name: d, op: image.decode, cores: none}\n");
  write_npy("raw/t.npy", floats({4}, 0));  // not an image: its bytes reach the decoder, which refuses them
  write_file("raw/.DS_Store", "x");
  const Output out = conveyor("run " + decode.string() + " --input " + path("raw").string() + " --output " +
                              path("r.jsonl").string());
  EXPECT_EQ(out.status, 3) << out.text;
  EXPECT_TRUE(contains(out.text, "note: 1 hidden file in '" + path("raw").string() + "/' skipped"))
      << out.text;
  const auto lines = result_lines(path("r.jsonl"));
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_EQ(lines[0]["input"], path("raw/t.npy").string());
  EXPECT_EQ(lines[0]["error"]["stage"], "d");
}

}  // namespace
