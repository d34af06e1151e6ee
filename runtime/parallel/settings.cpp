// Program-argument overrides of the parallel settings.
#include "runtime/parallel/settings.h"

#include "llvm/ADT/StringExtras.h"
#include "llvm/ADT/StringSwitch.h"

namespace pipec::runtime::parallel {

bool applyArgumentOverrides(const std::vector<std::string>& args,
                            ir::ParallelSettings& s, Problem& problem) {
  for (std::size_t i = 0; i < args.size(); ++i) {
    llvm::StringRef word = args[i];
    if (!word.consume_front("--")) continue;
    auto [flag, inline_value] = word.split('=');
    bool has_inline = word.contains('=');
    enum Kind { None, Int, Percent, Duration, Bool };
    Kind kind = llvm::StringSwitch<Kind>(flag)
                    .Case("error_threshold", Int)
                    .Case("allowed_failed_percent", Percent)
                    .Cases("task_overhead_timeout", "progress_update_timeout",
                           "first_task_creation_timeout",
                           "resource_monitor_interval", Duration)
                    .Case("copy_logs_to_parent", Bool)
                    .Default(None);
    if (kind == None) continue;
    std::string value;
    if (has_inline) {
      value = inline_value.str();
    } else if (i + 1 < args.size()) {
      value = args[++i];
    }
    auto bad = [&](const char* what) {
      problem = {ir::diag::ParallelArgumentValue, "--" + flag.str(),
                 std::string(what) + ", not '" + value + "'"};
      return false;
    };
    llvm::StringRef v = llvm::StringRef(value).trim();
    switch (kind) {
      case Int: {
        std::int64_t n;
        if (v.getAsInteger(10, n) || n < -1)
          return bad("an integer, -1 or more");
        s.error_threshold = n;
        break;
      }
      case Percent: {
        double d;
        if (v.getAsDouble(d) || d < 0 || d > 100)
          return bad("a percentage from 0 to 100");
        s.allowed_failed_percent = d;
        break;
      }
      case Duration: {
        auto ms = ir::parseDuration(v);
        if (!ms)
          return bad("a duration in seconds (or with a unit: 250ms, 5m)");
        if (flag == "task_overhead_timeout") s.task_overhead_timeout_ms = *ms;
        if (flag == "progress_update_timeout")
          s.progress_update_timeout_ms = *ms;
        if (flag == "first_task_creation_timeout")
          s.first_task_creation_timeout_ms = *ms;
        if (flag == "resource_monitor_interval")
          s.resource_monitor_interval_ms = *ms;
        break;
      }
      case Bool: {
        std::string l = v.lower();
        if (l == "true" || l == "1" || l == "yes")
          s.copy_logs_to_parent = true;
        else if (l == "false" || l == "0" || l == "no")
          s.copy_logs_to_parent = false;
        else
          return bad("True or False");
        break;
      }
      case None:
        break;
    }
  }
  return true;
}

std::uint64_t derivedProgressTimeoutMs(const ir::ParallelSettings& s) {
  return 2 * (s.timeout_ms + 2 * s.task_overhead_timeout_ms);
}

}  // namespace pipec::runtime::parallel
