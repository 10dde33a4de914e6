#pragma once
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace conveyor::ops {

// Class names, one per line of a file (line i names class i). Loaded once, shared read-only by workers.
class LabelList {
 public:
  // Throws std::runtime_error naming the file when it cannot be read or holds no labels.
  static std::shared_ptr<const LabelList> load(const std::filesystem::path& path);

  // The label of class `index` (< class_count) of a `class_count`-class output. Throws std::out_of_range
  // naming the file and both sizes when the file has fewer labels than the scores have classes, whichever
  // class is asked for: a labels file that does not match the model fails on the first sample. Extra
  // labels are allowed.
  const std::string& at(int64_t index, int64_t class_count) const;
  std::size_t size() const { return labels_.size(); }

 private:
  std::filesystem::path path_;
  std::vector<std::string> labels_;
};

class ArgReader;

// The labels of an optional `labels` arg (null when absent); a file that cannot be loaded is an
// OpArgError on `labels`.
std::shared_ptr<const LabelList> load_labels_arg(const ArgReader& reader,
                                                 const std::optional<std::filesystem::path>& file);

}  // namespace conveyor::ops
