#pragma once
// What this machine gives thread scaling right now, measured in the benchmark's process: a kernel that is
// perfectly parallel (register-only FMAs, no memory traffic, no shared data, equal shares per thread),
// run as the same number of OpenMP regions as the model has steps. Its 1-to-N thread speedup carries the
// machine's own losses (lower clocks with more cores busy, a hypervisor or a neighbour taking a vCPU) and
// none of the code's, so an executor's speedup is read against it.
#include <immintrin.h>
#include <omp.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>

namespace conveyor::bench {

namespace detail {

__attribute__((target("avx512f"))) inline float fma_chain_avx512(int64_t iterations) {
  const __m512 a = _mm512_set1_ps(0.9999f);
  const __m512 b = _mm512_set1_ps(1e-4f);
  __m512 acc[8];
  for (auto& x : acc) x = _mm512_set1_ps(1.0f);
  for (int64_t i = 0; i < iterations; ++i)
    for (auto& x : acc) x = _mm512_fmadd_ps(a, x, b);
  alignas(64) float lanes[16];
  float sum = 0;
  for (auto& x : acc) {
    _mm512_store_ps(lanes, x);
    for (float v : lanes) sum += v;
  }
  return sum;
}

__attribute__((target("avx2,fma"))) inline float fma_chain_avx2(int64_t iterations) {
  const __m256 a = _mm256_set1_ps(0.9999f);
  const __m256 b = _mm256_set1_ps(1e-4f);
  __m256 acc[8];
  for (auto& x : acc) x = _mm256_set1_ps(1.0f);
  for (int64_t i = 0; i < iterations; ++i)
    for (auto& x : acc) x = _mm256_fmadd_ps(a, x, b);
  alignas(32) float lanes[8];
  float sum = 0;
  for (auto& x : acc) {
    _mm256_store_ps(lanes, x);
    for (float v : lanes) sum += v;
  }
  return sum;
}

// Eight independent FMA chains in the widest vectors the CPU has (as oneDNN's JIT kernels use).
inline float fma_chain(int64_t iterations) {
  static const bool avx512 = __builtin_cpu_supports("avx512f");
  return avx512 ? fma_chain_avx512(iterations) : fma_chain_avx2(iterations);
}

}  // namespace detail

// Milliseconds for `regions` OpenMP regions on `threads` threads, each region splitting
// `iterations_per_region` FMA-chain iterations evenly over the team.
inline double ideal_parallel_ms(int threads, int regions, int64_t iterations_per_region) {
  omp_set_num_threads(threads);
  std::atomic<float> sink{0};
  const auto t0 = std::chrono::steady_clock::now();
  for (int r = 0; r < regions; ++r) {
#pragma omp parallel
    {
      const float v = detail::fma_chain(iterations_per_region / omp_get_num_threads());
      if (v < 0)
        sink.store(v, std::memory_order_relaxed);  // never true: keeps the work from being optimised away
    }
  }
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
}

// FMA-chain iterations per region that make `regions` regions take about `target_ms` on one thread (the
// fastest of three trials, as other load only ever adds time).
inline int64_t calibrate_ideal_iterations(int regions, double target_ms) {
  const int64_t iterations = 20000;
  double fastest = ideal_parallel_ms(1, regions, iterations);
  for (int trial = 1; trial < 3; ++trial)
    fastest = std::min(fastest, ideal_parallel_ms(1, regions, iterations));
  return static_cast<int64_t>(static_cast<double>(iterations) * target_ms / std::max(fastest, 1e-3));
}

// The FMA peak of `threads` threads now, in GFLOP/s: the fastest of three ~`target_ms` regions of the
// register-only chain (each iteration is 8 vector FMAs: 2 flops per lane).
inline double fma_peak_gflops(int threads, double target_ms = 200) {
  static const bool avx512 = __builtin_cpu_supports("avx512f");
  const double flops_per_iteration = 8 * (avx512 ? 16 : 8) * 2;
  const int64_t iterations = calibrate_ideal_iterations(1, target_ms) * threads;
  double fastest = ideal_parallel_ms(threads, 1, iterations);
  for (int trial = 1; trial < 3; ++trial) fastest = std::min(fastest, ideal_parallel_ms(threads, 1, iterations));
  return static_cast<double>(iterations) * flops_per_iteration / (fastest * 1e6);
}

}  // namespace conveyor::bench
