// Times the splitting of a folder input into mini-batches alone (no workers):
//   parallel_enumerate DIR MINI_BATCH_SIZE
// prints "mini-batches items seconds".
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "runtime/parallel/batch_source.h"

int main(int argc, char** argv) {
  using namespace pipec::runtime::parallel;
  if (argc != 3) {
    std::fprintf(stderr, "usage: parallel_enumerate DIR MINI_BATCH_SIZE\n");
    return 2;
  }
  SourceOptions opts;
  opts.input_path = argv[1];
  opts.mini_batch_size = std::strtoull(argv[2], nullptr, 10);
  opts.scratch_dir = "/tmp";
  auto t0 = std::chrono::steady_clock::now();
  Problem problem;
  auto source = openBatchSource(opts, problem);
  if (!source) {
    std::fprintf(stderr, "%s\n", problem.message().c_str());
    return 1;
  }
  MiniBatch mb;
  unsigned long long batches = 0, items = 0;
  while (source->next(mb)) {
    ++batches;
    items += mb.items;
  }
  double secs =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - t0)
          .count();
  std::printf("%llu %llu %.4f\n", batches, items, secs);
  return source->failed() ? 1 : 0;
}
