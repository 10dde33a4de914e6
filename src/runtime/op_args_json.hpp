#pragma once
// OpArgs as nlohmann::json, for the layers' sources only: the public header names no third-party type.
#include <nlohmann/json.hpp>

#include "conveyor/runtime/op_args.hpp"

namespace conveyor {

struct OpArgs::Access {
  static const nlohmann::json& json(const OpArgs& args) {
    return *static_cast<const nlohmann::json*>(args.value_.get());
  }
  static OpArgs make(nlohmann::json value) {
    return OpArgs(std::shared_ptr<const void>(std::make_shared<nlohmann::json>(std::move(value))));
  }
  // An element of `owner`'s value, sharing the owner's ownership instead of copying the element.
  static OpArgs alias(const OpArgs& owner, const nlohmann::json& element) {
    return OpArgs(std::shared_ptr<const void>(owner.value_, &element));
  }
  // The value to change in place: `args`' own when nothing else shares it, else a fresh copy.
  static nlohmann::json& writable(OpArgs& args) {
    if (args.value_.use_count() != 1) args = make(json(args));
    return const_cast<nlohmann::json&>(json(args));  // make() created it non-const
  }
};

inline const nlohmann::json& json_of(const OpArgs& args) {
  return OpArgs::Access::json(args);
}

inline OpArgs op_args_of(nlohmann::json value) {
  return OpArgs::Access::make(std::move(value));
}

}  // namespace conveyor
