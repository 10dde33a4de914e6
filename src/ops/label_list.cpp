#include "ops/label_list.hpp"

#include <stdexcept>

#include "ops/op_args.hpp"
#include "ops/text_file.hpp"

namespace conveyor::ops {

std::shared_ptr<const LabelList> LabelList::load(const std::filesystem::path& path) {
  auto list = std::make_shared<LabelList>();
  list->path_ = path;
  list->labels_ = read_lines(path);
  if (list->labels_.empty()) throw std::runtime_error("labels file '" + path.string() + "' is empty");
  return list;
}

const std::string& LabelList::at(int64_t index, int64_t class_count) const {
  if (static_cast<std::size_t>(class_count) > labels_.size())
    throw std::out_of_range("labels file '" + path_.string() + "' has " + std::to_string(labels_.size()) +
                            " labels but the scores have " + std::to_string(class_count) + " classes");
  return labels_.at(static_cast<std::size_t>(index));
}

std::shared_ptr<const LabelList> load_labels_arg(const ArgReader& reader,
                                                 const std::optional<std::filesystem::path>& file) {
  if (!file) return nullptr;
  try {
    return LabelList::load(*file);
  } catch (const std::exception& e) {
    throw reader.error("labels", "could not be loaded: " + std::string(e.what()));
  }
}

}  // namespace conveyor::ops
