// Run-time defaults of the parallel settings.
#include "gtest/gtest.h"
#include "runtime/parallel/settings.h"

namespace pipec::runtime::parallel {
namespace {

TEST(ParallelSettings, DerivedProgressTimeout) {
  ir::ParallelSettings s;
  s.timeout_ms = 60000;
  s.task_overhead_timeout_ms = 30000;
  EXPECT_EQ(derivedProgressTimeoutMs(s), 240000u);
}

}  // namespace
}  // namespace pipec::runtime::parallel
