// CPU and memory samples of the machine, the engine and its workers, written
// to logs/sys/perf/ every resource_monitor_interval.
#pragma once

#include <sys/types.h>

#include <map>
#include <string>
#include <utility>
#include <vector>

namespace pipec::runtime::parallel {

class ResourceMonitor {
 public:
  /// Appends to `dir`/node-0.csv (created with its header).
  explicit ResourceMonitor(std::string dir);
  ~ResourceMonitor();
  /// One sample: a "system" row and one row per process (name, pid).
  void sample(double seconds,
              const std::vector<std::pair<std::string, pid_t>>& processes);

 private:
  std::string path_;
  int fd_ = -1;
  // CPU ticks at the previous sample, for percentages.
  unsigned long long sys_busy_ = 0, sys_total_ = 0;
  std::map<pid_t, unsigned long long> proc_ticks_;
  double last_seconds_ = 0;
};

}  // namespace pipec::runtime::parallel
