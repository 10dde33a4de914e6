#pragma once
#include <filesystem>
#include <string>
#include <utility>
#include <vector>

#include "conveyor/runtime/sample.hpp"

namespace conveyor::cli {

// Files named on the command line; a directory stands for its regular files (not recursive, sorted,
// dot-files skipped with a note on stderr).
std::vector<std::filesystem::path> expand_inputs(const std::vector<std::string>& paths);

// A sample whose tensor `tensor_name` holds the file's bytes (uint8 [n]); `source` is the path.
Sample sample_from_file(const std::filesystem::path& file, const std::string& tensor_name, uint64_t id);

// One request's files: which file gives which tensor.
struct InputRequest {
  std::string name;  // the results' `input`: the file's path (raw bytes) or the files' common stem (tensors)
  std::string stem;  // the files' stem: the request's folder under run --output-dir
  std::vector<std::pair<std::string, std::filesystem::path>> files;  // tensor name, file
};

// What the --input values give: raw files (each file's bytes one tensor) or .npy tensors by name.
struct InputSet {
  bool tensors = false;            // NAME=...: the files are .npy tensors; otherwise raw bytes
  std::vector<std::string> names;  // the tensors each request holds, in the order first given
  std::vector<InputRequest> requests;
};

// --input values: `PATH` (a file or a directory: each file's bytes go to `bytes_tensor`), or
// `NAME=PATH[,PATH...]`, repeatable: .npy files (a directory: its .npy files) for tensor NAME. With several
// names the files are matched by stem (ids/a.npy + mask/a.npy: request 'a'); a stem one name lacks is an
// error naming it. A value that is an existing path is a path, even with a '=' in it.
InputSet collect_inputs(const std::vector<std::string>& values, const std::string& bytes_tensor);

// Whether an --input value is NAME=PATHS rather than a path.
bool is_named_input(const std::string& value);

// The request's sample: each file read (raw bytes or .npy); throws naming the file when one cannot be.
Sample read_request(const InputSet& set, const InputRequest& request, uint64_t id);

}  // namespace conveyor::cli
