// Hand-off overhead of conveyor's runtime against oneTBB's parallel_pipeline, in one process.
// Prints per-item costs and ratios; no thresholds are asserted (machines here are shared and noisy).
#include <tbb/global_control.h>
#include <tbb/parallel_pipeline.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <thread>
#include <cstdio>
#include <vector>

#include "conveyor/runtime/pipeline.hpp"

namespace {

using namespace conveyor;
using Seconds = std::chrono::duration<double>;

// Fixed arithmetic, calibrated to take `micros` on an idle core: unlike a clock-based spin, a preempted
// thread does not get its work done while it is descheduled.
volatile uint64_t sink;
uint64_t spin_iterations(uint64_t n) {
  uint64_t x = 88172645463325252ull;
  for (uint64_t i = 0; i < n; ++i) x ^= x << 13, x ^= x >> 7, x ^= x << 17;
  return x;
}
uint64_t iterations_for_micros(double micros) {
  uint64_t n = 1 << 16;
  for (;;) {
    const auto t0 = Clock::now();
    sink = spin_iterations(n);
    const double us = Seconds(Clock::now() - t0).count() * 1e6;
    if (us > 20000) return static_cast<uint64_t>(static_cast<double>(n) * micros / us);
    n *= 2;
  }
}

struct Run {
  double seconds;
  int items;
};

Run run_conveyor(int stages, uint64_t work, int items, std::size_t in_flight, bool pin_one_core_each,
                 bool poll_metrics = false) {
  std::vector<StageSpec> specs;
  const auto& cpus = Topology::detect().cpus();
  for (int s = 0; s < stages; ++s) {
    StageSpec spec;
    // Not "s" + std::to_string(s): GCC 12 warns there with a false -Wrestrict (its bug 105329).
    spec.name = std::string("s").append(std::to_string(s));
    spec.factory = make_operator([work](Sample&) {
      if (work) sink = spin_iterations(work);
    });
    if (pin_one_core_each) {
      spec.cores.kind = CoreSpec::Kind::kIds;
      spec.cores.ids = {cpus[static_cast<std::size_t>(s) % cpus.size()]};
    } else {
      spec.cores.kind = CoreSpec::Kind::kUnpinned;
    }
    specs.push_back(std::move(spec));
  }
  PipelineOptions options;
  options.max_in_flight = in_flight;
  options.queue_capacity = in_flight;
  Pipeline pipeline(options, std::move(specs));
  std::atomic<bool> done{false};
  std::thread poller;
  if (poll_metrics)
    poller = std::thread([&] {
      while (!done) {
        sink = pipeline.metrics().completed;
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
      }
    });
  const auto t0 = Clock::now();
  for (int i = 0; i < items; ++i) {
    Sample sample;
    sample.id = static_cast<uint64_t>(i);
    pipeline.submit(std::move(sample), [](Result&&) {});
  }
  pipeline.wait_idle();
  const Run run{Seconds(Clock::now() - t0).count(), items};
  done = true;
  if (poller.joinable()) poller.join();
  return run;
}

Run run_tbb(int stages, uint64_t work, int items, std::size_t in_flight, tbb::filter_mode mode) {
  int produced = 0;
  auto filters = tbb::make_filter<void, Sample*>(tbb::filter_mode::serial_in_order, [&](tbb::flow_control& fc) -> Sample* {
    if (produced == items) {
      fc.stop();
      return nullptr;
    }
    auto* s = new Sample;
    s->id = static_cast<uint64_t>(produced++);
    return s;
  });
  auto stage = [work](Sample* s) {
    if (work) sink = spin_iterations(work);
    return s;
  };
  auto chain = filters & tbb::make_filter<Sample*, Sample*>(mode, stage);
  for (int s = 1; s < stages; ++s) chain = chain & tbb::make_filter<Sample*, Sample*>(mode, stage);
  auto all = chain & tbb::make_filter<Sample*, void>(tbb::filter_mode::serial_in_order, [](Sample* s) { delete s; });
  const auto t0 = Clock::now();
  tbb::parallel_pipeline(in_flight, all);
  return {Seconds(Clock::now() - t0).count(), items};
}

double single_item_latency_us(int stages) {
  std::vector<StageSpec> specs;
  for (int s = 0; s < stages; ++s) {
    StageSpec spec;
    // Not "s" + std::to_string(s): GCC 12 warns there with a false -Wrestrict (its bug 105329).
    spec.name = std::string("s").append(std::to_string(s));
    spec.factory = make_operator([](Sample&) {});
    spec.cores.kind = CoreSpec::Kind::kUnpinned;
    specs.push_back(std::move(spec));
  }
  Pipeline pipeline({}, std::move(specs));
  for (int i = 0; i < 200; ++i) pipeline.submit(Sample{}).get();
  pipeline.reset_metrics();
  for (int i = 0; i < 2000; ++i) pipeline.submit(Sample{}).get();
  return pipeline.metrics().latency.p50_ms * 1000.0;
}

// Alternates the two runs `rounds` times and keeps each one's median rate, so drift on a shared machine
// hits both alike.
template <typename A, typename B>
std::pair<Run, Run> alternate(int rounds, A run_a, B run_b) {
  std::vector<Run> as, bs;
  for (int i = 0; i < rounds; ++i) {
    as.push_back(run_a());
    bs.push_back(run_b());
  }
  auto median = [](std::vector<Run> runs) {
    std::sort(runs.begin(), runs.end(), [](const Run& x, const Run& y) { return x.items / x.seconds < y.items / y.seconds; });
    return runs[runs.size() / 2];
  };
  return {median(as), median(bs)};
}

void report(const char* what, const Run& a, const char* a_name, const Run& b, const char* b_name) {
  const double ra = a.items / a.seconds, rb = b.items / b.seconds;
  std::printf("%-34s %-10s %10.0f items/s   %-10s %10.0f items/s   ratio %.3f\n", what, a_name, ra, b_name, rb,
              ra / rb);
}

}  // namespace

int main(int argc, char** argv) {
  const double scale = argc > 1 ? std::atof(argv[1]) : 1.0;  // shorten with e.g. 0.2
  const int cores = Topology::detect().core_count();
  tbb::global_control limit(tbb::global_control::max_allowed_parallelism, static_cast<std::size_t>(cores));
  std::printf("machine: %s\n\n", Topology::detect().describe().c_str());
  constexpr int kStages = 4;
  constexpr std::size_t kInFlight = 16;

  // 1. No-op stages: pure hand-off cost.
  {
    const int n = static_cast<int>(200000 * scale);
    run_conveyor(kStages, 0, n / 10, kInFlight, false);  // warm-up
    const auto [c, t] = alternate(
        5, [&] { return run_conveyor(kStages, 0, n, kInFlight, false); },
        [&] { return run_tbb(kStages, 0, n, kInFlight, tbb::filter_mode::serial_in_order); });
    report("4 no-op stages (throughput)", c, "conveyor", t, "tbb");
    std::printf("  conveyor: %.2f us per item per stage hop at full load (wall / items / %d hops, %d cores)\n",
                c.seconds / c.items * 1e6 / kStages, kStages, cores);
    std::printf("  conveyor: %.2f us per hop for one item alone (p50 end-to-end latency / %d stages)\n\n",
                single_item_latency_us(kStages) / kStages, kStages);
  }

  // 2. 50 us of work per stage.
  {
    const uint64_t work = iterations_for_micros(50);
    const int n = static_cast<int>(20000 * scale);
    const auto [c, t] = alternate(
        5, [&] { return run_conveyor(kStages, work, n, kInFlight, false); },
        [&] { return run_tbb(kStages, work, n, kInFlight, tbb::filter_mode::serial_in_order); });
    const auto [c2, tp] = alternate(
        3, [&] { return run_conveyor(kStages, work, n, kInFlight, false); },
        [&] { return run_tbb(kStages, work, n, kInFlight, tbb::filter_mode::parallel); });
    report("4 x 50us stages", c, "conveyor", t, "tbb-serial");
    report("4 x 50us stages", c2, "conveyor", tp, "tbb-parallel");
    const auto [polled, quiet] = alternate(
        3, [&] { return run_conveyor(kStages, work, n, kInFlight, false, true); },
        [&] { return run_conveyor(kStages, work, n, kInFlight, false, false); });
    report("  metrics read every 1 ms", polled, "polled", quiet, "unpolled");
    std::printf("  work-conserving bound on %d cores: %.0f items/s\n\n", cores, cores / (kStages * 50e-6));
  }

  // 3. Two 1 ms stages, one core each: how close to 1/max(Ti).
  if (cores >= 2) {
    const uint64_t work = iterations_for_micros(1000);
    const int n = static_cast<int>(2000 * scale);
    const Run c = run_conveyor(2, work, n, 8, true);
    const double rate = c.items / c.seconds;
    std::printf("%-34s conveyor %10.1f items/s   1/max(Ti) = 1000/s   efficiency %.3f\n", "2 x 1ms stages, 1 core each",
                rate, rate / 1000.0);
  }
  return 0;
}
