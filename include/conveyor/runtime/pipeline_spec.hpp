#pragma once
#include <chrono>
#include <cstddef>
#include <string>
#include <vector>

#include "conveyor/runtime/operator.hpp"

namespace conveyor {

enum class Ordering { kInOrder, kCompletion };   // results delivered in submit order, or as they finish
enum class FullPolicy { kBlock, kFail };         // submit() when max_in_flight is reached

// How a stage's workers get cores. A core is a physical core: a worker owns whole cores, and workers of
// different stages never share a core (nor SMT siblings of one) unless `shared`.
struct CoreSpec {
  enum class Kind { kCount, kIds, kUnpinned };
  Kind kind = Kind::kCount;
  int per_worker = 1;     // kCount: physical cores each worker owns
  std::vector<int> ids;   // kIds: hardware-thread OS ids, split among its workers; each names its whole core
  bool shared = false;    // may use cores that other stages own
  bool smt = true;        // a worker runs on every hardware thread of its cores; false: on one per core
};

// How a stage's workers group queued requests into batches (dynamic batching). A worker that takes a request
// waits up to `max_delay` for more (never past the earliest deadline it holds), up to `max_size`, then runs
// what it holds in batches of the sizes it may form, largest first (7 with sizes 1, 2, 4, 8: 4 + 2 + 1).
// Requests whose input tensors (the signature's inputs) differ in dtype or shape are never batched together.
struct BatchSpec {
  int max_size = 1;  // 1: one request at a time
  std::chrono::microseconds max_delay{0};
  // The batch sizes the stage may run, ascending, starting at 1 and ending at max_size; empty: 1, 2, 4, ...
  // up to max_size (and max_size itself). The operator compiles for each.
  std::vector<int> sizes{};

  bool batches() const { return max_size > 1; }
  // `sizes`, or the default, as the stage runs them; throws std::invalid_argument naming the problem.
  std::vector<int> run_sizes() const;
};

struct StageSpec {
  std::string name;
  OperatorFactory factory;
  OperatorSignature signature;     // what the operator reads and writes, as far as it says (not checked)
  int workers = 1;
  CoreSpec cores;
  int threads = 0;                 // intra-op threads per worker; 0: threads_per_worker (core_allocation)
  std::size_t queue_capacity = 0;  // input queue; 0 = the pipeline default
  // A merged stage (merge_stages): its members' names, in the order its operator runs them and records
  // their times (Sample::member_seconds); empty for a stage of one operator.
  std::vector<std::string> members{};
  BatchSpec batch{};
};

struct PipelineOptions {
  std::string name = "pipeline";
  std::size_t max_in_flight = 64;   // admission tokens: requests admitted and not yet delivered
  std::size_t queue_capacity = 16;  // default capacity of each stage's input queue
  Ordering ordering = Ordering::kInOrder;
  FullPolicy on_full = FullPolicy::kBlock;
  // Stage queues serve the highest Sample::priority first, aged so low priority is never starved: a
  // request gains one level per `priority_aging` it waits in a queue (ties: oldest first). 0: ignore
  // priorities, serve FIFO.
  std::chrono::milliseconds priority_aging{100};
};

}  // namespace conveyor
