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
  /// False (error() set) when the file cannot be written; it stops then.
  bool sample(double seconds,
              const std::vector<std::pair<std::string, pid_t>>& processes);
  /// "PATH: why", once the file could not be opened or written.
  const std::string& error() const { return error_; }
  const std::string& path() const { return path_; }
  int errorNumber() const { return errno_; }

 private:
  std::string path_;
  int fd_ = -1;
  std::string error_;
  int errno_ = 0;
  void fail();
  // CPU ticks at the previous sample, for percentages.
  unsigned long long sys_busy_ = 0, sys_total_ = 0;
  std::map<pid_t, unsigned long long> proc_ticks_;
  double last_seconds_ = 0;
};

}  // namespace pipec::runtime::parallel
