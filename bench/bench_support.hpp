#pragma once
// Inputs and plan application shared by the benchmarks.
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>
#include <cstdio>
#include <random>
#include <stdexcept>
#include <span>
#include <string>
#include <vector>

#include "conveyor/plan/planner.hpp"
#include "conveyor/plan/profile_stage.hpp"
#include "conveyor/runtime/merged_stage.hpp"
#include "conveyor/runtime/pipeline_spec.hpp"
#include "conveyor/tensor/tensor.hpp"

namespace conveyor::bench {

// Photo-like 640x480 JPEGs: gradients, shapes and noise (seeded), encoded in memory.
inline std::vector<Tensor> synthetic_jpegs(int count) {
  std::vector<Tensor> out;
  std::mt19937 rng(42);
  for (int i = 0; i < count; ++i) {
    cv::Mat image(480, 640, CV_8UC3);
    for (int y = 0; y < image.rows; ++y)
      for (int x = 0; x < image.cols; ++x)
        image.at<cv::Vec3b>(y, x) =
            cv::Vec3b(static_cast<uchar>((x + 13 * i) % 256), static_cast<uchar>((y * 2 + 7 * i) % 256),
                      static_cast<uchar>((x + y + 31 * i) % 256));
    for (int k = 0; k < 12; ++k)
      cv::circle(image, {static_cast<int>(rng() % 640), static_cast<int>(rng() % 480)},
                 static_cast<int>(10 + rng() % 80), cv::Scalar(rng() % 256, rng() % 256, rng() % 256), -1);
    cv::Mat noise(image.size(), image.type());
    cv::randu(noise, 0, 40);
    image += noise;
    std::vector<uchar> jpeg;
    cv::imencode(".jpg", image, jpeg, {cv::IMWRITE_JPEG_QUALITY, 90});
    out.push_back(Tensor::from<uint8_t>({static_cast<int64_t>(jpeg.size())}, std::span<const uint8_t>(jpeg)));
  }
  return out;
}

// The pipeline's stage specs laid out as `plan` says: its workers, threads and cores per planned stage,
// merged runs made one stage.
inline std::vector<StageSpec> planned_specs(const std::vector<StageSpec>& specs, const plan::Plan& plan) {
  std::vector<StageSpec> out;
  std::size_t next = 0;
  for (const auto& s : plan.stages) {
    if (next + s.members.size() > specs.size() || specs[next].name != s.members.front())
      throw std::logic_error("planned_specs: the plan's stage '" + s.name + "' does not match the pipeline");
    std::vector<StageSpec> members(specs.begin() + static_cast<std::ptrdiff_t>(next),
                                   specs.begin() + static_cast<std::ptrdiff_t>(next + s.members.size()));
    next += s.members.size();
    StageSpec spec = members.size() == 1 ? members[0] : merge_stages(members, s.name);
    spec.workers = s.workers;
    spec.threads = s.threads;
    spec.cores = CoreSpec{};
    spec.cores.kind = CoreSpec::Kind::kIds;
    spec.cores.ids = s.cores();
    spec.cores.shared = s.share_cores;
    out.push_back(std::move(spec));
  }
  return out;
}

// Profiles each stage at 1..max_threads threads, one request at a time, each on the previous stage's
// outputs, printing a row per stage and thread count.
inline std::vector<plan::StageProfile> profile_stages(const std::vector<StageSpec>& specs, std::vector<Sample> inputs,
                                                     int max_threads, const plan::ProfileRunOptions& run) {
  std::vector<plan::StageProfile> profiles;
  std::printf("%-14s %7s %9s %7s\n", "stage", "threads", "mean ms", "cv^2");
  for (const auto& spec : specs) {
    plan::StageProfile profile;
    profile.name = spec.name;
    std::vector<Sample> next;
    for (int t = 1; t <= max_threads; ++t) {
      auto m = plan::profile_stage(spec, t, inputs, run);
      profile.by_threads[t] = plan::ServiceTime::from_samples(m.service);
      std::printf("%-14s %7d %9.3f %7.3f\n", spec.name.c_str(), t, profile.by_threads[t].mean * 1e3,
                  profile.by_threads[t].cv2);
      if (next.empty()) next = std::move(m.outputs);
    }
    inputs = std::move(next);
    profiles.push_back(std::move(profile));
  }
  return profiles;
}

}  // namespace conveyor::bench
