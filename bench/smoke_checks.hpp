// Correctness checks inside Google Benchmark runs: a failed check marks the
// benchmark as errored and makes main() exit 1, so the ctest smoke that runs
// the benchmark briefly fails instead of printing a figure for wrong work.
#pragma once

#include <benchmark/benchmark.h>

#include <atomic>

namespace credplug::bench {

inline std::atomic<int> &failed_checks() {
  static std::atomic<int> n{0};
  return n;
}

inline bool check(benchmark::State &state, bool ok, const char *what) {
  if (!ok) {
    state.SkipWithError(what);
    ++failed_checks();
  }
  return ok;
}

}  // namespace credplug::bench

#define CREDPLUG_BENCHMARK_MAIN()                                     \
  int main(int argc, char **argv) {                                   \
    benchmark::Initialize(&argc, argv);                               \
    if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1; \
    benchmark::RunSpecifiedBenchmarks();                              \
    benchmark::Shutdown();                                            \
    return credplug::bench::failed_checks() == 0 ? 0 : 1;             \
  }
