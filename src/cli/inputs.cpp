#include "cli/inputs.hpp"

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iterator>
#include <map>
#include <optional>
#include <set>
#include <stdexcept>

#include "conveyor/tensor/npy.hpp"

namespace conveyor::cli {
namespace {

namespace fs = std::filesystem;

std::string with_slash(const std::string& dir) {
  return !dir.empty() && dir.back() == '/' ? dir : dir + "/";
}

// The regular files directly in `dir`, sorted; dot-files (.DS_Store) and, when `extension` is given,
// files without it are skipped, each kind said once on stderr.
std::vector<fs::path> directory_files(const std::string& dir, const std::string& extension = "") {
  std::vector<fs::path> files;
  std::size_t not_files = 0, hidden = 0, other_kind = 0;
  for (const auto& entry : fs::directory_iterator(dir)) {
    const std::string name = entry.path().filename().string();
    if (!name.empty() && name[0] == '.') {
      ++hidden;
    } else if (!entry.is_regular_file()) {
      ++not_files;
    } else if (!extension.empty() && entry.path().extension() != extension) {
      ++other_kind;
    } else {
      files.push_back(entry.path());
    }
  }
  if (hidden)
    std::fprintf(stderr, "note: %zu hidden file%s in '%s' skipped\n", hidden, hidden == 1 ? "" : "s",
                 with_slash(dir).c_str());
  if (not_files)
    std::fprintf(stderr,
                 "note: %zu entr%s of '%s' that %s not a file (a subdirectory?) skipped: inputs are "
                 "the files directly in a directory\n",
                 not_files, not_files == 1 ? "y" : "ies", dir.c_str(), not_files == 1 ? "is" : "are");
  if (other_kind)
    std::fprintf(stderr, "note: %zu file%s in '%s' not named *%s skipped\n", other_kind,
                 other_kind == 1 ? "" : "s", with_slash(dir).c_str(), extension.c_str());
  std::sort(files.begin(), files.end());
  if (files.empty())
    throw std::runtime_error("input directory '" + dir + "' has no " + (extension.empty() ? "" : extension + " ") +
                             "files");
  return files;
}

// The files one path stands for: itself, or a directory's files.
std::vector<fs::path> files_of(const std::string& path, const std::string& extension = "") {
  std::error_code ec;
  if (fs::is_directory(path, ec)) return directory_files(path, extension);
  if (fs::is_regular_file(path, ec)) return {fs::path(path)};
  throw std::runtime_error("input '" + path + "' does not exist or is not a file or directory");
}

// "NAME=PATHS" as (NAME, PATHS); nullopt for a plain path.
std::optional<std::pair<std::string, std::string>> named_value(const std::string& value) {
  const auto eq = value.find('=');
  if (eq == std::string::npos || eq == 0 || value.substr(0, eq).find('/') != std::string::npos) return std::nullopt;
  std::error_code ec;
  if (fs::exists(value, ec)) return std::nullopt;  // a file that has a '=' in its name
  if (eq + 1 == value.size())
    throw std::runtime_error("--input '" + value + "': no files after '=' (NAME=DIR or NAME=FILE[,FILE...])");
  return std::make_pair(value.substr(0, eq), value.substr(eq + 1));
}

std::vector<std::string> comma_list(const std::string& text) {
  std::vector<std::string> items;
  std::size_t start = 0;
  while (start <= text.size()) {
    const auto comma = text.find(',', start);
    const std::string item = text.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
    if (!item.empty()) items.push_back(item);
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return items;
}

InputSet tensor_inputs(const std::vector<std::pair<std::string, std::string>>& named) {
  InputSet set;
  set.tensors = true;
  std::map<std::string, std::map<std::string, fs::path>> by_name;  // tensor -> stem -> file
  for (const auto& [name, paths] : named) {
    if (!by_name.count(name)) set.names.push_back(name);
    auto& stems = by_name[name];
    for (const auto& path : comma_list(paths))
      for (const auto& file : files_of(path, ".npy")) {
        const std::string stem = file.stem().string();
        const auto [it, added] = stems.emplace(stem, file);
        if (!added)
          throw std::runtime_error("tensor '" + name + "' has two files of stem '" + stem + "' ('" +
                                   it->second.string() + "', '" + file.string() +
                                   "'): a request is named by its files' stem");
      }
  }
  std::set<std::string> all_stems;
  for (const auto& [name, stems] : by_name)
    for (const auto& [stem, file] : stems) all_stems.insert(stem);
  for (const auto& stem : all_stems) {
    InputRequest request;
    request.name = stem;
    request.stem = stem;
    for (const auto& name : set.names) {
      const auto& stems = by_name[name];
      const auto file = stems.find(stem);
      if (file == stems.end()) {
        std::string others;
        for (const auto& other : set.names)
          if (const auto f = by_name[other].find(stem); f != by_name[other].end())
            others += (others.empty() ? "'" : ", '") + f->second.string() + "'";
        throw std::runtime_error("input '" + stem + "' has no file for tensor '" + name + "' (there is " + others +
                                 "): with several tensors each needs a file of the same stem");
      }
      request.files.emplace_back(name, file->second);
    }
    set.requests.push_back(std::move(request));
  }
  return set;
}

}  // namespace

std::vector<fs::path> expand_inputs(const std::vector<std::string>& paths) {
  std::vector<fs::path> files;
  for (const auto& p : paths) {
    const auto more = files_of(p);
    files.insert(files.end(), more.begin(), more.end());
  }
  if (files.empty()) throw std::runtime_error("no inputs given");
  return files;
}

Sample sample_from_file(const fs::path& file, const std::string& tensor_name, uint64_t id) {
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

InputSet collect_inputs(const std::vector<std::string>& values, const std::string& bytes_tensor) {
  std::vector<std::pair<std::string, std::string>> named;
  std::vector<std::string> raw;
  for (const auto& value : values) {
    if (auto pair = named_value(value))
      named.push_back(std::move(*pair));
    else
      raw.push_back(value);
  }
  if (!named.empty() && !raw.empty())
    throw std::runtime_error("--input: give files (each file's bytes one input) or NAME=FILES (.npy tensors), "
                             "not both: '" + raw.front() + "' and '" + named.front().first + "=" +
                             named.front().second + "'");
  if (!named.empty()) return tensor_inputs(named);
  InputSet set;
  set.names = {bytes_tensor};
  for (const auto& file : expand_inputs(raw)) set.requests.push_back({file.string(), file.stem().string(), {{bytes_tensor, file}}});
  return set;
}

bool is_named_input(const std::string& value) {
  return named_value(value).has_value();
}

Sample read_request(const InputSet& set, const InputRequest& request, uint64_t id) {
  if (!set.tensors) {
    Sample sample = sample_from_file(request.files.front().second, request.files.front().first, id);
    sample.source = request.name;
    return sample;
  }
  Sample sample;
  sample.id = id;
  sample.source = request.name;
  for (const auto& [name, file] : request.files) sample.tensors[name] = read_npy(file.string());
  return sample;
}

}  // namespace conveyor::cli
