// The one reader of the PRS flags in program_arguments, and the parallel
// engine's run-time default that depends on the settings.
#include "ir/program_arguments.h"
#include "gtest/gtest.h"

namespace pipec::ir {
namespace {

// Applies every settings flag in `words`; the first problem, or "".
std::string applyAll(const std::vector<std::string>& words,
                     ParallelSettings& s) {
  for (const ArgumentSetting& a : findArgumentSettings(words))
    if (std::string need = applyArgumentSetting(a, s); !need.empty())
      return "--" + a.flag + " needs " + need;
  return "";
}

TEST(ProgramArguments, FlagsOverride) {
  ParallelSettings s;
  EXPECT_EQ(
      applyAll({"--model", "/m", "--error_threshold", "5",
                "--allowed_failed_percent=30", "--task_overhead_timeout",
                "1200", "--progress_update_timeout", "90s",
                "--first_task_creation_timeout", "5m", "--copy_logs_to_parent",
                "True", "--resource_monitor_interval", "0", "--unrelated", "x"},
               s),
      "");
  EXPECT_EQ(s.error_threshold, 5);
  EXPECT_EQ(s.allowed_failed_percent, 30);
  EXPECT_EQ(s.task_overhead_timeout_ms, 1200000u);
  EXPECT_EQ(s.progress_update_timeout_ms, 90000u);
  EXPECT_EQ(s.first_task_creation_timeout_ms, 300000u);
  EXPECT_TRUE(s.copy_logs_to_parent);
  EXPECT_EQ(s.resource_monitor_interval_ms, 0u);
}

TEST(ProgramArguments, WhereTheFlagsAre) {
  auto found =
      findArgumentSettings({"--error_threshold=3", "x", "--max_retries", "2",
                            "--allowed_failed_percent", "--error_threshold"});
  ASSERT_EQ(found.size(), 3u);
  EXPECT_EQ(found[0].flag, "error_threshold");
  EXPECT_EQ(found[0].value, "3");
  EXPECT_EQ(found[0].value_word, 0u);
  // Followed by another flag or by nothing: no value.
  EXPECT_EQ(found[1].flag, "allowed_failed_percent");
  EXPECT_FALSE(found[1].has_value);
  EXPECT_FALSE(found[2].has_value);
  EXPECT_TRUE(isArgumentSetting("copy_logs_to_parent"));
  EXPECT_FALSE(isArgumentSetting("max_retries"));
}

TEST(ProgramArguments, AbsentFlagsKeepTheSettings) {
  ParallelSettings s;
  s.error_threshold = 7;
  std::uint64_t interval = s.resource_monitor_interval_ms;
  EXPECT_EQ(applyAll({"--resource_monitor_interva", "20"}, s), "");
  EXPECT_EQ(s.error_threshold, 7);
  EXPECT_EQ(s.resource_monitor_interval_ms, interval);
}

TEST(ProgramArguments, BadValues) {
  ParallelSettings s;
  EXPECT_EQ(applyAll({"--error_threshold", "many"}, s),
            "--error_threshold needs an integer, -1 or more");
  EXPECT_NE(applyAll({"--allowed_failed_percent", "130"}, s), "");
  EXPECT_NE(applyAll({"--task_overhead_timeout"}, s), "");
  EXPECT_NE(applyAll({"--copy_logs_to_parent", "maybe"}, s), "");
}

}  // namespace
}  // namespace pipec::ir
