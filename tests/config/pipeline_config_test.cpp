#include "conveyor/config/pipeline_config.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fstream>

#include "config/config_test_support.hpp"

namespace conveyor {
namespace {

using test::line_containing;
using test::parse_error;
using ::testing::HasSubstr;

const std::string kFullPipeline = R"(# a comment line
name: classify
max_in_flight: 32
queue_capacity: 8
ordering: completion
on_full: fail
priority_aging_ms: 250
stages:
  - name: decode
    op: image.decode
    workers: 2
    cores: 1
    args:
      input: bytes
      output: image
  - name: preprocess
    op: image.preprocess
    cores: [4, 5, 6, 7]
    workers: 2
    threads: 2
    queue_capacity: 4
    args:
      size: [224, 224]
      mean: [0.485, 0.456, 0.406]
      rgb: true
  - name: post
    op: post.topk
    cores: none
    share_cores: true
)";

TEST(PipelineConfig, ParsesEveryKey) {
  const PipelineConfig config = parse_pipeline_config(kFullPipeline, "dir/pipeline.yaml");
  EXPECT_EQ(config.name, "classify");
  EXPECT_EQ(config.options.name, "classify");
  EXPECT_EQ(config.options.max_in_flight, 32u);
  EXPECT_EQ(config.options.queue_capacity, 8u);
  EXPECT_EQ(config.options.ordering, Ordering::kCompletion);
  EXPECT_EQ(config.options.on_full, FullPolicy::kFail);
  EXPECT_EQ(config.options.priority_aging, std::chrono::milliseconds(250));
  EXPECT_EQ(config.file, std::filesystem::path("dir/pipeline.yaml"));
  EXPECT_EQ(config.base_dir, std::filesystem::absolute("dir"));
  ASSERT_EQ(config.stages.size(), 3u);

  const StageConfig& decode = config.stages[0];
  EXPECT_EQ(decode.name, "decode");
  EXPECT_EQ(decode.op, "image.decode");
  EXPECT_EQ(decode.workers, 2);
  EXPECT_EQ(decode.cores.kind, CoreSpec::Kind::kCount);
  EXPECT_EQ(decode.cores.per_worker, 1);
  EXPECT_FALSE(decode.cores.shared);
  EXPECT_EQ(decode.threads, 0);
  EXPECT_EQ(decode.queue_capacity, 0u);
  EXPECT_EQ(decode.args, OpArgs().set("input", "bytes").set("output", "image"));
  EXPECT_EQ(decode.line, line_containing(kFullPipeline, "- name: decode"));
  EXPECT_EQ(decode.key_lines.at("op"), line_containing(kFullPipeline, "op: image.decode"));
  EXPECT_EQ(decode.arg_lines.at("input"), line_containing(kFullPipeline, "input: bytes"));
  EXPECT_EQ(decode.arg_lines.at("output"), line_containing(kFullPipeline, "output: image"));

  const StageConfig& preprocess = config.stages[1];
  EXPECT_EQ(preprocess.workers, 2);
  EXPECT_EQ(preprocess.cores.kind, CoreSpec::Kind::kIds);
  EXPECT_EQ(preprocess.cores.ids, (std::vector<int>{4, 5, 6, 7}));
  EXPECT_EQ(preprocess.threads, 2);
  EXPECT_EQ(preprocess.queue_capacity, 4u);
  EXPECT_EQ(preprocess.args.at("size"), OpArgs(std::vector<int64_t>{224, 224}));
  EXPECT_TRUE(preprocess.args.at("rgb").is_bool());
  EXPECT_EQ(preprocess.arg_lines.at("mean"), line_containing(kFullPipeline, "mean:"));
  EXPECT_EQ(preprocess.key_lines.at("cores"), line_containing(kFullPipeline, "cores: [4"));

  const StageConfig& post = config.stages[2];
  EXPECT_EQ(post.cores.kind, CoreSpec::Kind::kUnpinned);
  EXPECT_TRUE(post.cores.shared);
  EXPECT_TRUE(post.args.is_mapping());
  EXPECT_EQ(post.args.size(), 0u);
  EXPECT_TRUE(post.arg_lines.empty());
}

TEST(PipelineConfig, OmittedKeysTakeTheDefaults) {
  const PipelineConfig config =
      parse_pipeline_config("stages:\n  - {name: only, op: x.y}\n", "some/where/my-pipe.yaml");
  const PipelineOptions defaults;
  EXPECT_EQ(config.name, "my-pipe");
  EXPECT_EQ(config.options.name, "my-pipe");
  EXPECT_EQ(config.options.max_in_flight, defaults.max_in_flight);
  EXPECT_EQ(config.options.queue_capacity, defaults.queue_capacity);
  EXPECT_EQ(config.options.ordering, defaults.ordering);
  EXPECT_EQ(config.options.on_full, defaults.on_full);
  EXPECT_EQ(config.options.priority_aging, defaults.priority_aging);
  ASSERT_EQ(config.stages.size(), 1u);
  const StageConfig& stage = config.stages[0];
  EXPECT_EQ(stage.workers, 1);
  EXPECT_EQ(stage.cores.kind, CoreSpec::Kind::kCount);
  EXPECT_EQ(stage.cores.per_worker, 1);
  EXPECT_EQ(stage.threads, 0);
  EXPECT_EQ(stage.queue_capacity, 0u);
  EXPECT_TRUE(stage.args.is_mapping() && stage.args.size() == 0);
}

TEST(PipelineConfig, SmtOffGivesEveryStageOneHardwareThreadPerCore) {
  const std::string stages = "stages:\n  - {name: a, op: o, cores: 2}\n  - {name: b, op: o, cores: [4]}\n";
  for (const auto& stage : parse_pipeline_config(stages, "p.yaml").stages) EXPECT_TRUE(stage.cores.smt);
  for (const auto& stage : parse_pipeline_config("smt: on\n" + stages, "p.yaml").stages)
    EXPECT_TRUE(stage.cores.smt);
  for (const auto& stage : parse_pipeline_config("smt: off\n" + stages, "p.yaml").stages)
    EXPECT_FALSE(stage.cores.smt) << stage.name;
  const ConfigError error = parse_error("smt: maybe\n" + stages);
  EXPECT_EQ(error.key(), "smt");
  EXPECT_EQ(error.line(), 1);
}

TEST(PipelineConfig, QuotedNoneMeansUnpinnedToo) {
  const PipelineConfig config =
      parse_pipeline_config("stages:\n  - {name: a, op: o, cores: \"none\"}\n", "p.yaml");
  EXPECT_EQ(config.stages.at(0).cores.kind, CoreSpec::Kind::kUnpinned);
}

TEST(PipelineConfig, ArgsConvertToJsonFaithfully) {
  const std::string yaml = R"(stages:
  - name: s
    op: o
    args:
      count: 12
      negative: -3
      hex: 0x1f
      ratio: 0.25
      exponent: 1e3
      flag: false
      quoted_number: "12"
      single_quoted: '1.5'
      word: yes
      tagged: !!str 7
      nothing: ~
      empty:
      text: |
        two
        lines
      list: [1, 2.5, "3", [true]]
      nested: {a: {b: [x, 1]}}
)";
  const OpArgs args = parse_pipeline_config(yaml, "p.yaml").stages.at(0).args;
  EXPECT_TRUE(args.at("count").is_integer());
  EXPECT_EQ(args.at("count").as_int64(), 12);
  EXPECT_EQ(args.at("negative").as_int64(), -3);
  EXPECT_EQ(args.at("hex").as_int64(), 31);
  EXPECT_TRUE(args.at("ratio").is_number() && !args.at("ratio").is_integer());
  EXPECT_DOUBLE_EQ(args.at("ratio").as_double(), 0.25);
  EXPECT_TRUE(args.at("exponent").is_number() && !args.at("exponent").is_integer());
  EXPECT_DOUBLE_EQ(args.at("exponent").as_double(), 1000.0);
  EXPECT_EQ(args.at("flag"), OpArgs(false));
  EXPECT_EQ(args.at("quoted_number"), OpArgs("12"));
  EXPECT_EQ(args.at("single_quoted"), OpArgs("1.5"));
  EXPECT_EQ(args.at("word"), OpArgs("yes"));
  EXPECT_EQ(args.at("tagged"), OpArgs("7"));
  EXPECT_TRUE(args.at("nothing").is_null());
  EXPECT_TRUE(args.at("empty").is_null());
  EXPECT_EQ(args.at("text"), OpArgs("two\nlines\n"));
  EXPECT_EQ(args.at("list"), OpArgs::parse_json(R"([1, 2.5, "3", [true]])"));
  EXPECT_TRUE(args.at("list").at(0).is_integer());
  EXPECT_EQ(args.at("nested"), OpArgs::parse_json(R"({"a": {"b": ["x", 1]}})"));
}

TEST(PipelineConfig, ErrorMessageNamesFileLineAndKey) {
  const std::string yaml = R"(stages:
  - name: a
    op: o
  - name: b
    op: o
    workers: two
)";
  const ConfigError error = parse_error(yaml);
  const int line = line_containing(yaml, "workers: two");
  EXPECT_EQ(error.file(), "pipeline.yaml");
  EXPECT_EQ(error.line(), line);
  EXPECT_EQ(error.key(), "stages[1].workers");
  EXPECT_EQ(std::string(error.what()), "pipeline.yaml:" + std::to_string(line) +
                                           ": stages[1].workers: must be an integer >= 1, got 'two'");
}

TEST(PipelineConfig, UnknownTopLevelKey) {
  const std::string yaml = "name: p\nmax_inflight: 4\nstages:\n  - {name: a, op: o}\n";
  const ConfigError error = parse_error(yaml);
  EXPECT_EQ(error.line(), line_containing(yaml, "max_inflight"));
  EXPECT_EQ(error.key(), "max_inflight");
  EXPECT_THAT(error.what(), HasSubstr("unknown key"));
  EXPECT_THAT(error.what(), HasSubstr("did you mean 'max_in_flight'"));
}

TEST(PipelineConfig, UnknownStageKey) {
  const std::string yaml = "stages:\n  - name: a\n    op: o\n    replicas: 2\n";
  const ConfigError error = parse_error(yaml);
  EXPECT_EQ(error.line(), line_containing(yaml, "replicas: 2"));
  EXPECT_EQ(error.key(), "stages[0].replicas");
  EXPECT_THAT(error.what(), HasSubstr("unknown key"));
  EXPECT_THAT(error.what(), HasSubstr("workers"));  // lists what is allowed
}

TEST(PipelineConfig, BatchTakesMaxSizeDelayAndSizes) {
  const PipelineConfig config = parse_pipeline_config(
      "stages:\n  - name: m\n    op: onnx\n    batch: {max_size: 8, max_delay_ms: 2.5, sizes: [1, 4, 8]}\n"
      "  - {name: n, op: o, batch: {max_size: 3}}\n  - {name: plain, op: o}\n",
      "p.yaml");
  const BatchSpec& batch = config.stages[0].batch;
  EXPECT_EQ(batch.max_size, 8);
  EXPECT_EQ(batch.max_delay, std::chrono::microseconds(2500));
  EXPECT_EQ(batch.sizes, (std::vector<int>{1, 4, 8}));
  EXPECT_EQ(config.stages[1].batch.run_sizes(), (std::vector<int>{1, 2, 3}));
  EXPECT_EQ(config.stages[1].batch.max_delay, std::chrono::microseconds(0));
  EXPECT_FALSE(config.stages[2].batch.batches());
}

TEST(PipelineConfig, BatchAutoIsThePlannersChoiceAndNeedsPlanAuto) {
  const PipelineConfig config =
      parse_pipeline_config("plan: auto\nstages:\n  - {name: m, op: onnx, batch: auto}\n", "p.yaml");
  EXPECT_TRUE(config.stages[0].batch_auto);
  EXPECT_EQ(config.stages[0].batch.max_size, 8);
  const ConfigError error = parse_error("stages:\n  - name: m\n    op: onnx\n    batch: auto\n");
  EXPECT_EQ(error.key(), "stages[0].batch");
  EXPECT_EQ(error.line(), 4);
  EXPECT_THAT(error.what(), HasSubstr("set plan: auto"));
}

TEST(PipelineConfig, PlanKeyIsManualOrAuto) {
  EXPECT_EQ(parse_pipeline_config("stages:\n  - {name: a, op: o}\n", "p.yaml").plan, PlanMode::kManual);
  EXPECT_EQ(parse_pipeline_config("plan: auto\nstages:\n  - {name: a, op: o}\n", "p.yaml").plan,
            PlanMode::kAuto);
  const ConfigError error = parse_error("stages:\n  - {name: a, op: o}\nplan: bogus\n");
  EXPECT_EQ(error.key(), "plan");
  EXPECT_EQ(error.line(), 3);
}

struct BadValueCase {
  std::string label;
  std::string stage_lines;  // lines appended to a valid stage "- name: s / op: o"
  std::string marker;       // text on the line the error must point at
  std::string key;
  std::string message_part;
};

void PrintTo(const BadValueCase& c, std::ostream* os) {
  *os << c.label;
}

class BadStageValue : public ::testing::TestWithParam<BadValueCase> {};

TEST_P(BadStageValue, PointsAtKeyAndLine) {
  const BadValueCase& c = GetParam();
  const std::string yaml = "stages:\n  - name: s\n    op: o\n" + c.stage_lines;
  const ConfigError error = parse_error(yaml);
  EXPECT_EQ(error.line(), line_containing(yaml, c.marker)) << error.what();
  EXPECT_EQ(error.key(), c.key) << error.what();
  EXPECT_THAT(error.what(), HasSubstr(c.message_part));
}

INSTANTIATE_TEST_SUITE_P(
    PipelineConfig, BadStageValue,
    ::testing::Values(
        BadValueCase{"ZeroWorkers", "    workers: 0\n", "workers: 0", "stages[0].workers", ">= 1, got '0'"},
        BadValueCase{"BatchNotAMapping", "    batch: 8\n", "batch", "stages[0].batch",
                     "must be auto or a mapping"},
        BadValueCase{"BatchWithoutMaxSize", "    batch: {max_delay_ms: 2}\n", "batch",
                     "stages[0].batch.max_size", "missing"},
        BadValueCase{"BatchOfOne", "    batch: {max_size: 1}\n", "batch", "stages[0].batch.max_size", ">= 2"},
        BadValueCase{"NegativeBatchDelay", "    batch:\n      max_size: 4\n      max_delay_ms: -1\n",
                     "max_delay_ms", "stages[0].batch.max_delay_ms", "from 0 to 60000"},
        BadValueCase{"BatchSizesWithoutOne", "    batch:\n      max_size: 4\n      sizes: [2, 4]\n", "sizes",
                     "stages[0].batch.sizes", "must start at 1"},
        BadValueCase{"BatchSizesPastMaxSize", "    batch:\n      max_size: 4\n      sizes: [1, 8]\n", "sizes",
                     "stages[0].batch.sizes", "must end at max_size 4"},
        BadValueCase{"UnknownBatchKey", "    batch:\n      max_size: 4\n      delay: 2\n", "delay",
                     "stages[0].batch.delay", "unknown"},
        BadValueCase{"NegativeWorkers", "    workers: -2\n", "workers", "stages[0].workers", "got '-2'"},
        BadValueCase{"QuotedNumber", "    workers: \"2\"\n", "workers", "stages[0].workers",
                     "quoted string '2'"},
        BadValueCase{"FloatThreads", "    threads: 1.5\n", "threads", "stages[0].threads", "got '1.5'"},
        BadValueCase{"ListThreads", "    threads: [1]\n", "threads", "stages[0].threads", "got a list"},
        BadValueCase{"ZeroQueue", "    queue_capacity: 0\n", "queue_capacity", "stages[0].queue_capacity",
                     ">= 1"},
        BadValueCase{"ZeroCores", "    cores: 0\n", "cores", "stages[0].cores", ">= 1"},
        BadValueCase{"CoresWord", "    cores: all\n", "cores", "stages[0].cores", "or none, got 'all'"},
        BadValueCase{"NegativeCoreId", "    cores:\n      - 0\n      - -1\n", "- -1", "stages[0].cores[1]",
                     "core id must be an integer >= 0"},
        BadValueCase{"RepeatedCoreId", "    cores: [0, 1, 0]\n", "cores", "stages[0].cores[2]",
                     "listed twice"},
        BadValueCase{"EmptyCoreList", "    cores: []\n", "cores", "stages[0].cores", "empty"},
        BadValueCase{"CoresNotDivisible", "    workers: 2\n    cores: [0, 1, 2]\n", "cores",
                     "stages[0].cores", "3 core ids cannot be split evenly among 2 workers"},
        BadValueCase{"ShareCoresYes", "    share_cores: yes\n", "share_cores", "stages[0].share_cores",
                     "must be true or false, got 'yes'"},
        BadValueCase{"ArgsList", "    args: [1, 2]\n", "args", "stages[0].args", "must be a mapping"},
        BadValueCase{"DuplicateStageKey", "    workers: 1\n    workers: 2\n", "workers: 2",
                     "stages[0].workers", "duplicate key"},
        BadValueCase{"DuplicateArgKey", "    args:\n      k: 1\n      k: 2\n", "k: 2", "stages[0].args.k",
                     "duplicate key"},
        BadValueCase{"UnknownTag", "    args:\n      k: !custom 1\n", "k: !custom", "stages[0].args.k",
                     "unsupported tag"},
        BadValueCase{"TooManyWorkers", "    workers: 4097\n", "workers", "stages[0].workers",
                     "must be an integer <= 4096, got '4097'"},
        BadValueCase{"WorkersBeyond64Bits", "    workers: 99999999999999999999\n", "workers",
                     "stages[0].workers", "must be an integer <= 4096, got '99999999999999999999'"},
        BadValueCase{"TooManyThreads", "    threads: 100000\n", "threads", "stages[0].threads",
                     "must be an integer <= 1024, got '100000'"},
        BadValueCase{"TooManyCoresPerWorker", "    cores: 4097\n", "cores", "stages[0].cores",
                     "must be an integer <= 4096"},
        BadValueCase{"HugeQueue", "    queue_capacity: 99999999999\n", "queue_capacity",
                     "stages[0].queue_capacity", "must be an integer <= 1048576, got '99999999999'"}),
    [](const auto& test_case) { return test_case.param.label; });

TEST(PipelineConfig, NegativeTopLevelValue) {
  const std::string yaml = "max_in_flight: -3\nstages:\n  - {name: a, op: o}\n";
  const ConfigError error = parse_error(yaml);
  EXPECT_EQ(error.line(), 1);
  EXPECT_EQ(error.key(), "max_in_flight");
  EXPECT_THAT(error.what(), HasSubstr("must be an integer >= 1, got '-3'"));
}

TEST(PipelineConfig, PriorityAgingIsZeroToADayInMilliseconds) {
  for (const auto& [value, message] : std::vector<std::pair<std::string, std::string>>{
           {"-1", "must be an integer >= 0, got '-1'"},
           {"86400001", "must be an integer <= 86400000, got '86400001'"},
           {"1.5", "must be an integer"}}) {
    const ConfigError error =
        parse_error("stages:\n  - {name: a, op: o}\npriority_aging_ms: " + value + "\n");
    EXPECT_EQ(error.line(), 3) << error.what();
    EXPECT_EQ(error.key(), "priority_aging_ms");
    EXPECT_THAT(error.what(), HasSubstr(message));
  }
  for (const int ms : {0, 86400000}) {
    const PipelineConfig config = parse_pipeline_config(
        "priority_aging_ms: " + std::to_string(ms) + "\nstages:\n  - {name: a, op: o}\n", "p.yaml");
    EXPECT_EQ(config.options.priority_aging, std::chrono::milliseconds(ms));
  }
}

TEST(PipelineConfig, InFlightAndQueueCapacityHaveUpperBounds) {
  for (const std::string key : {"max_in_flight", "queue_capacity"}) {
    for (const std::string value : {"1048577", "99999999999", "18446744073709551615"}) {
      const std::string yaml = "stages:\n  - {name: a, op: o}\n" + key + ": " + value + "\n";
      const ConfigError error = parse_error(yaml);
      EXPECT_EQ(error.line(), 3) << error.what();
      EXPECT_EQ(error.key(), key);
      EXPECT_THAT(error.what(), HasSubstr("must be an integer <= 1048576, got '" + value + "'"));
    }
  }
  const PipelineConfig largest = parse_pipeline_config(
      "max_in_flight: 1048576\nqueue_capacity: 1048576\nstages:\n"
      "  - {name: a, op: o, workers: 4096, threads: 1024, cores: none, queue_capacity: 1048576}\n",
      "p.yaml");
  EXPECT_EQ(largest.options.max_in_flight, 1048576u);
  EXPECT_EQ(largest.options.queue_capacity, 1048576u);
  EXPECT_EQ(largest.stages.at(0).workers, 4096);
  EXPECT_EQ(largest.stages.at(0).threads, 1024);
  EXPECT_EQ(largest.stages.at(0).queue_capacity, 1048576u);
}

TEST(PipelineConfig, BadEnumListsAllowedValues) {
  const std::string yaml = "stages:\n  - {name: a, op: o}\nordering: fifo\n";
  const ConfigError error = parse_error(yaml);
  EXPECT_EQ(error.line(), line_containing(yaml, "ordering"));
  EXPECT_EQ(error.key(), "ordering");
  EXPECT_THAT(error.what(), HasSubstr("must be one of in_order, completion, got 'fifo'"));

  const ConfigError on_full = parse_error("on_full: drop\nstages:\n  - {name: a, op: o}\n");
  EXPECT_EQ(on_full.key(), "on_full");
  EXPECT_THAT(on_full.what(), HasSubstr("block, fail"));
}

TEST(PipelineConfig, DuplicateStageNamePointsAtTheSecond) {
  const std::string yaml = "stages:\n  - name: a\n    op: o\n  - op: o\n    name: a\n";
  const ConfigError error = parse_error(yaml);
  EXPECT_EQ(error.line(), line_containing(yaml, "    name: a"));
  EXPECT_EQ(error.key(), "stages[1].name");
  EXPECT_THAT(error.what(), HasSubstr("duplicate stage name 'a' (first at line 2)"));
}

TEST(PipelineConfig, MissingRequiredStageKeys) {
  const std::string no_op = "stages:\n  - name: a\n  - name: b\n    op: o\n";
  const ConfigError error = parse_error(no_op);
  EXPECT_EQ(error.line(), 2);
  EXPECT_EQ(error.key(), "stages[0].op");
  EXPECT_THAT(error.what(), HasSubstr("missing required key"));
  EXPECT_EQ(parse_error("stages:\n  - op: o\n").key(), "stages[0].name");
}

TEST(PipelineConfig, NamesMustBeNonEmptyStrings) {
  const std::string yaml = "stages:\n  - op: o\n    name: \"\"\n";
  const ConfigError error = parse_error(yaml);
  EXPECT_EQ(error.line(), 3);
  EXPECT_EQ(error.key(), "stages[0].name");
  EXPECT_THAT(error.what(), HasSubstr("non-empty string"));
  EXPECT_EQ(parse_error("name: [a]\nstages:\n  - {name: a, op: o}\n").key(), "name");
}

TEST(PipelineConfig, StagesMustBeANonEmptyListOfMappings) {
  const ConfigError empty = parse_error("name: p\nstages: []\n");
  EXPECT_EQ(empty.line(), 2);
  EXPECT_EQ(empty.key(), "stages");
  EXPECT_THAT(empty.what(), HasSubstr("at least one stage"));

  EXPECT_EQ(parse_error("name: p\nstages:\n").key(), "stages");
  EXPECT_EQ(parse_error("name: p\n").key(), "stages");
  EXPECT_THAT(parse_error("name: p\n").what(), HasSubstr("missing required key"));

  const ConfigError scalar_stage = parse_error("stages:\n  - {name: a, op: o}\n  - decode\n");
  EXPECT_EQ(scalar_stage.line(), 3);
  EXPECT_EQ(scalar_stage.key(), "stages[1]");
}

TEST(PipelineConfig, OverlappingCoreIdsNeedShareCores) {
  const std::string yaml =
      "stages:\n  - {name: a, op: o, cores: [0, 1]}\n  - name: b\n    op: o\n    cores: [1]\n";
  const ConfigError error = parse_error(yaml);
  EXPECT_EQ(error.line(), line_containing(yaml, "cores: [1]"));
  EXPECT_EQ(error.key(), "stages[1].cores");
  EXPECT_THAT(error.what(), HasSubstr("core 1 is also listed by stage 'a'"));

  const std::string shared =
      "stages:\n  - {name: a, op: o, cores: [0, 1]}\n  - {name: b, op: o, cores: [1], share_cores: true}\n";
  EXPECT_NO_THROW(parse_pipeline_config(shared, "p.yaml"));
}

TEST(PipelineConfig, MalformedYamlReportsItsLine) {
  const std::string bad_indent = "name: p\nstages:\n  - name: a\n     op: o\n";
  const ConfigError indent = parse_error(bad_indent);
  EXPECT_EQ(indent.line(), line_containing(bad_indent, "     op: o"));
  EXPECT_EQ(indent.key(), "");
  EXPECT_THAT(indent.what(), HasSubstr("pipeline.yaml:4: invalid YAML"));

  const std::string unclosed = "name: p\nstages:\n  - name: a\n    op: o\n    cores: [0, 1\n";
  const ConfigError bracket = parse_error(unclosed);
  // yaml-cpp notices the missing ']' where the file ends, just after the line that opened it.
  EXPECT_GE(bracket.line(), line_containing(unclosed, "cores: [0, 1"));
  EXPECT_LE(bracket.line(), line_containing(unclosed, "cores: [0, 1") + 1);
  EXPECT_THAT(bracket.what(), HasSubstr("invalid YAML"));
}

TEST(PipelineConfig, DeeplyNestedYamlIsAnErrorNotACrash) {
  const std::string yaml =
      "stages:\n  - name: a\n    op: o\n    args:\n      x: " + std::string(100000, '[') +
      std::string(100000, ']') + "\n";
  const ConfigError error = parse_error(yaml);
  EXPECT_EQ(error.line(), 5);
  EXPECT_THAT(error.what(), HasSubstr("nested more than"));
}

TEST(PipelineConfig, AliasBombInArgsIsAnErrorNotAnExplosion) {
  // Each level lists the one before nine times: expanded, a9 alone is 9^10 (about 3.5 billion) values.
  std::string yaml =
      "stages:\n  - name: a\n    op: o\n    args:\n      a0: &a0 [x, x, x, x, x, x, x, x, x]\n";
  for (int level = 1; level <= 9; ++level) {
    const std::string previous = "*a" + std::to_string(level - 1);
    yaml += "      a" + std::to_string(level) + ": &a" + std::to_string(level) + " [" + previous;
    for (int i = 1; i < 9; ++i) yaml += ", " + previous;
    yaml += "]\n";
  }
  const ConfigError error = parse_error(yaml);
  EXPECT_EQ(error.line(), line_containing(yaml, "args:"));
  EXPECT_EQ(error.key(), "stages[0].args");
  EXPECT_THAT(error.what(), HasSubstr("too large (more than 100000 values after expanding aliases)"));
}

TEST(PipelineConfig, ArgsWithinTheValueBudgetConvert) {
  // 200 x 200 = 40000 values through one alias: large, but under the budget.
  std::string row = "[0";
  for (int i = 1; i < 200; ++i) row += ", " + std::to_string(i);
  row += "]";
  std::string yaml =
      "stages:\n  - name: a\n    op: o\n    args:\n      row: &row " + row + "\n      rows: [*row";
  for (int i = 1; i < 200; ++i) yaml += ", *row";
  yaml += "]\n";
  const OpArgs args = parse_pipeline_config(yaml, "p.yaml").stages.at(0).args;
  ASSERT_EQ(args.at("rows").size(), 200u);
  EXPECT_EQ(args.at("rows").at(199).at(199).as_int64(), 199);
}

TEST(PipelineConfig, WholeFileShapeErrors) {
  EXPECT_THAT(parse_error("").what(), HasSubstr("empty"));
  EXPECT_THAT(parse_error("# nothing here\n").what(), HasSubstr("empty"));
  EXPECT_THAT(parse_error("- a\n- b\n").what(), HasSubstr("got a list"));
  const ConfigError two_documents = parse_error("stages: [{name: a, op: o}]\n---\nstages: []\n");
  EXPECT_EQ(two_documents.line(), 3);
  EXPECT_THAT(two_documents.what(), HasSubstr("more than one YAML document"));
}

class PipelineFile : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("conveyor_config_test_" + std::to_string(::testing::UnitTest::GetInstance()->random_seed()) +
            "_" + ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::filesystem::path write(const std::string& name, const std::string& text) {
    const std::filesystem::path path = dir_ / name;
    std::ofstream(path) << text;
    return path;
  }
  std::filesystem::path dir_;
};

TEST_F(PipelineFile, LoadsFromDisk) {
  const auto path =
      write("tokenize.yaml", "stages:\n  - {name: t, op: text.wordpiece, args: {vocab: v.txt}}\n");
  const PipelineConfig config = load_pipeline_config(path);
  EXPECT_EQ(config.name, "tokenize");
  EXPECT_EQ(config.file, path);
  EXPECT_EQ(config.base_dir, dir_);
  EXPECT_EQ(config.stages.at(0).args.at("vocab"), OpArgs("v.txt"));
}

TEST_F(PipelineFile, ErrorsNameTheFile) {
  const auto path = write("bad.yaml", "stages:\n  - {name: t, op: o, workers: 0}\n");
  try {
    load_pipeline_config(path);
    FAIL() << "expected a ConfigError";
  } catch (const ConfigError& error) {
    EXPECT_EQ(error.file(), path.string());
    EXPECT_EQ(error.line(), 2);
    EXPECT_THAT(error.what(), HasSubstr(path.string() + ":2: stages[0].workers"));
  }
}

TEST_F(PipelineFile, MissingFileIsAConfigErrorNamingIt) {
  const auto path = dir_ / "absent.yaml";
  try {
    load_pipeline_config(path);
    FAIL() << "expected a ConfigError";
  } catch (const ConfigError& error) {
    EXPECT_EQ(error.file(), path.string());
    EXPECT_EQ(error.line(), 0);
    EXPECT_THAT(error.what(), HasSubstr(path.string()));
    EXPECT_THAT(error.what(), HasSubstr("not found"));
  }
  EXPECT_THROW(load_pipeline_config(dir_), ConfigError);  // a directory
}

}  // namespace
}  // namespace conveyor
