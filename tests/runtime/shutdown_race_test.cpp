// Every admitted request is answered exactly once while shutdown races with try_submit and cancel.
#include <gtest/gtest.h>

#include <atomic>
#include <memory>
#include <random>
#include <thread>
#include <vector>

#include "conveyor/runtime/pipeline.hpp"
#include "runtime/test_pipelines.hpp"

namespace conveyor {
namespace {

using namespace std::chrono_literals;
using testing::sample_with_value;
using testing::unpinned_stage;

struct RaceCase {
  ShutdownMode mode;
  Ordering ordering;
};

class ShutdownRace : public ::testing::TestWithParam<RaceCase> {};

TEST_P(ShutdownRace, AdmittedRequestsAreAnsweredExactlyOnce) {
  constexpr int kClients = 3;
  constexpr uint64_t kIdsPerClient = 20000;  // client c submits ids c * kIdsPerClient + i
  constexpr uint64_t kAdmittedBeforeShutdown = 300;
  for (int round = 0; round < 3; ++round) {
    std::vector<StageSpec> stages;
    stages.push_back(unpinned_stage(
        "a",
        [](Sample& s) {
          if (s.id % 3 == 0) std::this_thread::yield();
        },
        2));
    stages.push_back(unpinned_stage("b", [](Sample&) {}));
    PipelineOptions options;
    options.max_in_flight = 8;
    options.queue_capacity = 2;
    options.ordering = GetParam().ordering;
    auto pipeline = std::make_unique<Pipeline>(options, std::move(stages));

    std::vector<std::atomic<int>> answers(kClients * kIdsPerClient);  // per id
    std::vector<std::atomic<bool>> admitted(kClients * kIdsPerClient);
    std::atomic<uint64_t> admitted_count{0};
    std::vector<std::thread> clients;
    for (int c = 0; c < kClients; ++c)
      clients.emplace_back([&, c] {
        std::mt19937 rng(static_cast<unsigned>(c + 17 * round));
        const uint64_t base = static_cast<uint64_t>(c) * kIdsPerClient;
        try {
          for (uint64_t i = 0; i < kIdsPerClient; ++i) {
            const uint64_t id = base + i;
            const auto on_done = [&answers, id](Result&&) { answers[id].fetch_add(1); };
            if (pipeline->try_submit(sample_with_value(id, 0), on_done, (i % 2) ? 1ms : 0ms)) {
              admitted[id].store(true);
              ++admitted_count;
            }
            if (i > 0 && rng() % 3 == 0) pipeline->cancel(base + rng() % i);
          }
        } catch (const PipelineClosedError&) {
        }
      });
    while (admitted_count.load() < kAdmittedBeforeShutdown) std::this_thread::yield();
    pipeline->shutdown(GetParam().mode);
    for (auto& t : clients) t.join();
    for (uint64_t id = 0; id < answers.size(); ++id)
      ASSERT_EQ(answers[id].load(), admitted[id].load() ? 1 : 0) << "request " << id << " round " << round;
  }
}

INSTANTIATE_TEST_SUITE_P(Modes, ShutdownRace,
                         ::testing::Values(RaceCase{ShutdownMode::kDrain, Ordering::kInOrder},
                                           RaceCase{ShutdownMode::kCancel, Ordering::kInOrder},
                                           RaceCase{ShutdownMode::kDrain, Ordering::kCompletion},
                                           RaceCase{ShutdownMode::kCancel, Ordering::kCompletion}));

}  // namespace
}  // namespace conveyor
