// Samples from /proc.
#include "runtime/parallel/resource_monitor.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <sstream>

#include "runtime/parallel/fd_io.h"

namespace pipec::runtime::parallel {

namespace {

std::string slurp(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// utime + stime of a process, in clock ticks; 0 when it is gone.
unsigned long long processTicks(pid_t pid) {
  std::string s = slurp("/proc/" + std::to_string(pid) + "/stat");
  std::size_t paren = s.rfind(')');
  if (paren == std::string::npos) return 0;
  std::istringstream in(s.substr(paren + 2));
  std::string field;
  unsigned long long utime = 0, stime = 0;
  for (int i = 3; i <= 15 && in >> field; ++i) {
    if (i == 14) utime = std::strtoull(field.c_str(), nullptr, 10);
    if (i == 15) stime = std::strtoull(field.c_str(), nullptr, 10);
  }
  return utime + stime;
}

double processRssMb(pid_t pid) {
  std::string s = slurp("/proc/" + std::to_string(pid) + "/statm");
  unsigned long long size = 0, resident = 0;
  if (std::sscanf(s.c_str(), "%llu %llu", &size, &resident) != 2) return 0;
  return double(resident) * double(::sysconf(_SC_PAGESIZE)) / (1 << 20);
}

}  // namespace

ResourceMonitor::ResourceMonitor(std::string dir) {
  path_ = dir + "/node-0.csv";
  struct stat st;
  bool fresh = ::stat(path_.c_str(), &st) != 0 || st.st_size == 0;
  if (!cutTornLine(path_)) {
    fail();
    return;
  }
  fd_ = ::open(path_.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (fd_ < 0) {
    fail();
    return;
  }
  if (fresh && !writeAll(fd_, "time_s,process,pid,cpu_percent,memory_mb\n"))
    fail();
}

void ResourceMonitor::fail() {
  errno_ = errno;
  error_ = std::strerror(errno_);
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
}

ResourceMonitor::~ResourceMonitor() {
  if (fd_ >= 0) ::close(fd_);
}

bool ResourceMonitor::sample(
    double seconds,
    const std::vector<std::pair<std::string, pid_t>>& processes) {
  if (fd_ < 0) return error_.empty();
  std::string out;
  char buf[256];
  // The machine: /proc/stat's first line and /proc/meminfo.
  {
    std::istringstream in(slurp("/proc/stat"));
    std::string cpu;
    in >> cpu;
    unsigned long long v, total = 0, idle = 0;
    for (int i = 0; i < 10 && in >> v; ++i) {
      total += v;
      if (i == 3 || i == 4) idle += v;
    }
    unsigned long long busy = total - idle;
    double pct =
        total > sys_total_ && sys_total_
            ? 100.0 * double(busy - sys_busy_) / double(total - sys_total_)
            : 0;
    sys_busy_ = busy;
    sys_total_ = total;
    std::istringstream mem(slurp("/proc/meminfo"));
    std::string key;
    unsigned long long kb, mem_total = 0, mem_avail = 0;
    std::string unit;
    while (mem >> key >> kb) {
      std::getline(mem, unit);
      if (key == "MemTotal:") mem_total = kb;
      if (key == "MemAvailable:") mem_avail = kb;
    }
    std::snprintf(buf, sizeof(buf), "%.3f,system,0,%.1f,%.1f\n", seconds, pct,
                  double(mem_total - mem_avail) / 1024);
    out += buf;
  }
  long hz = ::sysconf(_SC_CLK_TCK);
  double dt = seconds - last_seconds_;
  for (const auto& [name, pid] : processes) {
    unsigned long long ticks = processTicks(pid);
    auto it = proc_ticks_.find(pid);
    double pct = it != proc_ticks_.end() && dt > 0 && ticks >= it->second
                     ? 100.0 * double(ticks - it->second) / double(hz) / dt
                     : 0;
    proc_ticks_[pid] = ticks;
    std::snprintf(buf, sizeof(buf), "%.3f,%s,%d,%.1f,%.1f\n", seconds,
                  name.c_str(), int(pid), pct, processRssMb(pid));
    out += buf;
  }
  last_seconds_ = seconds;
  if (!writeAll(fd_, out)) {
    fail();
    return false;
  }
  return true;
}

}  // namespace pipec::runtime::parallel
