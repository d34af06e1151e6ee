// PRS flags in program_arguments override the parallel settings.
#include "gtest/gtest.h"
#include "runtime/parallel/settings.h"

namespace pipec::runtime::parallel {
namespace {

TEST(ParallelSettings, FlagsOverride) {
  ir::ParallelSettings s;
  Problem p;
  ASSERT_TRUE(applyArgumentOverrides(
      {"--model", "/m", "--error_threshold", "5", "--allowed_failed_percent=30",
       "--task_overhead_timeout", "1200", "--progress_update_timeout", "90s",
       "--first_task_creation_timeout", "5m", "--copy_logs_to_parent", "True",
       "--resource_monitor_interval", "0", "--unrelated", "x"},
      s, p));
  EXPECT_EQ(s.error_threshold, 5);
  EXPECT_EQ(s.allowed_failed_percent, 30);
  EXPECT_EQ(s.task_overhead_timeout_ms, 1200000u);
  EXPECT_EQ(s.progress_update_timeout_ms, 90000u);
  EXPECT_EQ(s.first_task_creation_timeout_ms, 300000u);
  EXPECT_TRUE(s.copy_logs_to_parent);
  EXPECT_EQ(s.resource_monitor_interval_ms, 0u);
}

TEST(ParallelSettings, AbsentFlagsKeepTheSettings) {
  ir::ParallelSettings s;
  s.error_threshold = 7;
  Problem p;
  ASSERT_TRUE(
      applyArgumentOverrides({"--resource_monitor_interva", "20"}, s, p));
  EXPECT_EQ(s.error_threshold, 7);
  EXPECT_EQ(s.resource_monitor_interval_ms, 600000u);
}

TEST(ParallelSettings, BadValues) {
  ir::ParallelSettings s;
  Problem p;
  EXPECT_FALSE(applyArgumentOverrides({"--error_threshold", "many"}, s, p));
  EXPECT_EQ(p.kind, ir::DiagKind::ParallelArgumentValue);
  EXPECT_EQ(p.message(),
            "program argument '--error_threshold' needs an integer, -1 or "
            "more, not 'many'");
  EXPECT_FALSE(
      applyArgumentOverrides({"--allowed_failed_percent", "130"}, s, p));
  EXPECT_FALSE(applyArgumentOverrides({"--task_overhead_timeout"}, s, p));
  EXPECT_FALSE(
      applyArgumentOverrides({"--copy_logs_to_parent", "maybe"}, s, p));
}

TEST(ParallelSettings, DerivedProgressTimeout) {
  ir::ParallelSettings s;
  s.timeout_ms = 60000;
  s.task_overhead_timeout_ms = 30000;
  EXPECT_EQ(derivedProgressTimeoutMs(s), 240000u);
}

}  // namespace
}  // namespace pipec::runtime::parallel
