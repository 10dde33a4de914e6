#include "ops/opencv_threads.hpp"

#include <mutex>
#include <opencv2/core.hpp>

namespace conveyor::ops {

void use_single_threaded_opencv() {
  static std::once_flag once;
  std::call_once(once, [] { cv::setNumThreads(1); });
}

}  // namespace conveyor::ops
