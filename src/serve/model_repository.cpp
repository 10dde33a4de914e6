#include "serve/model_repository.hpp"

#include <algorithm>
#include <fstream>
#include <set>
#include <sstream>

namespace conveyor::serve {
namespace {

std::string read_text(const std::filesystem::path& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in) throw std::runtime_error("cannot read '" + file.string() + "'");
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

bool is_pipeline_file(const std::filesystem::path& file) {
  const auto extension = file.extension();
  return extension == ".yaml" || extension == ".yml";
}

// The pipeline files of the sources now: files as given, directories' *.yaml / *.yml, sorted.
std::vector<std::filesystem::path> pipeline_files(const std::vector<std::filesystem::path>& sources) {
  std::vector<std::filesystem::path> files;
  for (const auto& source : sources) {
    if (!std::filesystem::is_directory(source)) {
      files.push_back(source);
      continue;
    }
    std::vector<std::filesystem::path> in_directory;
    for (const auto& item : std::filesystem::directory_iterator(source))
      if (item.is_regular_file() && is_pipeline_file(item.path())) in_directory.push_back(item.path());
    std::sort(in_directory.begin(), in_directory.end());
    files.insert(files.end(), in_directory.begin(), in_directory.end());
  }
  return files;
}

}  // namespace

ModelRepository::ModelRepository(Runtime& runtime, std::vector<std::filesystem::path> sources,
                                 RequestLimits limits, StartOptions start)
    : runtime_(runtime), sources_(std::move(sources)), limits_(limits), start_(std::move(start)) {}

ModelRepository::~ModelRepository() = default;

std::map<std::string, ModelRepository::Found> ModelRepository::scan() const {
  std::map<std::string, Found> found;
  for (const auto& file : pipeline_files(sources_)) {
    Found model;
    model.file = file;
    model.text = read_text(file);
    model.config = runtime_.parse(model.text, file);
    const std::string& name = model.config.options.name;
    if (const auto other = found.find(name); other != found.end())
      throw std::runtime_error("two pipeline files name the model '" + name + "': '" +
                               other->second.file.string() + "' and '" + file.string() + "'");
    found.emplace(name, std::move(model));
  }
  return found;
}

std::shared_ptr<ServedModel> ModelRepository::start(const Found& found, int version) const {
  PipelineConfig config = found.config;
  // Requests from many clients are independent: none waits behind another's slower one.
  config.options.ordering = Ordering::kCompletion;
  return std::make_shared<ServedModel>(std::to_string(version), runtime_.start(std::move(config), start_),
                                       limits_);
}

void ModelRepository::load_all() {
  std::lock_guard control(control_);
  for (auto& [name, found] : scan()) {
    auto model = start(found, 1);
    std::lock_guard lock(entries_mutex_);
    entries_[name] = Entry{found.file, found.text, 1, "", std::move(model)};
  }
}

void ModelRepository::load(const std::string& name) {
  std::lock_guard control(control_);
  std::map<std::string, Found> found;
  try {
    found = scan();
  } catch (const std::exception& e) {
    throw ServeError(Failure::kBadRequest, std::string("cannot read the model repository: ") + e.what());
  }
  const auto it = found.find(name);
  if (it == found.end())
    throw ServeError(Failure::kNotFound, "no pipeline file in the repository names model '" + name + "'");
  int version = 1;
  {
    std::lock_guard lock(entries_mutex_);
    if (const auto entry = entries_.find(name); entry != entries_.end()) version = entry->second.loads + 1;
  }
  std::shared_ptr<ServedModel> model;
  try {
    model = start(it->second, version);
  } catch (const std::exception& e) {
    std::lock_guard lock(entries_mutex_);
    Entry& entry = entries_[name];
    entry.file = it->second.file;
    entry.reason = e.what();
    throw ServeError(Failure::kBadRequest, "model '" + name + "' did not start: " + e.what());
  }
  std::shared_ptr<ServedModel> old;
  {
    std::lock_guard lock(entries_mutex_);
    Entry& entry = entries_[name];
    old = std::move(entry.model);
    entry = Entry{it->second.file, it->second.text, version, "", std::move(model)};
  }
  old.reset();  // drains here, off the front ends' threads, once its requests in flight are answered
}

void ModelRepository::unload(const std::string& name) {
  std::lock_guard control(control_);
  std::shared_ptr<ServedModel> old;
  {
    std::lock_guard lock(entries_mutex_);
    const auto entry = entries_.find(name);
    if (entry == entries_.end() || !entry->second.model)
      throw ServeError(Failure::kNotFound, "model '" + name + "' is not loaded");
    old = std::move(entry->second.model);
    entry->second.reason = "unloaded";
  }
  old.reset();
}

std::vector<std::string> ModelRepository::reload() {
  std::vector<std::string> notes;
  std::map<std::string, Found> found;
  try {
    std::lock_guard control(control_);
    found = scan();
  } catch (const std::exception& e) {
    return {std::string("reload: cannot read the model repository: ") + e.what()};
  }
  std::vector<std::string> changed, gone;
  {
    std::lock_guard lock(entries_mutex_);
    for (const auto& [name, model] : found) {
      const auto entry = entries_.find(name);
      if (entry == entries_.end() || !entry->second.model || entry->second.text != model.text)
        changed.push_back(name);
    }
    for (const auto& [name, entry] : entries_)
      if (!found.count(name) && entry.model) gone.push_back(name);
  }
  for (const auto& name : changed) {
    try {
      load(name);
      notes.push_back("reload: model '" + name + "' started");
    } catch (const std::exception& e) {
      notes.push_back("reload: " + std::string(e.what()));
    }
  }
  for (const auto& name : gone) {
    try {
      unload(name);
      notes.push_back("reload: model '" + name + "' stopped (its file is gone)");
    } catch (const std::exception& e) {
      notes.push_back("reload: " + std::string(e.what()));
    }
  }
  return notes;
}

std::shared_ptr<ServedModel> ModelRepository::find(const std::string& name) const {
  std::lock_guard lock(entries_mutex_);
  const auto entry = entries_.find(name);
  return entry == entries_.end() ? nullptr : entry->second.model;
}

std::vector<std::shared_ptr<ServedModel>> ModelRepository::models() const {
  std::lock_guard lock(entries_mutex_);
  std::vector<std::shared_ptr<ServedModel>> out;
  for (const auto& [name, entry] : entries_)
    if (entry.model) out.push_back(entry.model);
  return out;
}

std::vector<ModelStatus> ModelRepository::index() const {
  std::lock_guard lock(entries_mutex_);
  std::vector<ModelStatus> out;
  for (const auto& [name, entry] : entries_)
    out.push_back({name, entry.model ? entry.model->version() : "", entry.model ? "READY" : "UNAVAILABLE",
                   entry.reason, entry.file});
  return out;
}

}  // namespace conveyor::serve
