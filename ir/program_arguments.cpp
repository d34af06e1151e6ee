// Reading the settings flags of a parallel step's program arguments.
#include "ir/program_arguments.h"

#include "ir/types.h"
#include "llvm/ADT/StringSwitch.h"

namespace pipec::ir {

namespace {

enum class FlagKind : std::uint8_t { None, Int, Percent, Duration, Bool };

FlagKind kindOf(llvm::StringRef flag) {
  return llvm::StringSwitch<FlagKind>(flag)
      .Case("error_threshold", FlagKind::Int)
      .Case("allowed_failed_percent", FlagKind::Percent)
      .Cases("task_overhead_timeout", "progress_update_timeout",
             "first_task_creation_timeout", "resource_monitor_interval",
             FlagKind::Duration)
      .Case("copy_logs_to_parent", FlagKind::Bool)
      .Default(FlagKind::None);
}

}  // namespace

bool isArgumentSetting(llvm::StringRef flag) {
  return kindOf(flag) != FlagKind::None;
}

std::vector<ArgumentSetting> findArgumentSettings(
    llvm::ArrayRef<std::string> words) {
  std::vector<ArgumentSetting> out;
  for (std::size_t i = 0; i < words.size(); ++i) {
    llvm::StringRef word = words[i];
    if (!word.consume_front("--")) continue;
    auto [flag, inline_value] = word.split('=');
    if (!isArgumentSetting(flag)) continue;
    ArgumentSetting a;
    a.flag = flag.str();
    a.word = a.value_word = i;
    if (word.contains('=')) {
      a.value = inline_value.str();
      a.has_value = true;
    } else if (i + 1 < words.size() &&
               !llvm::StringRef(words[i + 1]).startswith("--")) {
      a.value = words[++i];
      a.value_word = i;
      a.has_value = true;
    }
    out.push_back(std::move(a));
  }
  return out;
}

std::string applyArgumentSetting(const ArgumentSetting& a,
                                 ParallelSettings& s) {
  llvm::StringRef v = llvm::StringRef(a.value).trim();
  switch (kindOf(a.flag)) {
    case FlagKind::Int: {
      std::int64_t n;
      if (!a.has_value || v.getAsInteger(10, n) || n < -1)
        return "an integer, -1 or more";
      s.error_threshold = n;
      return "";
    }
    case FlagKind::Percent: {
      double d;
      if (!a.has_value || v.getAsDouble(d) || !(d >= 0 && d <= 100))
        return "a percentage from 0 to 100";
      s.allowed_failed_percent = d;
      return "";
    }
    case FlagKind::Duration: {
      auto ms = a.has_value ? parseDuration(v) : std::nullopt;
      if (!ms) return "a duration in seconds (or with a unit: 250ms, 5m)";
      std::uint64_t* field =
          llvm::StringSwitch<std::uint64_t*>(a.flag)
              .Case("task_overhead_timeout", &s.task_overhead_timeout_ms)
              .Case("progress_update_timeout", &s.progress_update_timeout_ms)
              .Case("first_task_creation_timeout",
                    &s.first_task_creation_timeout_ms)
              .Default(&s.resource_monitor_interval_ms);
      *field = *ms;
      return "";
    }
    case FlagKind::Bool: {
      std::string l = v.lower();
      if (a.has_value && (l == "true" || l == "1" || l == "yes"))
        s.copy_logs_to_parent = true;
      else if (a.has_value && (l == "false" || l == "0" || l == "no"))
        s.copy_logs_to_parent = false;
      else
        return "True or False";
      return "";
    }
    case FlagKind::None:
      break;
  }
  return "";
}

}  // namespace pipec::ir
