#pragma once
// The load generator of conveyor bench, for a server: the same closed and open loops as run_load, through
// a KServeClient.
#include <functional>
#include <vector>

#include "conveyor/runtime/load_generator.hpp"
#include "serve/kserve_client.hpp"

namespace conveyor::serve {

// Sends spec.warmup then spec.requests requests; request i sends requests[i % size]. Closed loop:
// spec.concurrency requests in flight, each reply sending the next one at once (from the client's thread);
// latency from sending. Open loop: Poisson arrivals at spec.rate_rps, each sent at its arrival whatever is
// in flight; latency from the scheduled arrival (no coordinated omission). A rejected request (429,
// RESOURCE_EXHAUSTED) counts in `rejected`, not in `requests` nor the latencies, and a closed loop sends the
// next one in its place, as run_load does for a full pipeline. Latency percentiles are exact (every
// measured latency, sorted). `after_warmup` runs between the two phases (a /metrics scrape). The result's
// `pipeline` is left empty; spec.on_result is not used; spec.on_progress is called from this thread.
LoadResult run_remote_load(KServeClient& client, const std::vector<PreparedHandle>& requests,
                           const LoadSpec& spec, const std::function<void()>& after_warmup = {});

}  // namespace conveyor::serve
