#pragma once
// The most intra-op threads an operator's worker may ask for (a stage's `threads`); the engine's cap, so
// that layers above ops check it without knowing the engine.
namespace conveyor {

inline constexpr int kMaxOpThreads = 1024;

}  // namespace conveyor
