#include "conveyor/plan/simulator.hpp"

#include <algorithm>
#include <cmath>
#include <deque>
#include <limits>
#include <map>
#include <queue>
#include <random>
#include <set>
#include <stdexcept>

namespace conveyor::plan {
namespace {

constexpr std::size_t kUnlimited = std::numeric_limits<std::size_t>::max();

// Draws one stage's service times.
class ServiceSampler {
 public:
  ServiceSampler(const ServiceTime& t, Sampling sampling, uint64_t seed) : time_(t), rng_(seed) {
    use_samples_ = sampling == Sampling::kEmpirical && !t.samples.empty();
    if (use_samples_ || t.cv2 <= 0) return;
    if (sampling == Sampling::kLognormal) {
      const double sigma2 = std::log1p(t.cv2);
      lognormal_ = std::lognormal_distribution<double>(std::log(t.mean) - sigma2 / 2, std::sqrt(sigma2));
    } else {
      gamma_ = std::gamma_distribution<double>(1 / t.cv2, t.mean * t.cv2);
    }
    lognormal_chosen_ = sampling == Sampling::kLognormal;
  }
  double draw() {
    if (use_samples_)
      return time_.samples[std::uniform_int_distribution<std::size_t>(0, time_.samples.size() - 1)(rng_)];
    if (time_.cv2 <= 0) return time_.mean;
    return lognormal_chosen_ ? lognormal_(rng_) : gamma_(rng_);
  }

 private:
  ServiceTime time_;
  std::mt19937_64 rng_;
  bool use_samples_ = false, lognormal_chosen_ = false;
  std::lognormal_distribution<double> lognormal_;
  std::gamma_distribution<double> gamma_;
};

SimLatency summarize(std::vector<double> values) {
  SimLatency s;
  if (values.empty()) return s;
  std::sort(values.begin(), values.end());
  double sum = 0;
  for (double v : values) sum += v;
  auto at = [&](double q) {
    return values[std::min(values.size() - 1,
                           static_cast<std::size_t>(q * static_cast<double>(values.size())))];
  };
  s.mean = sum / static_cast<double>(values.size());
  s.p50 = at(0.50);
  s.p90 = at(0.90);
  s.p99 = at(0.99);
  s.max = values.back();
  return s;
}

class Simulation {
 public:
  Simulation(const std::vector<SimStage>& stages, const SimOptions& o) : stages_(stages), o_(o) {
    total_ = o.warmup + o.requests;
    max_in_flight_ = o.workload.max_in_flight ? o.workload.max_in_flight : kUnlimited;
    arrival_rng_.seed(o.seed);
    runs_.assign(stages.size(), 0);
    run_requests_.assign(stages.size(), 0);
    std::map<int, std::size_t> group_processor;
    for (std::size_t s = 0; s < stages.size(); ++s) {
      samplers_.emplace_back(stages[s].service, o.sampling, o.seed * 1000003 + s + 1);
      std::map<int, ServiceSampler> batch_samplers;
      for (const auto& [size, time] : stages[s].batch.by_size)
        batch_samplers.emplace(size,
                               ServiceSampler(time, o.sampling, o.seed * 1000003 + s + 1 + 7919 * size));
      batch_samplers_.push_back(std::move(batch_samplers));
      queues_.emplace_back();
      blocked_.emplace_back();
      std::vector<Worker> workers(static_cast<std::size_t>(stages[s].workers));
      for (auto& w : workers) {
        if (stages[s].shared_group >= 0) {
          auto [it, added] = group_processor.emplace(stages[s].shared_group, processors_.size());
          if (added) processors_.emplace_back();
          w.processor = it->second;
        } else {
          w.processor = processors_.size();
          processors_.emplace_back();
        }
      }
      workers_.push_back(std::move(workers));
    }
    requests_.resize(total_);
    for (auto& r : requests_) r.finished.assign(stages.size(), 0), r.started.assign(stages.size(), 0);
  }

  SimResult run() {
    if (o_.workload.rate_rps) {
      schedule_arrival(0 + next_gap());
    } else {
      const auto n = std::min<uint64_t>(static_cast<uint64_t>(o_.workload.concurrency), total_);
      for (uint64_t i = 0; i < n; ++i) arrive(0);
    }
    settle();
    while (!events_.empty()) {
      const Event e = events_.top();
      events_.pop();
      now_ = e.time;
      if (e.kind == Event::kArrival) {
        arrive(now_);
        if (arrived_ < total_) schedule_arrival(now_ + next_gap());
      } else if (e.kind == Event::kBatchFormed) {
        Worker& worker = workers_[e.stage][e.worker];
        if (worker.state == Worker::kForming && worker.version == e.version) start_service(e.stage, e.worker);
      } else {
        complete_on(e.processor, e.version);
      }
      settle();
    }
    if (delivered_ != total_)
      throw std::logic_error("simulation stalled: " + std::to_string(delivered_) + " of " +
                             std::to_string(total_) + " requests delivered");
    return result();
  }

 private:
  struct Request {
    double arrival = 0;
    double delivered = 0;
    std::vector<double> started, finished;
  };
  struct Worker {
    std::size_t processor = 0;
    // kForming: holds requests and waits for more (a batching stage); kBlocked: finished, waiting for room
    // in the next queue for what it still holds.
    enum State { kIdle, kForming, kServing, kBlocked } state = kIdle;
    std::deque<uint64_t> held;
    uint64_t version = 0;  // a kBatchFormed event for an earlier batch is stale
    double remaining = 0;  // work left (seconds at full speed)
    double busy_since = 0;
    double busy_total = 0;
  };
  struct Processor {
    std::vector<std::pair<std::size_t, std::size_t>> active;  // (stage, worker) in service
    double last = 0;
    uint64_t version = 0;
  };
  struct Event {
    enum Kind { kArrival, kCompletion, kBatchFormed } kind;
    double time;
    uint64_t seq;
    std::size_t processor;
    uint64_t version;
    std::size_t stage = 0, worker = 0;  // kBatchFormed
    bool operator>(const Event& other) const {
      return time != other.time ? time > other.time : seq > other.seq;
    }
  };

  double next_gap() { return std::exponential_distribution<double>(*o_.workload.rate_rps)(arrival_rng_); }
  void schedule_arrival(double t) { events_.push({Event::kArrival, t, seq_++, 0, 0}); }

  void arrive(double t) {
    if (arrived_ >= total_) return;
    requests_[arrived_].arrival = t;
    admission_.push_back(arrived_++);
  }

  bool has_room(std::size_t s) const {
    const std::size_t cap = stages_[s].queue_capacity ? stages_[s].queue_capacity : kUnlimited;
    return queues_[s].size() < cap;
  }

  void advance(Processor& p) {
    if (!p.active.empty()) {
      const double speed = 1.0 / static_cast<double>(p.active.size());
      for (auto [s, w] : p.active) workers_[s][w].remaining -= (now_ - p.last) * speed;
    }
    p.last = now_;
  }

  void reschedule(std::size_t index) {
    Processor& p = processors_[index];
    ++p.version;
    if (p.active.empty()) return;
    double least = std::numeric_limits<double>::infinity();
    for (auto [s, w] : p.active) least = std::min(least, workers_[s][w].remaining);
    const double finish = now_ + std::max(0.0, least) * static_cast<double>(p.active.size());
    events_.push({Event::kCompletion, finish, seq_++, index, p.version});
  }

  // An idle worker takes what is queued (one request, or up to a batch); a batching one may wait for more.
  void take(std::size_t s, std::size_t w) {
    Worker& worker = workers_[s][w];
    const SimBatch& batch = stages_[s].batch;
    const auto most = static_cast<std::size_t>(std::max(1, batch.max_size));
    while (!queues_[s].empty() && worker.held.size() < most) {
      worker.held.push_back(queues_[s].front());
      queues_[s].pop_front();
    }
    if (worker.state == Worker::kIdle && worker.held.size() < most && batch.max_delay_s > 0) {
      worker.state = Worker::kForming;
      ++worker.version;
      Event formed{Event::kBatchFormed, now_ + batch.max_delay_s, seq_++, 0, worker.version};
      formed.stage = s;
      formed.worker = w;
      events_.push(formed);
      return;
    }
    if (worker.held.size() >= most || worker.state == Worker::kIdle) start_service(s, w);
  }

  // What the worker holds runs as batches of the largest allowed sizes, one after another.
  double service_draw(std::size_t s, std::size_t count) {
    const SimBatch& batch = stages_[s].batch;
    if (batch.sizes.empty()) return samplers_[s].draw() * static_cast<double>(count);
    double total = 0;
    while (count > 0) {
      const int size =
          *std::prev(std::upper_bound(batch.sizes.begin(), batch.sizes.end(), static_cast<int>(count)));
      const auto sampler = batch_samplers_[s].find(size);
      total += size == 1 || sampler == batch_samplers_[s].end() ? samplers_[s].draw() * size
                                                                : sampler->second.draw();
      count -= static_cast<std::size_t>(size);
    }
    return total;
  }

  void start_service(std::size_t s, std::size_t w) {
    Worker& worker = workers_[s][w];
    Processor& p = processors_[worker.processor];
    advance(p);
    worker.state = Worker::kServing;
    worker.remaining = service_draw(s, worker.held.size());
    ++runs_[s];
    run_requests_[s] += worker.held.size();
    worker.busy_since = now_;
    for (const uint64_t request : worker.held) requests_[request].started[s] = now_;
    p.active.emplace_back(s, w);
    dirty_.insert(worker.processor);
  }

  void complete_on(std::size_t index, uint64_t version) {
    Processor& p = processors_[index];
    if (version != p.version) return;  // superseded: the processor's job mix changed since
    advance(p);
    // The job that triggered this event finishes now (and any that finish at the same instant).
    double least = std::numeric_limits<double>::infinity();
    for (auto [s, w] : p.active) least = std::min(least, workers_[s][w].remaining);
    std::vector<std::pair<std::size_t, std::size_t>> done, still;
    for (auto sw : p.active)
      (workers_[sw.first][sw.second].remaining <= least + 1e-15 ? done : still).push_back(sw);
    p.active = std::move(still);
    dirty_.insert(index);
    for (auto [s, w] : done) finish_service(s, w);
  }

  void finish_service(std::size_t s, std::size_t w) {
    Worker& worker = workers_[s][w];
    worker.busy_total += now_ - worker.busy_since;
    for (const uint64_t request : worker.held) requests_[request].finished[s] = now_;
    if (s + 1 == stages_.size()) {
      std::deque<uint64_t> finished;
      finished.swap(worker.held);
      worker.state = Worker::kIdle;  // before delivery, which may take a busy snapshot
      for (const uint64_t request : finished) finish_request(request);
      return;
    }
    while (!worker.held.empty() && has_room(s + 1)) {
      queues_[s + 1].push_back(worker.held.front());
      worker.held.pop_front();
    }
    if (worker.held.empty()) {
      worker.state = Worker::kIdle;
    } else {
      worker.state = Worker::kBlocked;
      blocked_[s].push_back(w);
    }
  }

  void finish_request(uint64_t request) {
    done_.insert(request);
    if (!o_.in_order) return deliver(request);
    while (done_.count(next_deliver_)) deliver(next_deliver_++);
  }

  void deliver(uint64_t request) {
    done_.erase(request);
    requests_[request].delivered = now_;
    ++delivered_;
    --in_flight_;
    if (delivered_ == o_.warmup) {
      window_start_ = now_;
      busy_at_start_ = busy_snapshot();
      runs_.assign(stages_.size(), 0);
      run_requests_.assign(stages_.size(), 0);
    }
    if (!o_.workload.rate_rps) arrive(now_);  // closed loop: the client sends its next request
  }

  void settle() {
    pump();
    for (std::size_t p : dirty_) reschedule(p);
    dirty_.clear();
  }

  // Moves work along until nothing can move: idle workers take queued items (making room), blocked
  // workers hand theirs on, the admission line enters the first queue while tokens last.
  void pump() {
    for (bool moved = true; moved;) {
      moved = false;
      for (std::size_t s = stages_.size(); s-- > 0;) {
        for (std::size_t w = 0; w < workers_[s].size() && !queues_[s].empty(); ++w) {
          const auto state = workers_[s][w].state;
          if (state != Worker::kIdle && state != Worker::kForming) continue;
          take(s, w);
          moved = true;
        }
        if (s > 0)
          while (!blocked_[s - 1].empty() && has_room(s)) {
            Worker& worker = workers_[s - 1][blocked_[s - 1].front()];
            queues_[s].push_back(worker.held.front());
            worker.held.pop_front();
            if (worker.held.empty()) {
              blocked_[s - 1].pop_front();
              worker.state = Worker::kIdle;
            }
            moved = true;
          }
      }
      while (!admission_.empty() && in_flight_ < max_in_flight_ && has_room(0)) {
        queues_[0].push_back(admission_.front());
        admission_.pop_front();
        ++in_flight_;
        moved = true;
      }
    }
  }

  std::vector<double> busy_snapshot() const {
    std::vector<double> busy;
    for (const auto& stage : workers_) {
      double sum = 0;
      for (const auto& w : stage)
        sum += w.busy_total + (w.state == Worker::kServing ? now_ - w.busy_since : 0);
      busy.push_back(sum);
    }
    return busy;
  }

  SimResult result() {
    if (o_.warmup == 0) busy_at_start_.assign(stages_.size(), 0);
    SimResult r;
    r.requests = o_.requests;
    r.seconds = now_ - window_start_;
    r.throughput_rps = r.seconds > 0 ? static_cast<double>(o_.requests) / r.seconds : 0;
    std::vector<double> latency;
    std::vector<std::vector<double>> waits(stages_.size());
    for (uint64_t i = o_.warmup; i < total_; ++i) {
      const Request& q = requests_[i];
      latency.push_back(q.delivered - q.arrival);
      for (std::size_t s = 0; s < stages_.size(); ++s)
        waits[s].push_back(q.started[s] - (s == 0 ? q.arrival : q.finished[s - 1]));
    }
    r.latency = summarize(std::move(latency));
    const std::vector<double> busy_end = busy_snapshot();
    for (std::size_t s = 0; s < stages_.size(); ++s) {
      SimStageResult sr;
      sr.name = stages_[s].name;
      const double capacity = r.seconds * static_cast<double>(stages_[s].workers);
      sr.utilization = capacity > 0 ? (busy_end[s] - busy_at_start_[s]) / capacity : 0;
      sr.wait = summarize(std::move(waits[s]));
      sr.requests_per_run = runs_[s] > 0 ? static_cast<double>(run_requests_[s]) / static_cast<double>(runs_[s]) : 1;
      r.stages.push_back(std::move(sr));
    }
    return r;
  }

  const std::vector<SimStage>& stages_;
  const SimOptions& o_;
  uint64_t total_ = 0;
  std::size_t max_in_flight_ = kUnlimited;
  std::mt19937_64 arrival_rng_;
  std::vector<ServiceSampler> samplers_;
  std::vector<std::map<int, ServiceSampler>> batch_samplers_;  // per stage: per batch size above 1
  std::vector<std::deque<uint64_t>> queues_;
  std::vector<std::deque<std::size_t>>
      blocked_;  // per stage: its workers holding a finished item, oldest first
  std::vector<std::vector<Worker>> workers_;
  std::vector<Processor> processors_;
  std::vector<Request> requests_;
  std::deque<uint64_t> admission_;
  std::set<uint64_t> done_;
  std::set<std::size_t> dirty_;
  std::priority_queue<Event, std::vector<Event>, std::greater<Event>> events_;
  double now_ = 0, window_start_ = 0;
  std::vector<double> busy_at_start_;
  std::vector<uint64_t> runs_, run_requests_;  // per stage since the window opened: runs, requests they held
  uint64_t seq_ = 0, arrived_ = 0, delivered_ = 0, next_deliver_ = 0;
  std::size_t in_flight_ = 0;
};

}  // namespace

SimResult simulate(const std::vector<SimStage>& stages, const SimOptions& options) {
  if (stages.empty()) throw std::invalid_argument("simulator: no stages");
  if (options.requests == 0) throw std::invalid_argument("simulator: requests must be >= 1");
  if (options.workload.rate_rps && !(*options.workload.rate_rps > 0))
    throw std::invalid_argument("simulator: arrival rate must be > 0");
  if (!options.workload.rate_rps && options.workload.concurrency < 1)
    throw std::invalid_argument("simulator: concurrency must be >= 1");
  for (const auto& s : stages) {
    if (s.workers < 1) throw std::invalid_argument("simulator: stage '" + s.name + "' needs >= 1 worker");
    if (s.batch.max_size > 1 && (s.batch.sizes.empty() || s.batch.sizes.front() != 1 ||
                                 s.batch.sizes.back() != s.batch.max_size || !(s.batch.max_delay_s >= 0)))
      throw std::invalid_argument("simulator: stage '" + s.name +
                                  "' batches with sizes that do not run from 1 to max_size");
    if (!(s.service.mean > 0))
      throw std::invalid_argument("simulator: stage '" + s.name + "' has no service time");
    if (s.shared_group >= 0 && s.workers != 1)
      throw std::invalid_argument("simulator: stage '" + s.name + "' shares a core, so it has one worker");
  }
  return Simulation(stages, options).run();
}

std::vector<SimStage> sim_stages(const std::vector<ModelStage>& stages, std::size_t queue_capacity) {
  std::vector<SimStage> out;
  for (const auto& s : stages) out.push_back({s.name, s.workers, s.service, queue_capacity, s.shared_group});
  return out;
}

}  // namespace conveyor::plan
