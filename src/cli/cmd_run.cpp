#include <cerrno>
#include <condition_variable>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <map>
#include <mutex>
#include <thread>

#include "cli/cli_runtime.hpp"
#include "cli/commands.hpp"
#include "cli/inputs.hpp"
#include "cli/json_text.hpp"
#include "cli/option_checks.hpp"
#include "cli/progress_bar.hpp"
#include "cli/tensor_json.hpp"
#include "cli/timeline_outputs.hpp"

namespace conveyor::cli {
namespace {

struct RunOptions {
  std::string pipeline;
  std::vector<std::string> inputs;
  std::string output = "results.jsonl";
  std::string input_tensor = "bytes";
  std::size_t max_values = 1000;
  TimelineOutputs timeline;
};

nlohmann::json result_json(const Result& r, const std::string& input_tensor, std::size_t max_values) {
  nlohmann::json j{{"input", r.sample.source}, {"ok", r.ok()}};
  if (!r.ok()) {
    j["error"] = {{"stage", r.error->stage}, {"message", r.error->message}};
    return j;
  }
  const auto& times = r.sample.stage_times;
  if (!times.empty())
    j["latency_ms"] = std::chrono::duration<double, std::milli>(times.back().finished - r.sample.submitted).count();
  nlohmann::json outputs = nlohmann::json::object();
  for (const auto& [name, tensor] : r.sample.tensors)
    if (name != input_tensor) outputs[name] = tensor_json(tensor, max_values);
  j["outputs"] = outputs;
  if (!r.sample.texts.empty()) j["texts"] = r.sample.texts;
  return j;
}

// plan: auto profiles missing stages on the first few inputs (all of them would be needlessly slow).
std::vector<Sample> profiling_inputs(const std::vector<std::filesystem::path>& files, const std::string& input_tensor) {
  constexpr std::size_t kMaxProfilingInputs = 16;
  std::vector<Sample> samples;
  for (const auto& file : files) {
    if (samples.size() == kMaxProfilingInputs) break;
    try {
      samples.push_back(sample_from_file(file, input_tensor, 0));
    } catch (const std::exception&) {  // unreadable: reported when run reaches it
    }
  }
  return samples;
}

nlohmann::json error_json(const std::string& input, const std::string& stage, const std::string& message) {
  return {{"input", input}, {"ok", false}, {"error", {{"stage", stage}, {"message", message}}}};
}

// The results file may replace an earlier results file, never anything else: an input (destroyed before it
// is read), the pipeline file, a model or a vocabulary named by mistake.
void check_output_may_be_replaced(const std::filesystem::path& output,
                                  const std::vector<std::filesystem::path>& files) {
  std::error_code ec;
  if (!std::filesystem::exists(output, ec)) return;
  for (const auto& file : files)
    if (std::filesystem::equivalent(output, file, ec))
      throw std::runtime_error("--output '" + output.string() + "' is also an input ('" + file.string() +
                               "'): write the results elsewhere");
  if (std::filesystem::is_directory(output, ec)) return;  // opening it fails with its own message
  std::ifstream in(output, std::ios::binary);
  std::string first_line;
  std::getline(in, first_line);
  if (first_line.empty()) return;
  const auto line = nlohmann::json::parse(first_line, nullptr, false);
  if (!line.is_object() || !line.contains("input") || !line.contains("ok"))
    throw std::runtime_error("--output '" + output.string() +
                             "' exists and is not a results file of conveyor run: not replacing it "
                             "(remove it, or write the results elsewhere)");
}

int run(const RunOptions& o) {
  const auto files = expand_inputs(o.inputs);
  check_output_may_be_replaced(o.output, files);
  check_timeline_outputs(o.timeline);
  Runtime& runtime = cli_runtime();
  PipelineConfig config = runtime.load(o.pipeline);
  StartOptions start;
  if (config.plan == PlanMode::kAuto) start.profiling_inputs = profiling_inputs(files, o.input_tensor);
  start.timeline_requests = o.timeline.timeline_requests();
  const std::unique_ptr<RunningPipeline> running = runtime.start(std::move(config), start);
  std::ofstream out(o.output);
  if (!out) throw std::runtime_error("cannot write '" + o.output + "': " + std::strerror(errno));

  // Results arrive in pipeline order (which may be completion order); the file is always in input order.
  std::mutex mutex;
  std::condition_variable progressed;
  std::map<uint64_t, std::string> pending;
  uint64_t next_to_write = 0, done = 0, failed = 0;
  auto write_in_order = [&](uint64_t id, std::string line, bool ok) {
    {
      std::lock_guard lock(mutex);
      pending[id] = std::move(line);
      for (auto it = pending.find(next_to_write); it != pending.end(); it = pending.find(next_to_write)) {
        out << it->second << '\n';
        pending.erase(it);
        ++next_to_write;
      }
      out.flush();  // every finished result is on disk, even if run is interrupted
      ++done;
      if (!ok) ++failed;
    }
    progressed.notify_all();
  };
  auto done_count = [&] {
    std::lock_guard lock(mutex);
    return done;
  };
  // Blocks until `count` results are written, or `timeout` passes.
  auto wait_for_done = [&](uint64_t count, std::chrono::milliseconds timeout) {
    std::unique_lock lock(mutex);
    progressed.wait_for(lock, timeout, [&] { return done >= count; });
  };
  auto on_result = [&](Result&& r) {
    const uint64_t id = r.sample.id;
    try {
      write_in_order(id, json_text(result_json(r, o.input_tensor, o.max_values)), r.ok());
    } catch (const std::exception& e) {  // the line must still be written, or run would wait for it forever
      write_in_order(
          id, json_text(error_json(r.sample.source, "", std::string("writing the result: ") + e.what())),
          false);
    }
  };
  ProgressBar progress("run");
  try {
    for (uint64_t i = 0; i < files.size(); ++i) {
      Sample sample;
      try {
        sample = sample_from_file(files[i], o.input_tensor, i);
      } catch (const std::exception& e) {  // unreadable file: its own error line, the rest go on
        write_in_order(i, json_text(error_json(files[i].string(), "", e.what())), false);
        continue;
      }
      // With on_full: fail the pipeline refuses work beyond max_in_flight; run is the only client, so it
      // waits for a result and offers the input again rather than drop it.
      for (;;) {
        try {
          running->submit(Sample(sample), on_result);
          break;
        } catch (const PipelineFullError&) {
          wait_for_done(done_count() + 1, std::chrono::milliseconds(20));
        }
      }
      progress.update(done_count(), files.size());
    }
  } catch (...) {
    running->pipeline().wait_idle();  // the callbacks use this frame's state: let every one return first
    throw;
  }
  while (done_count() < files.size()) {
    wait_for_done(files.size(), std::chrono::milliseconds(50));
    progress.update(done_count(), files.size());
  }
  progress.finish();
  running->pipeline().shutdown();
  std::fprintf(stderr, "%s\n", running->save_history().c_str());
  write_timeline_outputs(*running, o.timeline, std::nullopt, false);
  out.flush();
  if (!out) throw std::runtime_error("writing '" + o.output + "' failed: " + std::strerror(errno));
  std::fprintf(stderr, "%zu inputs: %llu ok, %llu failed -> %s\n", files.size(),
               static_cast<unsigned long long>(files.size() - failed),
               static_cast<unsigned long long>(failed), o.output.c_str());
  return failed ? 3 : 0;
}

}  // namespace

void add_run_command(CLI::App& app) {
  auto o = std::make_shared<RunOptions>();
  CLI::App* cmd = app.add_subcommand("run", "Run every input file through a pipeline, one JSON line per input");
  cmd->add_option("pipeline", o->pipeline, "Pipeline file (YAML)")->required()->check(CLI::ExistingFile);
  cmd->add_option("-i,--input", o->inputs, "Input files or directories (every file in them)")->required();
  cmd->add_option("-o,--output", o->output, "Results file, JSON lines in input order")->capture_default_str();
  cmd->add_option("--input-tensor", o->input_tensor, "Tensor that receives each file's bytes")->capture_default_str();
  cmd->add_option("--max-values", o->max_values, "Write tensor data only up to this many elements")
      ->capture_default_str()
      ->check(whole_number(0, int64_t{1} << 40));
  add_trace_options(*cmd, o->timeline);
  cmd->footer(
      "Example:\n  conveyor run examples/image_classify.yaml --input images/ --output results.jsonl\n"
      "Exit status: 0 when every input succeeded, 3 when some failed (their lines hold the error), 1 on error.");
  cmd->callback([o] {
    if (const int rc = run(*o); rc != 0) throw CLI::RuntimeError(rc);
  });
}

}  // namespace conveyor::cli
