#pragma once
#include <chrono>
#include <thread>

#include "conveyor/runtime/pipeline.hpp"

namespace conveyor::testing {

// A stage on no particular core, so tests run on any machine (placement has its own tests).
inline StageSpec unpinned_stage(std::string name, std::function<void(Sample&)> fn, int workers = 1) {
  StageSpec spec;
  spec.name = std::move(name);
  spec.factory = make_operator(std::move(fn));
  spec.workers = workers;
  spec.cores.kind = CoreSpec::Kind::kUnpinned;
  return spec;
}

inline Sample sample_with_value(uint64_t id, float value) {
  Sample s;
  s.id = id;
  s.tensors["x"] = Tensor::from<float>({1}, std::vector<float>{value});
  return s;
}

inline float value_of(const Sample& s, const std::string& name = "x") { return s.at(name).data<float>()[0]; }

inline void sleep_ms(double ms) { std::this_thread::sleep_for(std::chrono::duration<double, std::milli>(ms)); }

}  // namespace conveyor::testing
