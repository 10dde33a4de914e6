#pragma once
#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "conveyor/ops/registry.hpp"

namespace conveyor::test {

// Operator args written as JSON text, e.g. json_args(R"({"size": 224})").
inline OpArgs json_args(std::string_view text) {
  return OpArgs::parse_json(text);
}

// Builds `op` from the built-in registry, as a pipeline would, and runs it once on `sample`.
inline void run_op(const std::string& op, const OpArgs& args, Sample& sample,
                   const OpBuildContext& context = {}) {
  const OperatorFactory factory = builtin_operators().build(op, args, context).factory;
  const auto instance = factory(WorkerContext{});
  instance->process(sample);
}

// The key named by the OpArgError that building `op` throws, or a note that it threw something else.
inline std::string arg_error_key(const std::string& op, const OpArgs& args,
                                 const OpBuildContext& context = {}) {
  try {
    builtin_operators().build(op, args, context).factory;
  } catch (const OpArgError& e) {
    return e.key();
  } catch (const std::exception& e) {
    return std::string("<not an OpArgError: ") + e.what() + ">";
  }
  return "<no error>";
}

// The message of the OpArgError that building `op` throws ("" when none is thrown).
inline std::string arg_error_message(const std::string& op, const OpArgs& args,
                                     const OpBuildContext& context = {}) {
  try {
    builtin_operators().build(op, args, context).factory;
  } catch (const OpArgError& e) {
    return e.what();
  }
  return "";
}

// The message of the exception that running `op` on `sample` throws ("" when none is thrown).
inline std::string run_error(const std::string& op, const OpArgs& args, Sample& sample,
                             const OpBuildContext& context = {}) {
  try {
    run_op(op, args, sample, context);
  } catch (const std::exception& e) {
    return e.what();
  }
  return "";
}

inline Tensor bytes_tensor(const std::string& bytes) {
  return Tensor::from<uint8_t>({static_cast<int64_t>(bytes.size())},
                               {reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size()});
}

inline Tensor bytes_tensor(const std::vector<uint8_t>& bytes) {
  return Tensor::from<uint8_t>({static_cast<int64_t>(bytes.size())}, bytes);
}

// A fresh directory under the system temp dir, removed with everything in it at scope exit.
class TempDir {
 public:
  TempDir() {
    static std::atomic<int> counter{0};
    path_ = std::filesystem::temp_directory_path() /
            ("conveyor_ops_test_" + std::to_string(::getpid()) + "_" + std::to_string(counter++));
    std::filesystem::create_directories(path_);
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::filesystem::path& path() const { return path_; }
  std::filesystem::path write(const std::string& name, const std::string& content) const {
    const auto file = path_ / name;
    std::ofstream(file, std::ios::binary) << content;
    return file;
  }
  std::filesystem::path write_lines(const std::string& name, const std::vector<std::string>& lines) const {
    std::string content;
    for (const auto& line : lines) content += line + "\n";
    return write(name, content);
  }

 private:
  std::filesystem::path path_;
};

}  // namespace conveyor::test
