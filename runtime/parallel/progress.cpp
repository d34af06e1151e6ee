// Progress lines.
#include "runtime/parallel/progress.h"

#include <cinttypes>
#include <cstdio>

namespace pipec::runtime::parallel {

ProgressReporter::ProgressReporter(llvm::raw_fd_ostream& os, bool terminal,
                                   std::string step,
                                   std::chrono::milliseconds plain_every)
    : os_(os),
      terminal_(terminal),
      step_(std::move(step)),
      every_(terminal ? std::chrono::milliseconds(200) : plain_every),
      start_(Clock::now()) {}

std::string ProgressReporter::line(const ProgressCounts& c,
                                   Clock::time_point now) const {
  double secs = std::chrono::duration<double>(now - start_).count();
  char buf[256];
  std::string total = c.total_known ? std::to_string(c.total) : "?";
  std::string s = step_ + ": " + std::to_string(c.done) + "/" + total +
                  " mini-batches done, " + std::to_string(c.failed) + " failed";
  if (secs > 0.05) {
    std::snprintf(buf, sizeof(buf), ", %.0f items/s", double(c.items) / secs);
    s += buf;
  }
  if (c.total_known && c.done > 0 && c.done < c.total) {
    double eta = secs * double(c.total - c.done) / double(c.done);
    std::uint64_t e = std::uint64_t(eta + 0.5);
    if (e >= 3600)
      std::snprintf(buf, sizeof(buf),
                    ", ETA %" PRIu64 ":%02" PRIu64 ":%02" PRIu64, e / 3600,
                    e / 60 % 60, e % 60);
    else
      std::snprintf(buf, sizeof(buf), ", ETA %" PRIu64 ":%02" PRIu64, e / 60,
                    e % 60);
    s += buf;
  }
  return s;
}

void ProgressReporter::flush() {
  os_.flush();
  if (os_.has_error()) {
    error_ = os_.error().message();
    os_.clear_error();
  }
}

void ProgressReporter::update(const ProgressCounts& c, Clock::time_point now,
                              bool force) {
  if (!error_.empty()) return;
  if (!force && printed_ && now - last_print_ < every_) return;
  if (!force && !printed_ && now - start_ < every_) return;
  last_print_ = now;
  printed_ = true;
  if (terminal_)
    os_ << "\r" << line(c, now) << "\x1b[K";
  else
    os_ << line(c, now) << "\n";
  flush();
}

void ProgressReporter::finish(const ProgressCounts& c, Clock::time_point now) {
  if (!error_.empty()) return;
  if (terminal_)
    os_ << "\r" << line(c, now) << "\x1b[K\n";
  else
    os_ << line(c, now) << "\n";
  flush();
}

}  // namespace pipec::runtime::parallel
