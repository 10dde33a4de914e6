#include <cerrno>
#include <condition_variable>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <thread>

#include "cli/cli_runtime.hpp"
#include "cli/commands.hpp"
#include "cli/input_checks.hpp"
#include "cli/inputs.hpp"
#include "cli/interrupt.hpp"
#include "cli/json_text.hpp"
#include "cli/option_checks.hpp"
#include "cli/output_choice.hpp"
#include "cli/pipeline_file.hpp"
#include "cli/progress_bar.hpp"
#include "cli/result_line.hpp"
#include "cli/results_file.hpp"
#include "cli/timeline_outputs.hpp"

namespace conveyor::cli {
namespace {

namespace fs = std::filesystem;

struct RunOptions {
  std::string pipeline;
  std::vector<std::string> inputs;
  std::string output = "results.jsonl";
  std::string input_tensor = "bytes";
  bool input_tensor_given = false;
  std::size_t max_values = 1000;
  std::vector<std::string> outputs;  // --outputs: what each line holds
  std::string output_dir;            // tensors as .npy files there instead of JSON data
  bool resume = false;
  TimelineOutputs timeline;
};

// plan: auto profiles missing stages on the first few inputs (all of them would be needlessly slow).
std::vector<Sample> profiling_inputs(const InputSet& set, const std::vector<const InputRequest*>& todo) {
  constexpr std::size_t kMaxProfilingInputs = 16;
  std::vector<Sample> samples;
  for (const InputRequest* request : todo) {
    if (samples.size() == kMaxProfilingInputs) break;
    try {
      samples.push_back(read_request(set, *request, 0));
    } catch (const std::exception&) {  // unreadable: reported when run reaches it
    }
  }
  return samples;
}

std::vector<fs::path> all_files(const InputSet& set) {
  std::vector<fs::path> files;
  for (const auto& request : set.requests)
    for (const auto& [name, file] : request.files) files.push_back(file);
  return files;
}

// --output-dir gives each request a folder named by its stem: two requests must not share one.
void check_distinct_stems(const InputSet& set) {
  std::map<std::string, const InputRequest*> seen;
  for (const auto& request : set.requests)
    if (const auto [it, added] = seen.emplace(request.stem, &request); !added)
      throw std::runtime_error("--output-dir: inputs '" + it->second->name + "' and '" + request.name +
                               "' would both write to '" + request.stem + "/': rename one");
}

int run(const RunOptions& o) {
  const InputSet set = collect_inputs(o.inputs, o.input_tensor);
  if (set.tensors && o.input_tensor_given)
    throw CLI::ValidationError("--input-tensor", "names the tensor of raw files; --input NAME=FILES names its own");
  check_output_may_be_replaced(o.output, all_files(set));
  check_timeline_outputs(o.timeline);
  if (!o.output_dir.empty()) check_distinct_stems(set);
  const std::set<std::string> already = o.resume ? finished_inputs(o.output) : std::set<std::string>{};
  std::vector<const InputRequest*> todo;
  for (const auto& request : set.requests)
    if (!already.count(request.name)) todo.push_back(&request);
  const std::size_t done_before = set.requests.size() - todo.size();
  if (todo.empty()) {
    std::fprintf(stderr, "all %zu inputs are already in %s: nothing to run\n", set.requests.size(), o.output.c_str());
    return 0;
  }

  Runtime& runtime = cli_runtime();
  PipelineConfig config = load_pipeline_file(runtime, o.pipeline, "run");
  StartOptions start;
  if (config.plan == PlanMode::kAuto) start.profiling_inputs = profiling_inputs(set, todo);
  start.timeline_requests = o.timeline.timeline_requests();
  const std::unique_ptr<RunningPipeline> running = runtime.start(std::move(config), start);
  check_inputs(set, running->signature());
  ResultLineOptions line_options;
  line_options.outputs = chosen_outputs(o.outputs, set.names, *running);
  line_options.inputs = {set.names.begin(), set.names.end()};
  line_options.max_values = o.max_values;
  line_options.output_dir = o.output_dir;
  std::ofstream out(o.output, o.resume ? std::ios::app : std::ios::trunc);
  if (!out) throw std::runtime_error("cannot write '" + o.output + "': " + std::strerror(errno));

  // Results arrive in pipeline order (which may be completion order); the file is always in input order.
  // A request cancelled by a second signal has no line (it was not done: --resume runs it).
  std::mutex mutex;
  std::condition_variable progressed;
  std::map<uint64_t, std::optional<std::string>> pending;
  uint64_t next_to_write = 0, done = 0, failed = 0, cancelled = 0;
  auto write_in_order = [&](uint64_t id, std::optional<std::string> line, bool ok) {
    {
      std::lock_guard lock(mutex);
      pending[id] = std::move(line);
      for (auto it = pending.find(next_to_write); it != pending.end(); it = pending.find(next_to_write)) {
        if (it->second) out << *it->second << '\n';
        pending.erase(it);
        ++next_to_write;
      }
      out.flush();  // every finished result is on disk, even if run is killed
      if (!line) {
        ++cancelled;
      } else {
        ++done;
        if (!ok) ++failed;
      }
    }
    progressed.notify_all();
  };
  auto returned = [&] {
    std::lock_guard lock(mutex);
    return done + cancelled;
  };
  // Blocks until `count` results have returned, or `timeout` passes.
  auto wait_for_returned = [&](uint64_t count, std::chrono::milliseconds timeout) {
    std::unique_lock lock(mutex);
    progressed.wait_for(lock, timeout, [&] { return done + cancelled >= count; });
  };
  InterruptWatch interrupts;
  auto on_result = [&](Result&& r) {
    const uint64_t id = r.sample.id;
    if (!r.ok() && r.error->kind == RequestError::Kind::kCancelled && interrupts.signals() >= 2) {
      write_in_order(id, std::nullopt, false);
      return;
    }
    try {
      write_in_order(id, json_text(result_json(r, todo[id]->stem, line_options)), r.ok());
    } catch (const std::exception& e) {  // the line must still be written, or run would wait for it forever
      write_in_order(
          id, json_text(error_json(r.sample.source, "", std::string("writing the result: ") + e.what())),
          false);
    }
  };
  constexpr std::chrono::milliseconds kPoll{50};  // how soon a signal is seen while waiting for the pipeline
  ProgressBar progress("run");
  uint64_t offered = 0;  // requests given to the pipeline, or written as unreadable
  try {
    for (; offered < todo.size() && interrupts.signals() == 0; ++offered) {
      Sample sample;
      try {
        sample = read_request(set, *todo[offered], offered);
      } catch (const std::exception& e) {  // unreadable file: its own error line, the rest go on
        write_in_order(offered, json_text(error_json(todo[offered]->name, "", e.what())), false);
        continue;
      }
      bool admitted = false;
      while (!admitted && interrupts.signals() == 0) admitted = running->try_submit(Sample(sample), on_result, kPoll);
      if (!admitted) break;
      progress.update(returned(), todo.size());
    }
  } catch (...) {
    running->pipeline().wait_idle();  // the callbacks use this frame's state: let every one return first
    throw;
  }
  bool cancelling = false;
  while (returned() < offered) {
    wait_for_returned(offered, kPoll);
    progress.update(returned(), todo.size());
    if (!cancelling && interrupts.signals() >= 2) {
      cancelling = true;
      uint64_t first;
      {
        std::lock_guard lock(mutex);
        first = next_to_write;
      }
      for (uint64_t id = first; id < offered; ++id) running->cancel(id);
    }
  }
  progress.finish();
  running->pipeline().shutdown();
  std::fprintf(stderr, "%s\n", running->save_history().c_str());
  write_timeline_outputs(*running, o.timeline, std::nullopt, false);
  out.flush();
  if (!out) throw std::runtime_error("writing '" + o.output + "' failed: " + std::strerror(errno));
  if (offered < todo.size() || cancelled > 0) {
    std::fprintf(stderr, "%llu of %zu done -> %s (interrupted by %s; --resume continues)\n",
                 static_cast<unsigned long long>(done_before + done), set.requests.size(), o.output.c_str(),
                 interrupts.signal_name());
    return interrupts.exit_status();
  }
  std::fprintf(stderr, "%zu inputs: %llu ok, %llu failed -> %s", todo.size(),
               static_cast<unsigned long long>(todo.size() - failed), static_cast<unsigned long long>(failed),
               o.output.c_str());
  if (done_before) std::fprintf(stderr, " (after the %zu already there)", done_before);
  std::fprintf(stderr, "\n");
  return failed ? 3 : 0;
}

}  // namespace

void add_run_command(CLI::App& app) {
  auto o = std::make_shared<RunOptions>();
  CLI::App* cmd = app.add_subcommand("run", "Run every input through a pipeline, one JSON line per input");
  cmd->add_option("pipeline", o->pipeline, "Pipeline file (YAML)")->required()->check(CLI::ExistingFile);
  cmd->add_option("-i,--input", o->inputs,
                  "Input files or directories (each file's bytes are one input), or NAME=DIR_OR_FILES "
                  "(repeatable): .npy tensors for tensor NAME, matched across names by file stem")
      ->required();
  cmd->add_option("-o,--output", o->output, "Results file, JSON lines in input order")->capture_default_str();
  cmd->add_option("--input-tensor", o->input_tensor, "Tensor that receives each raw file's bytes")
      ->capture_default_str();
  cmd->add_option("--outputs", o->outputs,
                  "Tensors and texts each line holds, comma-separated (default: the last stage's outputs)")
      ->delimiter(',');
  cmd->add_option("--output-dir", o->output_dir,
                  "Write each result's tensors as DIR/<input stem>/<tensor>.npy (the line names the files)");
  cmd->add_flag("--resume", o->resume,
                "Skip the inputs already in the results file (an interrupted run's) and append the rest");
  cmd->add_option("--max-values", o->max_values, "Write tensor data only up to this many elements")
      ->capture_default_str()
      ->check(whole_number(0, int64_t{1} << 40));
  add_trace_options(*cmd, o->timeline);
  cmd->footer(
      "Examples:\n  conveyor run examples/image_classify.yaml --input images/ --output results.jsonl\n"
      "  conveyor run model.yaml --input ids=ids/ --input mask=mask/ --outputs logits --output-dir out/\n"
      "Ctrl-C (SIGINT) or SIGTERM stops admitting inputs, finishes those in flight (a second signal cancels\n"
      "them), keeps every finished line and says how far it got; --resume continues.");
  cmd->callback([o, cmd] {
    o->input_tensor_given = cmd->count("--input-tensor") > 0;
    if (const int rc = run(*o); rc != 0) throw CLI::RuntimeError(rc);
  });
}

}  // namespace conveyor::cli
