#include "conveyor/ops/registry.hpp"

namespace conveyor {

void OperatorRegistry::add(const std::string& name, std::string summary, OpBuilder builder) {
  entries_[name] = Entry{std::move(summary), std::move(builder)};
}

BuiltOperator OperatorRegistry::build(const std::string& name, const OpArgs& args,
                                        const OpBuildContext& context) const {
  auto it = entries_.find(name);
  if (it == entries_.end()) {
    std::string known;
    for (const auto& [n, e] : entries_) known += (known.empty() ? "" : ", ") + n;
    throw std::invalid_argument("unknown op '" + name + "' (known: " + known + ")");
  }
  return it->second.builder(args, context);
}

std::vector<std::pair<std::string, std::string>> OperatorRegistry::list() const {
  std::vector<std::pair<std::string, std::string>> out;
  for (const auto& [name, entry] : entries_) out.emplace_back(name, entry.summary);
  return out;
}

}  // namespace conveyor
