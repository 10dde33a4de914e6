// The client side of bench --url, unit by unit: URLs, request bodies (decoded back by the server's own
// codecs), request tensors from files, /metrics scrapes and exact percentiles.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstring>
#include <fstream>
#include <numeric>

#include "conveyor/api/runtime.hpp"
#include "conveyor/tensor/npy.hpp"
#include "conveyor/runtime/exact_latency.hpp"
#include "serve/grpc_codec.hpp"
#include "serve/grpc_infer_request.hpp"
#include "serve/http_infer_body.hpp"
#include "serve/kserve_url.hpp"
#include "serve/request_tensor.hpp"
#include "serve/stage_scrape.hpp"

namespace conveyor::serve {
namespace {

using ::testing::HasSubstr;

std::string url_error(const std::string& url) {
  try {
    parse_kserve_url(url);
  } catch (const std::invalid_argument& e) {
    return e.what();
  }
  return "parsed";
}

TEST(KserveUrl, HttpAndGrpcWithOptionalVersion) {
  const KServeUrl http = parse_kserve_url("http://127.0.0.1:8000/classify");
  EXPECT_EQ(http.protocol, Protocol::kHttp);
  EXPECT_EQ(http.host, "127.0.0.1");
  EXPECT_EQ(http.port, 8000);
  EXPECT_EQ(http.model, "classify");
  EXPECT_EQ(http.version, "");
  const KServeUrl grpc = parse_kserve_url("grpc://[::1]:8001/m/versions/2");
  EXPECT_EQ(grpc.protocol, Protocol::kGrpc);
  EXPECT_EQ(grpc.host, "::1");
  EXPECT_EQ(grpc.model, "m");
  EXPECT_EQ(grpc.version, "2");
  EXPECT_EQ(parse_kserve_url("http://host:1/v2/models/x/").model, "x");  // the REST route's form
}

TEST(KserveUrl, SaysWhatIsWrong) {
  EXPECT_THAT(url_error("ftp://h:1/m"), HasSubstr("http:// or grpc://"));
  EXPECT_THAT(url_error("https://h:1/m"), HasSubstr("TLS"));
  EXPECT_THAT(url_error("http://h/m"), HasSubstr("no port"));
  EXPECT_THAT(url_error("http://h:99999/m"), HasSubstr("1..65535"));
  EXPECT_THAT(url_error("http://h:80"), HasSubstr("no model"));
  EXPECT_THAT(url_error("http://h:80/a/b"), HasSubstr("model name alone"));
  EXPECT_THAT(url_error("grpc://:80/m"), HasSubstr("no host"));
}

TEST(KserveUrl, MetricsUrlDefaultsToSlashMetrics) {
  EXPECT_EQ(parse_metrics_url("http://h:9/").target, "/metrics");
  EXPECT_EQ(parse_metrics_url("http://h:9").target, "/metrics");
  EXPECT_EQ(parse_metrics_url("http://h:9/other").target, "/other");
  EXPECT_THROW(parse_metrics_url("grpc://h:9"), std::invalid_argument);
}

NamedTensor bytes_input(std::string bytes) {
  return request_tensor({"bytes", "BYTES", {1}}, std::move(bytes), "file");
}

TEST(KserveHttpInferBody, BinaryRequestDecodesOnTheServer) {
  const float values[] = {1, 2, 3, 4};
  const std::string path = testing::TempDir() + "/logits.npy";
  write_npy(path, Tensor::from<float>({4}, std::span<const float>(values)));
  std::ifstream in(path, std::ios::binary | std::ios::ate);
  std::string npy(static_cast<std::size_t>(in.tellg()), '\0');
  in.seekg(0);
  in.read(npy.data(), static_cast<std::streamsize>(npy.size()));
  const NamedTensor logits = request_tensor({"logits", "FP32", {-1}}, npy, "logits.npy");
  const EncodedBody body = encode_binary_infer_request({bytes_input("\xff\xd8 jpeg"), logits}, true);
  ASSERT_TRUE(body.json_length);
  const InferRequest decoded = decode_infer_request(body.bytes, body.json_length, RequestLimits{});
  ASSERT_EQ(decoded.inputs.size(), 2u);
  EXPECT_EQ(decoded.inputs[0].datatype, "BYTES");
  EXPECT_EQ(decoded.inputs[0].strings, std::vector<std::string>{"\xff\xd8 jpeg"});
  EXPECT_EQ(decoded.inputs[1].tensor.shape(), (Shape{4}));
  EXPECT_EQ(decoded.inputs[1].tensor.data<float>()[3], 4.0f);
  EXPECT_TRUE(decoded.binary_outputs);
}

TEST(KserveHttpInferBody, ErrorMessageOfAKServeBodyOrTheBodyItself) {
  EXPECT_EQ(error_message(R"({"error": "no model 'x'"})"), "no model 'x'");
  EXPECT_EQ(error_message("Bad Gateway"), "Bad Gateway");
  EXPECT_EQ(error_message(""), "(no body)");
  EXPECT_EQ(error_message(std::string(500, 'a')).size(), 203u);
}

TEST(KserveGrpcInferRequest, RawContentsDecodeOnTheServer) {
  const NamedTensor u8 = request_tensor({"raw", "UINT8", {-1}}, "xyz", "file");
  const auto message = encode_grpc_infer_request("m", "2", {bytes_input("abc"), u8});
  EXPECT_EQ(message.model_name(), "m");
  EXPECT_EQ(message.model_version(), "2");
  const InferRequest decoded = decode_infer_request(message, RequestLimits{});
  ASSERT_EQ(decoded.inputs.size(), 2u);
  EXPECT_EQ(decoded.inputs[0].strings, std::vector<std::string>{"abc"});
  EXPECT_EQ(decoded.inputs[1].tensor.shape(), (Shape{3}));
  EXPECT_EQ(decoded.inputs[1].tensor.data<uint8_t>()[2], 'z');
}

TEST(KserveRequestTensor, ShapedAsTheModelTakesIt) {
  const NamedTensor bytes = bytes_input("abc");
  EXPECT_EQ(bytes.shape, (std::vector<int64_t>{1}));
  EXPECT_EQ(bytes.strings, std::vector<std::string>{"abc"});
  const NamedTensor u8 = request_tensor({"raw", "UINT8", {-1}}, "abcd", "file");
  EXPECT_EQ(u8.shape, (std::vector<int64_t>{4}));
  EXPECT_EQ(u8.tensor.data<uint8_t>()[0], 'a');
  try {
    request_tensor({"logits", "FP32", {4}}, "not npy", "in.bin");
    FAIL();
  } catch (const std::invalid_argument& e) {
    EXPECT_THAT(e.what(), HasSubstr("in.bin"));
    EXPECT_THAT(e.what(), HasSubstr(".npy"));
  }
}

constexpr const char* kMetrics = R"(# HELP conveyor_stage_items_total Requests the stage's operator ran on.
# TYPE conveyor_stage_items_total counter
conveyor_stage_items_total{model="m",stage="decode"} 10
conveyor_stage_items_total{model="m",stage="top\"k"} 10
conveyor_stage_items_total{model="other",stage="decode"} 99
conveyor_stage_errors_total{model="m",stage="decode"} 1
conveyor_stage_errors_total{model="m",stage="top\"k"} 0
conveyor_stage_busy_seconds_total{model="m",stage="decode"} 0.5
conveyor_stage_busy_seconds_total{model="m",stage="top\"k"} 0.25
conveyor_stage_workers{model="m",stage="decode"} 2
conveyor_stage_workers{model="m",stage="top\"k"} 1
conveyor_stage_threads_per_worker{model="m",stage="decode"} 1
conveyor_stage_threads_per_worker{model="m",stage="top\"k"} 1
conveyor_stage_service_seconds_bucket{model="m",stage="decode",le="5e-05"} 0
conveyor_stage_service_seconds_sum{model="m",stage="decode"} 0.5
conveyor_stage_service_seconds_count{model="m",stage="decode"} 10
conveyor_stage_service_seconds_sum{model="m",stage="top\"k"} 0.25
conveyor_stage_service_seconds_count{model="m",stage="top\"k"} 10
conveyor_stage_queue_seconds_sum{model="m",stage="decode"} 1e-02
conveyor_stage_queue_seconds_count{model="m",stage="decode"} 10
)";

TEST(KserveStageScrape, OneModelsStagesInOrder) {
  const auto stages = scrape_stages(kMetrics, "m");
  ASSERT_EQ(stages.size(), 2u);
  EXPECT_EQ(stages[0].name, "decode");
  EXPECT_EQ(stages[1].name, "top\"k");
  EXPECT_EQ(stages[0].items, 10);
  EXPECT_EQ(stages[0].workers, 2);
  EXPECT_DOUBLE_EQ(stages[0].queue_seconds, 0.01);
  EXPECT_TRUE(scrape_stages(kMetrics, "none").empty());
}

TEST(KserveStageScrape, DifferenceBetweenTwoScrapes) {
  std::vector<StageCounters> before = scrape_stages(kMetrics, "m"), after = before;
  after[0].items += 100;
  after[0].busy_seconds += 1.0;
  after[0].service_seconds += 1.0;
  after[0].service_count += 100;
  const auto stages = stage_metrics_between(before, after, 2.0);
  ASSERT_EQ(stages.size(), 2u);
  EXPECT_EQ(stages[0].items, 100u);
  EXPECT_DOUBLE_EQ(stages[0].utilization, 0.25);  // 1 s busy over 2 s and 2 workers
  EXPECT_DOUBLE_EQ(stages[0].service.mean_ms, 10.0);
  EXPECT_EQ(stages[1].items, 0u);
  after[1].items -= 5;  // a counter went back: the model was reloaded
  EXPECT_TRUE(stage_metrics_between(before, after, 2.0).empty());
  EXPECT_TRUE(stage_metrics_between(before, {}, 2.0).empty());
}

TEST(KserveStageScrape, TheFrontEndComesFirstWithItsRequestsAndCpuTime) {
  const std::string text = std::string(kMetrics) +
                           "conveyor_front_end_cpu_seconds_total 0.02\n"
                           "conveyor_front_end_requests_total 40\n"
                           "conveyor_front_end_threads 2\n";
  const auto stages = scrape_stages(text, "m");
  ASSERT_EQ(stages.size(), 3u);
  EXPECT_EQ(stages[0].name, conveyor::kFrontEndStage);
  EXPECT_EQ(stages[0].items, 40);
  EXPECT_EQ(stages[0].workers, 2);
  std::vector<StageCounters> after = stages;
  after[0].items = after[0].service_count = 140;
  after[0].busy_seconds = after[0].service_seconds = 0.07;
  const auto between = stage_metrics_between(stages, after, 1.0);
  ASSERT_EQ(between.size(), 3u);
  EXPECT_NEAR(between[0].service.mean_ms, 0.5, 1e-9);  // 50 ms of CPU over 100 requests
  EXPECT_NEAR(between[0].utilization, 0.025, 1e-9);    // over 1 s and 2 threads
  EXPECT_EQ(scrape_stages(text, "none").size(), 0u);   // no stages of that model: no front end alone
}

TEST(KserveExactLatency, NearestRankPercentiles) {
  std::vector<uint64_t> nanos(100);
  std::iota(nanos.rbegin(), nanos.rend(), uint64_t{1});  // 100..1 ms, out of order
  for (auto& n : nanos) n *= 1000000;
  const LatencySummary s = exact_latency_summary(nanos);
  EXPECT_EQ(s.count, 100u);
  EXPECT_DOUBLE_EQ(s.p50_ms, 50);
  EXPECT_DOUBLE_EQ(s.p90_ms, 90);
  EXPECT_DOUBLE_EQ(s.p99_ms, 99);
  EXPECT_DOUBLE_EQ(s.max_ms, 100);
  EXPECT_DOUBLE_EQ(s.mean_ms, 50.5);
  EXPECT_EQ(s.at_most[4], 1u);     // <= 1 ms
  EXPECT_EQ(s.at_most[9], 50u);    // <= 50 ms
  EXPECT_EQ(s.at_most[10], 100u);  // <= 100 ms
  std::vector<uint64_t> one = {7000};
  EXPECT_DOUBLE_EQ(exact_latency_summary(one).p99_ms, 0.007);
  std::vector<uint64_t> none;
  EXPECT_EQ(exact_latency_summary(none).count, 0u);
}

}  // namespace
}  // namespace conveyor::serve
