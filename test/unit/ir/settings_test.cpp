// The one table of job settings: names, the reader of text values, JSON.
#include <set>

#include "gtest/gtest.h"
#include "ir/settings.h"

namespace pipec::ir {
namespace {

std::string apply(llvm::StringRef name, llvm::StringRef text, Resources& r,
                  ParallelSettings& p, bool table = false) {
  const SettingInfo* s = findSetting(name);
  EXPECT_NE(s, nullptr) << name.str();
  return s ? applySetting(*s, text, r, &p, table) : "no such setting";
}

TEST(Settings, EachKindReadsItsValues) {
  Resources r;
  ParallelSettings p;
  EXPECT_EQ(apply("instance_count", " 4 ", r, p), "");
  EXPECT_EQ(r.instance_count, 4);
  EXPECT_EQ(apply("instance_count", "0", r, p), "a whole number, at least 1");
  EXPECT_EQ(apply("worker_count", "2", r, p), "");
  EXPECT_EQ(r.tf_worker, 2);
  EXPECT_EQ(apply("multi_gpu", "True", r, p), "");
  EXPECT_TRUE(r.multi_gpu);
  EXPECT_EQ(apply("multi_gpu", "maybe", r, p), "True or False");
  EXPECT_EQ(apply("error_threshold", "-1", r, p), "");
  EXPECT_EQ(apply("error_threshold", "-2", r, p), "an integer, -1 or more");
  EXPECT_EQ(apply("max_retries", "2.5", r, p), "a whole number, 0 or more");
  EXPECT_EQ(apply("allowed_failed_percent", "12.5", r, p), "");
  EXPECT_EQ(p.allowed_failed_percent, 12.5);
  EXPECT_NE(apply("allowed_failed_percent", "101", r, p), "");
  EXPECT_NE(apply("allowed_failed_percent", "nan", r, p), "");
  EXPECT_EQ(apply("timeout", "5m", r, p), "");
  EXPECT_EQ(p.timeout_ms, 300000u);
  EXPECT_EQ(apply("logging_level", "debug", r, p), "");
  EXPECT_EQ(p.logging_level, "DEBUG");
  EXPECT_NE(apply("logging_level", "LOUD", r, p), "");
  EXPECT_EQ(apply("instance_type", "gpu", r, p), "");
  EXPECT_EQ(r.instance_type, "gpu");
}

TEST(Settings, BatchSizeCountsFilesOrBytes) {
  Resources r;
  ParallelSettings p;
  EXPECT_EQ(apply("mini_batch_size", "5", r, p), "");
  EXPECT_EQ(p.batch_by, ParallelSettings::BatchBy::Count);
  EXPECT_EQ(apply("mini_batch_size", "1kb", r, p), "");
  EXPECT_EQ(p.batch_by, ParallelSettings::BatchBy::Size);
  EXPECT_EQ(p.mini_batch_size, 1024u);
  // A plain number for a table input is bytes.
  EXPECT_EQ(apply("mini_batch_size", "5", r, p, true), "");
  EXPECT_EQ(p.batch_by, ParallelSettings::BatchBy::Size);
  EXPECT_NE(apply("mini_batch_size", "2.5", r, p), "");
}

TEST(Settings, AParallelSettingNeedsAParallelStep) {
  Resources r;
  const SettingInfo* s = findSetting("max_retries");
  ASSERT_NE(s, nullptr);
  EXPECT_NE(applySetting(*s, "2", r, nullptr), "");
  EXPECT_EQ(findSetting("no_such_setting"), nullptr);
}

TEST(Settings, NamesAreUniqueAndFlagsAreParallel) {
  std::set<std::string> names;
  for (const SettingInfo& s : allSettings()) {
    EXPECT_TRUE(names.insert(s.name.str()).second) << s.name.str();
    EXPECT_TRUE(!s.prs_flag || s.parallel()) << s.name.str();
    EXPECT_EQ(findSetting(s.name), &s);
  }
}

TEST(Settings, JsonRoundTrip) {
  ParallelSettings p;
  p.input_data = "data";
  p.batch_by = ParallelSettings::BatchBy::PartitionKeys;
  p.partition_keys = {"Store", "Brand"};
  p.mini_batch_error_threshold = 5;
  p.allowed_failed_percent = 12.5;
  p.timeout_ms = 1234;
  p.logging_level = "DEBUG";
  p.copy_logs_to_parent = true;
  p.resource_monitor_interval_ms = 0;
  p.append_row_to = "rows";
  llvm::json::Object o = settingsJson(p);
  ParallelSettings back;
  ASSERT_FALSE(bool(settingsFromJson(o, back)));
  EXPECT_EQ(llvm::json::Value(settingsJson(back)),
            llvm::json::Value(std::move(o)));
  EXPECT_EQ(back.partition_keys, p.partition_keys);
  EXPECT_EQ(back.timeout_ms, 1234u);
  EXPECT_TRUE(back.copy_logs_to_parent);
  llvm::json::Object bad{{"batch_by", "sometimes"}};
  llvm::Error e = settingsFromJson(bad, back);
  EXPECT_TRUE(bool(e));
  llvm::consumeError(std::move(e));
}

}  // namespace
}  // namespace pipec::ir
