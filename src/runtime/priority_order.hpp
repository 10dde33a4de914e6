#pragma once
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <limits>

namespace conveyor {

// Which queued item is served next: the one with the highest effective priority
//   priority + (time waited) / aging,
// ties in queue order (oldest first). Aging keeps low priority from starving: an item that has waited
// `aging` per level of difference catches up with a newer, more urgent one.
//
// Between two items the comparison does not depend on when it is made: i goes before j exactly when
//   enqueued_i - priority_i * aging  <  enqueued_j - priority_j * aging,
// so each item gets a fixed rank when it is queued (its enqueue time moved earlier by `aging` per level)
// and choosing reads no clock. aging == 0 is the limit where any wait outweighs any priority: plain FIFO.
class PriorityOrder {
 public:
  using TimePoint = std::chrono::steady_clock::time_point;
  using Rank = int64_t;  // nanoseconds on the steady clock; lower is served first

  PriorityOrder() = default;
  explicit PriorityOrder(std::chrono::nanoseconds aging) : aging_ns_(aging.count() > 0 ? aging.count() : 0) {}

  // Priorities are ignored (every item ranks as FIFO).
  bool fifo() const { return aging_ns_ == 0; }

  // Saturates rather than overflows, for extreme priorities or aging intervals (then ties go FIFO).
  Rank rank(int priority, TimePoint enqueued) const {
    const int64_t t =
        std::chrono::duration_cast<std::chrono::nanoseconds>(enqueued.time_since_epoch()).count();
    int64_t head_start = 0, rank = 0;
    if (__builtin_mul_overflow(static_cast<int64_t>(priority), aging_ns_, &head_start))
      return priority > 0 ? kMin : kMax;
    if (__builtin_sub_overflow(t, head_start, &rank)) return head_start > 0 ? kMin : kMax;
    return rank;
  }

  // The position (0 = oldest) of the first of the `n` lowest ranks, read in queue order by rank_at(i).
  template <typename RankAt>
  static std::size_t pick(std::size_t n, RankAt rank_at) {
    std::size_t best = 0;
    Rank best_rank = n ? rank_at(0) : 0;
    for (std::size_t i = 1; i < n; ++i) {
      const Rank r = rank_at(i);
      if (r < best_rank) best = i, best_rank = r;
    }
    return best;
  }

 private:
  static constexpr Rank kMin = std::numeric_limits<Rank>::min();
  static constexpr Rank kMax = std::numeric_limits<Rank>::max();
  int64_t aging_ns_ = 100'000'000;  // 100 ms, PipelineOptions' default
};

}  // namespace conveyor
