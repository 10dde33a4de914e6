#include "cli/inputs.hpp"

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iterator>
#include <stdexcept>

namespace conveyor::cli {

std::vector<std::filesystem::path> expand_inputs(const std::vector<std::string>& paths) {
  namespace fs = std::filesystem;
  std::vector<fs::path> files;
  for (const auto& p : paths) {
    std::error_code ec;
    if (fs::is_directory(p, ec)) {
      std::vector<fs::path> in_dir;
      std::size_t skipped = 0;
      for (const auto& entry : fs::directory_iterator(p)) {
        if (entry.is_regular_file()) in_dir.push_back(entry.path());
        else
          ++skipped;
      }
      if (skipped)
        std::fprintf(stderr,
                     "note: %zu entr%s of '%s' that %s not a file (a subdirectory?) skipped: inputs are "
                     "the files directly in a directory\n",
                     skipped, skipped == 1 ? "y" : "ies", p.c_str(), skipped == 1 ? "is" : "are");
      std::sort(in_dir.begin(), in_dir.end());
      if (in_dir.empty()) throw std::runtime_error("input directory '" + p + "' has no files");
      files.insert(files.end(), in_dir.begin(), in_dir.end());
    } else if (fs::is_regular_file(p, ec)) {
      files.emplace_back(p);
    } else {
      throw std::runtime_error("input '" + p + "' does not exist or is not a file or directory");
    }
  }
  if (files.empty()) throw std::runtime_error("no inputs given");
  return files;
}

Sample sample_from_file(const std::filesystem::path& file, const std::string& tensor_name, uint64_t id) {
  std::ifstream in(file, std::ios::binary);
  if (!in) throw std::runtime_error("cannot read input '" + file.string() + "'");
  std::vector<char> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  Sample sample;
  sample.id = id;
  sample.source = file.string();
  Tensor t(DType::kUInt8, {static_cast<int64_t>(bytes.size())});
  if (!bytes.empty()) std::memcpy(t.raw(), bytes.data(), bytes.size());
  sample.tensors[tensor_name] = std::move(t);
  return sample;
}

}  // namespace conveyor::cli
