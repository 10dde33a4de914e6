#include "conveyor/plan/profile_store.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <fstream>
#include <functional>
#include <nlohmann/json.hpp>

namespace conveyor::plan {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;

class ProfileStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::path(::testing::TempDir()) / ("conveyor_profiles_" + std::to_string(::getpid()) + "_" +
                                             ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  StageIdentity decode() const {
    return {"image.decode", OpArgs().set("input", "bytes").set("output", "image"), dir_};
  }

  fs::path dir_;
};

TEST_F(ProfileStoreTest, KeyDependsOnOpArgsThreadsAndCpuModel) {
  const StageIdentity a = decode();
  StageIdentity other_args = a;
  other_args.args.set("output", "picture");
  StageIdentity other_op = a;
  other_op.op = "image.preprocess";
  const std::string key = stage_key(a, 1, "cpu A");
  EXPECT_EQ(key, stage_key(a, 1, "cpu A"));
  EXPECT_NE(key, stage_key(a, 2, "cpu A"));
  EXPECT_NE(key, stage_key(a, 1, "cpu B"));
  EXPECT_NE(key, stage_key(other_args, 1, "cpu A"));
  EXPECT_NE(key, stage_key(other_op, 1, "cpu A"));
  EXPECT_EQ(key.size(), 16u);
}

// Stored profiles are found by these hashes: the same args must always give the same hex. Pinned from the
// hashing of args as nlohmann::json before OpArgs existed (main at 71fd47f).
TEST_F(ProfileStoreTest, StageHashOfTheSameArgsNeverChanges) {
  const StageIdentity identity{
      "image.preprocess",
      OpArgs::parse_json(
          R"({"size": [224, 224], "resize": "stretch", "rgb": true, "scale": 0.0039215686274509803,
                             "mean": [0.485, 0.456, 0.406], "note": "caf\u00e9", "none": null,
                             "big": 18446744073709551615, "neg": -3})"),
      dir_};
  EXPECT_EQ(stage_hash(identity, "cpu-model-x"), "61d4c1f49a0ef2d0");
  EXPECT_EQ(stage_key(identity, 2, "cpu-model-x"), "1428730bdedcc0e9");
  StageIdentity built = identity;
  built.args = OpArgs();
  built.args.set("size", std::vector<int64_t>{224, 224})
      .set("resize", "stretch")
      .set("rgb", true)
      .set("scale", 1.0 / 255)
      .set("mean", std::vector<double>{0.485, 0.456, 0.406})
      .set("note", "caf\u00e9")
      .set("none", OpArgs(nullptr))
      .set("big", OpArgs::parse_json("18446744073709551615"))
      .set("neg", -3);
  EXPECT_EQ(stage_hash(built, "cpu-model-x"), "61d4c1f49a0ef2d0");
}

TEST_F(ProfileStoreTest, KeyCoversTheContentOfFilesNamedInArgs) {
  std::ofstream(dir_ / "model.onnx") << "weights v1";
  const StageIdentity model{"model", OpArgs().set("path", "model.onnx"), dir_};
  const std::string before = stage_key(model, 1, "cpu");
  std::ofstream(dir_ / "model.onnx") << "weights v2";
  EXPECT_NE(before, stage_key(model, 1, "cpu"));
  const StageIdentity missing{"model", OpArgs().set("path", "nope.onnx"), dir_};
  EXPECT_THROW(stage_key(missing, 1, "cpu"), ProfileStoreError);
}

TEST_F(ProfileStoreTest, RecordsAppendAndSurviveAReload) {
  ProfileStore store(dir_);
  store.record(decode(), "decode", 1, {0.001, 0.003}, "cpu A", 1000);
  store.record(decode(), "decode", 1, {0.002}, "cpu A", 2000);
  ProfileStore reopened(dir_);
  const auto entry = reopened.lookup(decode(), 1, "cpu A");
  ASSERT_TRUE(entry.has_value());
  EXPECT_EQ(entry->count(), 3u);
  EXPECT_NEAR(entry->mean(), 0.002, 1e-12);
  EXPECT_EQ(entry->updated(), 2000);
  EXPECT_EQ(entry->stage_name, "decode");
  const ServiceTime t = entry->service_time();
  EXPECT_NEAR(t.cv2, (2.0 / 3 * 1e-6) / (0.002 * 0.002), 1e-9);
}

TEST_F(ProfileStoreTest, NeverMixesCpuModels) {
  ProfileStore store(dir_);
  store.record(decode(), "decode", 1, {0.010}, "cpu A", 1000);
  store.record(decode(), "decode", 1, {0.001}, "cpu B", 1000);
  store.record(decode(), "decode", 2, {0.006}, "cpu A", 1000);
  EXPECT_NEAR(store.lookup(decode(), 1, "cpu A")->mean(), 0.010, 1e-12);
  EXPECT_NEAR(store.lookup(decode(), 1, "cpu B")->mean(), 0.001, 1e-12);
  EXPECT_FALSE(store.lookup(decode(), 1, "cpu C").has_value());
  const auto all = store.lookup_all_threads(decode(), "cpu A");
  ASSERT_EQ(all.size(), 2u);
  EXPECT_EQ(all[0].threads, 1);
  EXPECT_EQ(all[1].threads, 2);
  EXPECT_EQ(store.entries().size(), 3u);
}

TEST_F(ProfileStoreTest, AgeOutDropsOldBatchesAndEmptyEntries) {
  ProfileStore store(dir_);
  store.record(decode(), "decode", 1, {0.001}, "cpu", 1000);
  store.record(decode(), "decode", 1, {0.003}, "cpu", 5000);
  store.record(decode(), "decode", 2, {0.009}, "cpu", 1000);
  EXPECT_EQ(store.age_out(std::chrono::seconds(2000), 6000), 2u);
  const auto kept = store.lookup(decode(), 1, "cpu");
  ASSERT_TRUE(kept.has_value());
  EXPECT_EQ(kept->count(), 1u);
  EXPECT_NEAR(kept->mean(), 0.003, 1e-12);
  EXPECT_FALSE(store.lookup(decode(), 2, "cpu").has_value());
}

TEST_F(ProfileStoreTest, KeepsABoundedNumberOfSamples) {
  ProfileStore store(dir_);
  store.record(decode(), "decode", 1, std::vector<double>(3000, 0.001), "cpu", 1);
  store.record(decode(), "decode", 1, std::vector<double>(3000, 0.002), "cpu", 2);
  const auto e = store.lookup(decode(), 1, "cpu");
  EXPECT_LE(e->count(), ProfileStore::kMaxSamplesPerEntry);
  EXPECT_NEAR(e->mean(), 0.002, 1e-12);  // the older batch went first
}

TEST_F(ProfileStoreTest, CorruptFileIsAnErrorNamingIt) {
  ProfileStore store(dir_);
  store.record(decode(), "decode", 1, {0.001}, "cpu", 1);
  const fs::path file = dir_ / (stage_key(decode(), 1, "cpu") + ".json");
  std::ofstream(file) << "{ not json";
  try {
    store.lookup(decode(), 1, "cpu");
    FAIL() << "expected an error";
  } catch (const ProfileStoreError& e) {
    EXPECT_NE(std::string(e.what()).find(file.string()), std::string::npos) << e.what();
  }
}

TEST_F(ProfileStoreTest, RejectsBadSamples) {
  ProfileStore store(dir_);
  EXPECT_THROW(store.record(decode(), "decode", 1, {}, "cpu", 1), std::invalid_argument);
  EXPECT_THROW(store.record(decode(), "decode", 1, {-1.0}, "cpu", 1), std::invalid_argument);
  EXPECT_THROW(store.record(decode(), "decode", 0, {1.0}, "cpu", 1), std::invalid_argument);
  EXPECT_THROW(store.record(decode(), "decode", ProfileStore::kMaxThreads + 1, {1.0}, "cpu", 1),
               std::invalid_argument);
  EXPECT_THROW(store.record(decode(), "decode", 1, {1e305}, "cpu", 1), std::invalid_argument);
  EXPECT_THROW(store.record(decode(), "decode", 1, {0.0, 0.0}, "cpu", 1), std::invalid_argument);
  EXPECT_TRUE(store.entries().empty());
}

struct Corruption {
  std::string label;
  std::function<void(nlohmann::json&)> change;
  std::string message;  // what the error must say after the file's name
};

void PrintTo(const Corruption& c, std::ostream* os) {
  *os << c.label;
}

class CorruptProfile : public ProfileStoreTest, public ::testing::WithParamInterface<Corruption> {};

TEST_P(CorruptProfile, IsAnErrorNamingTheFileAndTheField) {
  ProfileStore store(dir_);
  store.record(decode(), "decode", 1, {0.001, 0.002, 0.003, 0.004}, "cpu", 1000);
  const fs::path file = dir_ / (stage_key(decode(), 1, "cpu") + ".json");
  nlohmann::json j = nlohmann::json::parse(std::ifstream(file));
  GetParam().change(j);
  std::ofstream(file) << j.dump(1);
  try {
    store.lookup(decode(), 1, "cpu");
    FAIL() << "read a profile changed by " << GetParam().label;
  } catch (const ProfileStoreError& e) {
    EXPECT_THAT(e.what(), HasSubstr("profile file '" + file.string() + "' is " + GetParam().message));
  }
}

INSTANTIATE_TEST_SUITE_P(
    ProfileStore, CorruptProfile,
    ::testing::Values(
        Corruption{
            "NegativeSample", [](auto& j) { j["batches"][0]["samples_ms"][3] = -1.0; },
            "corrupt: batches[0].samples_ms[3]: must be a duration in ms from 0 to 1000000000, got -1.0"},
        Corruption{"TextSample", [](auto& j) { j["batches"][0]["samples_ms"][0] = "x"; },
                   "corrupt: batches[0].samples_ms[0]: must be a duration in ms"},
        Corruption{
            "OverflowingSample", [](auto& j) { j["batches"][0]["samples_ms"][1] = 1e308; },
            "corrupt: batches[0].samples_ms[1]: must be a duration in ms from 0 to 1000000000, got 1e+308"},
        Corruption{"AllZero",
                   [](auto& j) {
                     j["batches"][0]["samples_ms"] = {0.0, 0.0};
                   },
                   "corrupt: batches: every sample is 0 ms"},
        Corruption{"NoSamples", [](auto& j) { j["batches"][0]["samples_ms"] = nlohmann::json::array(); },
                   "corrupt: batches[0].samples_ms: must be a non-empty list"},
        Corruption{"NoBatches", [](auto& j) { j.erase("batches"); }, "corrupt: batches: missing"},
        Corruption{"BatchesObject",
                   [](auto& j) {
                     j["batches"] = {{"a", 1}};
                   },
                   "corrupt: batches: must be a non-empty list of measurement runs, got an object with 1 key"},
        Corruption{"TextTime", [](auto& j) { j["batches"][0]["time"] = "yesterday"; },
                   "corrupt: batches[0].time: must be an integer >= 0, got \"yesterday\""},
        Corruption{"TextThreads", [](auto& j) { j["threads"] = "x"; },
                   "corrupt: threads: must be an integer from 1 to 4096, got \"x\""},
        Corruption{"HugeThreads", [](auto& j) { j["threads"] = int64_t{1} << 40; },
                   "corrupt: threads: must be an integer from 1 to 4096, got 1099511627776"},
        Corruption{"OtherKey", [](auto& j) { j["key"] = "0000"; },
                   "corrupt: key: '0000' is not the file's name"},
        Corruption{"NoOp", [](auto& j) { j.erase("op"); }, "corrupt: op: missing"},
        Corruption{"OtherFormat", [](auto& j) { j["format"] = 99; },
                   "not usable: format: 99 is not the format this version reads (1)"},
        Corruption{"Array",
                   [](auto& j) {
                     j = {1, 2, 3};
                   },
                   "corrupt: it holds a list of 3 values, not a JSON object"}),
    [](const auto& test_case) { return test_case.param.label; });

// Dumping such a file for a message once overflowed the stack (a segfault in every command reading profiles).
TEST_F(ProfileStoreTest, DeeplyNestedFileIsCorrupt) {
  ProfileStore store(dir_);
  store.record(decode(), "decode", 1, {0.001}, "cpu", 1);
  const fs::path file = dir_ / (stage_key(decode(), 1, "cpu") + ".json");
  std::ofstream(file) << std::string(100000, '[') << std::string(100000, ']');
  try {
    store.lookup(decode(), 1, "cpu");
    FAIL() << "expected an error";
  } catch (const ProfileStoreError& e) {
    EXPECT_THAT(e.what(), HasSubstr("is corrupt: values nested more than 32 deep"));
  }
}

TEST_F(ProfileStoreTest, TruncatedFileIsNotValidJson) {
  ProfileStore store(dir_);
  store.record(decode(), "decode", 1, {0.001}, "cpu", 1);
  const fs::path file = dir_ / (stage_key(decode(), 1, "cpu") + ".json");
  std::ofstream(file) << "{\"format\": 1, \"key\": ";
  try {
    store.lookup(decode(), 1, "cpu");
    FAIL() << "expected an error";
  } catch (const ProfileStoreError& e) {
    EXPECT_THAT(e.what(),
                HasSubstr("profile file '" + file.string() + "' is corrupt: not valid JSON: parse error"));
  }
}

TEST_F(ProfileStoreTest, ACorruptFileHidesOnlyItsOwnStage) {
  ProfileStore store(dir_);
  const StageIdentity preprocess{"image.preprocess", OpArgs().set("size", 224), dir_};
  store.record(decode(), "decode", 1, {0.001}, "cpu", 1000);
  store.record(decode(), "decode", 2, {0.001}, "cpu", 1000);
  store.record(preprocess, "preprocess", 1, {0.002}, "cpu", 1000);
  const fs::path file = dir_ / (stage_key(decode(), 2, "cpu") + ".json");
  std::ofstream(file) << "garbage";

  ASSERT_EQ(store.lookup_all_threads(preprocess, "cpu").size(), 1u);  // another stage: unaffected
  ASSERT_TRUE(store.lookup(decode(), 1, "cpu").has_value());          // another thread count: unaffected
  EXPECT_THROW(store.lookup_all_threads(decode(), "cpu"), ProfileStoreError);

  std::vector<std::string> unreadable;
  EXPECT_EQ(store.entries(&unreadable).size(), 2u);
  ASSERT_EQ(unreadable.size(), 1u);
  EXPECT_THAT(unreadable[0], HasSubstr(file.string()));
  EXPECT_EQ(store.entries().size(), 2u);

  EXPECT_EQ(store.age_out(std::chrono::seconds(10), 2000), 2u);  // the readable entries' batches go
  EXPECT_TRUE(fs::exists(file));                                 // the unreadable file stays
}

TEST_F(ProfileStoreTest, ArrivalHistoryAppendsPerPipelineAndAgesOut) {
  ProfileStore store(dir_);
  store.record_arrivals("image-classify", {30.0, 10.0});
  store.record_arrivals("image-classify", {20.0});
  store.record_arrivals("other/pipe", {5.0});
  EXPECT_EQ(store.arrivals("image-classify"), (std::vector<double>{10.0, 20.0, 30.0}));
  EXPECT_EQ(store.arrivals("other/pipe"), (std::vector<double>{5.0}));
  EXPECT_TRUE(store.arrivals("never-ran").empty());
  store.age_out(std::chrono::seconds(15), 35);
  EXPECT_EQ(store.arrivals("image-classify"), (std::vector<double>{20.0, 30.0}));
  EXPECT_TRUE(store.arrivals("other/pipe").empty());
}

// Names that sanitise to the same file name, or would make one too long, keep separate histories.
TEST_F(ProfileStoreTest, ArrivalHistoriesOfAwkwardNamesStayApart) {
  ProfileStore store(dir_);
  const std::string long_name(5000, 'x');
  store.record_arrivals("a/b", {1.0});
  store.record_arrivals("a_b", {2.0});
  store.record_arrivals(long_name, {3.0});
  store.record_arrivals("b\xff\xfe", {4.0});
  EXPECT_EQ(store.arrivals("a/b"), (std::vector<double>{1.0}));
  EXPECT_EQ(store.arrivals("a_b"), (std::vector<double>{2.0}));
  EXPECT_EQ(store.arrivals(long_name), (std::vector<double>{3.0}));
  EXPECT_EQ(store.arrivals("b\xff\xfe"), (std::vector<double>{4.0}));
  EXPECT_TRUE(fs::exists(dir_ / "arrivals" / "a_b.jsonl"));  // a safe name keeps its file of earlier runs
}

TEST(ProfileStoreDir, FollowsXdgCacheHome) {
  const char* old = std::getenv("XDG_CACHE_HOME");
  const std::string saved = old ? old : "";
  ::setenv("XDG_CACHE_HOME", "/some/cache", 1);
  EXPECT_EQ(ProfileStore::default_dir(), fs::path("/some/cache/conveyor/profiles"));
  if (old)
    ::setenv("XDG_CACHE_HOME", saved.c_str(), 1);
  else
    ::unsetenv("XDG_CACHE_HOME");
}

}  // namespace
}  // namespace conveyor::plan
