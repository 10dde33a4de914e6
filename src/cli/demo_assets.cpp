#include "cli/demo_assets.hpp"

#include "conveyor/graph/zoo.hpp"

#include <cstdlib>
#include <fstream>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>
#include <random>
#include <stdexcept>

namespace conveyor::cli {

std::filesystem::path cache_dir() {
  if (const char* xdg = std::getenv("XDG_CACHE_HOME"); xdg && *xdg) return std::filesystem::path(xdg) / "conveyor";
  if (const char* home = std::getenv("HOME"); home && *home) return std::filesystem::path(home) / ".cache" / "conveyor";
  return "/tmp/conveyor";
}

std::filesystem::path ensure_synthetic_images(const std::filesystem::path& dir, int count, int width, int height) {
  std::filesystem::create_directories(dir);
  for (int i = 0; i < count; ++i) {
    const auto file = dir / ("image_" + std::to_string(i) + ".jpg");
    if (std::filesystem::exists(file)) continue;
    std::mt19937 rng(static_cast<unsigned>(i) * 7919u + 1);
    std::uniform_int_distribution<int> byte(0, 255), x(0, width - 1), y(0, height - 1), r(10, std::min(width, height) / 3);
    cv::Mat image(height, width, CV_8UC3);
    const cv::Vec3b a(static_cast<uchar>(byte(rng)), static_cast<uchar>(byte(rng)), static_cast<uchar>(byte(rng)));
    const cv::Vec3b b(static_cast<uchar>(byte(rng)), static_cast<uchar>(byte(rng)), static_cast<uchar>(byte(rng)));
    for (int row = 0; row < height; ++row) {
      const double t = static_cast<double>(row) / height;
      const cv::Vec3b c(static_cast<uchar>(a[0] * (1 - t) + b[0] * t), static_cast<uchar>(a[1] * (1 - t) + b[1] * t),
                        static_cast<uchar>(a[2] * (1 - t) + b[2] * t));
      image.row(row).setTo(c);
    }
    for (int shape = 0; shape < 12; ++shape) {
      const cv::Scalar colour(byte(rng), byte(rng), byte(rng));
      if (shape % 2)
        cv::circle(image, {x(rng), y(rng)}, r(rng), colour, cv::FILLED);
      else
        cv::rectangle(image, cv::Rect(cv::Point(x(rng), y(rng)), cv::Point(x(rng), y(rng))), colour, cv::FILLED);
    }
    cv::Mat noise(height, width, CV_8UC3);
    cv::randn(noise, cv::Scalar::all(0), cv::Scalar::all(12));
    image += noise;
    std::vector<uchar> jpeg;
    if (!cv::imencode(".jpg", image, jpeg, {cv::IMWRITE_JPEG_QUALITY, 90}))
      throw std::runtime_error("could not encode a synthetic JPEG");
    std::ofstream out(file, std::ios::binary);
    out.write(reinterpret_cast<const char*>(jpeg.data()), static_cast<std::streamsize>(jpeg.size()));
    if (!out) throw std::runtime_error("cannot write '" + file.string() + "'");
  }
  return dir;
}

std::filesystem::path ensure_zoo_model(const std::filesystem::path& file, const std::string& name) {
  if (std::filesystem::exists(file)) return file;
  std::filesystem::create_directories(file.parent_path());
  const auto partial = file.string() + ".partial";  // never leave a half-written model behind
  zoo::write(name, zoo::ZooOptions{}, partial);
  std::filesystem::rename(partial, file);
  return file;
}

std::filesystem::path ensure_labels(const std::filesystem::path& file, int count) {
  if (std::filesystem::exists(file)) return file;
  std::filesystem::create_directories(file.parent_path());
  std::ofstream out(file);
  for (int i = 0; i < count; ++i) out << "class_" << i << '\n';
  if (!out) throw std::runtime_error("cannot write '" + file.string() + "'");
  return file;
}

}  // namespace conveyor::cli
