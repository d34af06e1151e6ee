// The progress of a parallel step: a live line on a terminal, plain lines
// every few seconds otherwise.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

#include "llvm/Support/raw_ostream.h"

namespace pipec::runtime::parallel {

using Clock = std::chrono::steady_clock;

/// What the progress line shows. Mini-batches count once durable.
struct ProgressCounts {
  std::uint64_t done = 0;    ///< committed (including partial ones)
  std::uint64_t failed = 0;  ///< failed for the thresholds
  std::uint64_t total = 0;   ///< all mini-batches, when known
  bool total_known = false;
  std::uint64_t items = 0;  ///< items of the mini-batches counted in done
};

class ProgressReporter {
 public:
  /// `terminal`: redraw one line in place; else a line every `plain_every`.
  ProgressReporter(
      llvm::raw_fd_ostream& os, bool terminal, std::string step,
      std::chrono::milliseconds plain_every = std::chrono::seconds(5));
  /// Prints when it is time to (or always with `force`).
  void update(const ProgressCounts& c, Clock::time_point now,
              bool force = false);
  /// The last line, ended.
  void finish(const ProgressCounts& c, Clock::time_point now);
  /// "12/40 mini-batches done, 1 failed, 830 items/s, ETA 0:07".
  std::string line(const ProgressCounts& c, Clock::time_point now) const;
  /// Why the stream stopped taking lines (say, a full disk under stderr);
  /// nothing more is printed after that. Empty while it works.
  const std::string& error() const { return error_; }

 private:
  llvm::raw_fd_ostream& os_;
  bool terminal_;
  std::string step_;
  std::chrono::milliseconds every_;
  Clock::time_point start_;
  Clock::time_point last_print_{};
  bool printed_ = false;
  std::string error_;
  void flush();
};

}  // namespace pipec::runtime::parallel
