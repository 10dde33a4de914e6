#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "conveyor/runtime/latency_histogram.hpp"

namespace conveyor {

// One member of a merged stage: the time its own operator took per item, inside the stage's service time.
struct MemberMetrics {
  std::string name;
  double busy_seconds = 0;  // all workers
  LatencySummary service;
};

struct StageMetrics {
  std::string name;
  int workers = 0;
  std::vector<int> cores;             // every physical core the stage's workers own (PhysicalCore::id)
  std::vector<int> hardware_threads;  // every hardware thread they are pinned to
  int threads_per_worker = 1;
  uint64_t items = 0;             // samples the stage's operator ran on
  uint64_t errors = 0;            // samples that failed in this stage (op error, deadline, cancel)
  double busy_seconds = 0;        // total time inside the operator, all workers
  double utilization = 0;         // busy / (elapsed x workers)
  LatencySummary service;         // time inside the operator per item (a batch's time shared by its items)
  LatencySummary queue_wait;      // time in the input queue per item
  std::size_t queue_depth = 0;
  std::size_t queue_capacity = 0;
  std::vector<MemberMetrics> members;  // a merged stage's members, in order; empty otherwise
  // A batching stage (BatchSpec): runs of each size (index = batch size; index 0 unused), how long each
  // request waited between being taken from the queue and its batch starting, and batches that failed as
  // a whole and were run again one request at a time. Empty / zero when the stage does not batch.
  std::vector<uint64_t> batches_by_size;
  LatencySummary batch_wait;
  uint64_t batches_retried = 0;
  std::string last_batch_failure;  // "batch of 4 (requests 12, 13, 14, 15) failed: ...; each run alone"
};

struct PipelineMetrics {
  double elapsed_seconds = 0;     // since start or the last reset
  uint64_t completed = 0;         // delivered with a result
  uint64_t failed = 0;            // delivered with an error
  uint64_t in_flight = 0;
  double throughput_rps = 0;      // (completed + failed) / elapsed
  LatencySummary latency;         // submit -> delivery, every delivered request
  std::vector<StageMetrics> stages;
};

}  // namespace conveyor
