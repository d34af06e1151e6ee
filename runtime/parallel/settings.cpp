// Run-time defaults of the parallel settings.
#include "runtime/parallel/settings.h"

namespace pipec::runtime::parallel {

std::uint64_t derivedProgressTimeoutMs(const ir::ParallelSettings& s) {
  return 2 * (s.timeout_ms + 2 * s.task_overhead_timeout_ms);
}

}  // namespace pipec::runtime::parallel
