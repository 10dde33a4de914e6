#include <fmt/format.h>

#include <chrono>
#include <cstdio>

#include "cli/bench_driver.hpp"
#include "cli/cli_runtime.hpp"
#include "cli/commands.hpp"
#include "cli/json_text.hpp"
#include "cli/option_checks.hpp"
#include "cli/option_lists.hpp"
#include "cli/pipeline_file.hpp"

namespace conveyor::cli {
namespace {

struct ProfileCommand {
  std::string pipeline;
  std::vector<std::string> inputs;
  std::string input_tensor = "bytes";
  std::string threads;  // default 1..machine cores
  uint64_t requests = 100;
  uint64_t warmup = 5;
  bool show = false;
  double age_out_days = 0;
  bool json = false;
};

nlohmann::json entry_summary(const plan::ProfileEntry& e) {
  const plan::ServiceTime t = e.service_time();
  return {{"stage", e.stage_name},
          {"op", e.op},
          {"threads", e.threads},
          {"samples", e.count()},
          {"mean_ms", t.mean * 1e3},
          {"p50_ms", t.quantile(0.5) * 1e3},
          {"p99_ms", t.quantile(0.99) * 1e3},
          {"cv2", t.cv2},
          {"updated", e.updated()},
          {"cpu_model", e.cpu_model},
          {"key", e.key}};
}

std::string age(int64_t unix_time) {
  const int64_t s = plan::ProfileStore::now_unix() - unix_time;
  if (s < 120) return fmt::format("{}s ago", s);
  if (s < 7200) return fmt::format("{}m ago", s / 60);
  if (s < 172800) return fmt::format("{}h ago", s / 3600);
  return fmt::format("{}d ago", s / 86400);
}

void show(const ProfileCommand& o) {
  const Runtime& runtime = cli_runtime();
  const plan::ProfileStore& store = runtime.profiles();
  const std::string& cpu = runtime.topology().cpu_model();
  std::vector<plan::ProfileEntry> entries;
  std::vector<std::string> unreadable;  // one corrupt file hides only its own profile
  if (!o.pipeline.empty()) {
    const PipelineConfig config = runtime.expand(load_pipeline_file(runtime, o.pipeline, "profile"));
    for (const auto& stage : config.stages) {
      try {
        for (auto& e : runtime.stored_profiles(config, stage)) {
          e.stage_name = stage.name;  // the file's name for it
          entries.push_back(std::move(e));
        }
      } catch (const plan::ProfileStoreError& error) {
        unreadable.push_back(error.what());
      }
    }
  } else {
    entries = store.entries(&unreadable);
  }
  for (const auto& error : unreadable) std::fprintf(stderr, "warning: %s\n", error.c_str());
  if (o.json) {
    nlohmann::json list = nlohmann::json::array();
    for (const auto& e : entries) list.push_back(entry_summary(e));
    const nlohmann::json report{
        {"dir", store.dir().string()}, {"cpu_model", cpu}, {"profiles", list}, {"unreadable", unreadable}};
    std::printf("%s\n", json_text(report, 2).c_str());
    return;
  }
  std::printf("profiles in %s\n", store.dir().string().c_str());
  if (entries.empty()) {
    std::printf(
        "  none%s; measure a pipeline's stages with: conveyor profile PIPELINE.yaml --input FILES...\n",
        o.pipeline.empty() ? "" : " for this pipeline on this CPU");
    return;
  }
  std::string current_cpu;
  for (const auto& e : entries) {
    if (e.cpu_model != current_cpu) {
      current_cpu = e.cpu_model;
      std::printf("\n%s%s\n", current_cpu.c_str(), current_cpu == cpu ? " (this machine)" : "");
      std::printf("  %-16s %-18s %7s %8s %9s %9s %9s %6s  %-10s %s\n", "stage", "op", "threads", "samples",
                  "mean ms", "p50 ms", "p99 ms", "cv^2", "updated", "key");
    }
    const plan::ServiceTime t = e.service_time();
    const std::string stage =
        e.args.has(plan::kBatchArgument)
            ? fmt::format("{} ×{}", e.stage_name, e.args.at(plan::kBatchArgument).to_json())
            : e.stage_name;
    std::printf("  %s %-18s %7d %8llu %9.3f %9.3f %9.3f %6.3f  %-10s %s\n",
                fmt::format("{:<16}", stage).c_str(), e.op.c_str(), e.threads,
                static_cast<unsigned long long>(e.count()), t.mean * 1e3, t.quantile(0.5) * 1e3,
                t.quantile(0.99) * 1e3, t.cv2, age(e.updated()).c_str(), e.key.c_str());
  }
}

void measure(const ProfileCommand& o) {
  Runtime& runtime = cli_runtime();
  const PipelineConfig file_config = load_pipeline_file(runtime, o.pipeline, "profile");
  const PipelineConfig config = runtime.expand(file_config);
  const Topology& machine = runtime.topology();
  const std::vector<int> threads =
      parse_thread_counts(o.threads.empty() ? "1.." + std::to_string(machine.thread_count()) : o.threads);
  if (threads.back() > machine.thread_count())
    throw std::invalid_argument(fmt::format("--threads {}: the machine has {} cores ({})", o.threads,
                                            machine.thread_count(), machine.describe()));
  std::vector<Sample> inputs;
  for (const auto& tensor : read_input_tensors(o.inputs)) {
    Sample s;
    s.tensors[o.input_tensor] = tensor;
    inputs.push_back(std::move(s));
  }
  if (inputs.empty()) throw std::invalid_argument("profile: no input files");
  ProfileOptions options;
  options.threads = threads;
  options.run.requests = o.requests;
  options.run.warmup = o.warmup;
  if (!o.json)
    std::printf("profiling '%s' (%zu stages) on %s\n%llu requests per stage and thread count, %zu inputs\n\n",
                config.name.c_str(), config.stages.size(), machine.describe().c_str(),
                static_cast<unsigned long long>(o.requests), inputs.size());
  if (!o.json)
    std::printf("%-16s %7s %9s %9s %9s %7s %8s %7s\n", "stage", "threads", "mean ms", "p50 ms", "p99 ms",
                "cv^2", "samples", "errors");
  nlohmann::json rows = nlohmann::json::array();
  const auto on_run = [&](const StageProfileRun& run) {
    const plan::StageMeasurement& m = run.measurement;
    const plan::ServiceTime time = plan::ServiceTime::from_samples(m.service);
    // A batching stage's batch runs: "encoder ×8", each sample one whole batch.
    const std::string stage = run.batch > 1 ? fmt::format("{} ×{}", run.stage, run.batch) : run.stage;
    nlohmann::json row{{"stage", run.stage},
                       {"threads", run.threads},
                       {"batch", run.batch},
                       {"mean_ms", time.mean * 1e3},
                       {"p50_ms", time.quantile(0.5) * 1e3},
                       {"p99_ms", time.quantile(0.99) * 1e3},
                       {"cv2", time.cv2},
                       {"samples", m.service.size()},
                       {"errors", m.errors},
                       {"stored_samples", run.stored.count()},
                       {"key", run.stored.key}};
    if (m.errors) row["first_error"] = m.first_error;
    if (!o.json)
      std::printf("%s %7d %9.3f %9.3f %9.3f %7.3f %8zu %7llu%s\n", fmt::format("{:<16}", stage).c_str(),
                  run.threads, time.mean * 1e3, time.quantile(0.5) * 1e3, time.quantile(0.99) * 1e3, time.cv2,
                  m.service.size(), static_cast<unsigned long long>(m.errors),
                  m.errors ? ("  (" + m.first_error + ")").c_str() : "");
    rows.push_back(std::move(row));
  };
  const auto on_resplit = [&](const std::string& stage) {
    if (!o.json)
      std::printf("%-16s (split: auto cuts the model differently now that the other stages are known)\n",
                  stage.c_str());
  };
  runtime.profile(file_config, std::move(inputs), options, on_run, on_resplit);
  const plan::ProfileStore& store = runtime.profiles();
  if (o.json) {
    const nlohmann::json report{{"pipeline", config.name},
                                {"cpu_model", machine.cpu_model()},
                                {"dir", store.dir().string()},
                                {"profiles", rows}};
    std::printf("%s\n", json_text(report, 2).c_str());
    return;
  }
  std::printf("\nstored in %s\nnext: conveyor plan %s    (or: conveyor simulate %s)\n",
              store.dir().string().c_str(), o.pipeline.c_str(), o.pipeline.c_str());
}

}  // namespace

void add_profile_command(CLI::App& app) {
  auto o = std::make_shared<ProfileCommand>();
  CLI::App* cmd = app.add_subcommand(
      "profile",
      "Measure each stage's service time at each thread count and store it (for plan and simulate)");
  cmd->add_option("pipeline", o->pipeline, "Pipeline file (YAML)")->check(CLI::ExistingFile);
  cmd->add_option("-i,--input", o->inputs, "Input files or directories; requests cycle through them");
  cmd->add_option("--input-tensor", o->input_tensor, "Tensor that receives each file's bytes")
      ->capture_default_str();
  cmd->add_option("-t,--threads", o->threads,
                  "Thread counts to measure: 1..N, a list 1,2,4 or one count "
                  "(default 1..the machine's cores)");
  cmd->add_option("-n,--requests", o->requests, "Measured requests per stage and thread count")
      ->capture_default_str()
      ->check(whole_number(1, kMaxRequests));
  cmd->add_option("--warmup", o->warmup, "Requests run first and not measured")
      ->capture_default_str()
      ->check(whole_number(0, kMaxRequests));
  cmd->add_flag("--show", o->show, "List the stored profiles (of the pipeline's stages when one is given)");
  cmd->add_option("--age-out", o->age_out_days, "Drop measurements older than this many days")
      ->check(positive_number());
  cmd->add_flag("--json", o->json, "Print JSON instead of tables");
  cmd->footer(
      "Examples:\n  conveyor profile examples/image_classify.yaml --input images/ --threads 1..2 --requests "
      "200\n"
      "  conveyor profile --show\n  conveyor profile --age-out 30\n"
      "Profiles live in $XDG_CACHE_HOME/conveyor/profiles (or ~/.cache/conveyor/profiles), keyed by "
      "operator,\n"
      "arguments, model file content, thread count and CPU model.");
  cmd->callback([o] {
    if (o->age_out_days > 0) {
      plan::ProfileStore& store = cli_runtime().profiles();
      const auto seconds = std::chrono::seconds(static_cast<int64_t>(o->age_out_days * 86400));
      std::vector<std::string> unreadable;
      const std::size_t dropped = store.age_out(seconds, plan::ProfileStore::now_unix(), &unreadable);
      for (const auto& error : unreadable) std::fprintf(stderr, "warning: %s\n", error.c_str());
      std::printf("dropped %zu measurement(s) older than %g days from %s\n", dropped, o->age_out_days,
                  store.dir().string().c_str());
      return;
    }
    if (o->show) return show(*o);
    if (o->pipeline.empty())
      throw CLI::ValidationError("profile", "give a pipeline file (or --show / --age-out)");
    if (o->inputs.empty())
      throw CLI::ValidationError("--input", "profile needs input files to run the stages on");
    measure(*o);
  });
}

}  // namespace conveyor::cli
