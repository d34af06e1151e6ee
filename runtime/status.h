// What a run reports as it goes: step events for the console, and the
// console printer itself (live lines on a terminal, plain lines otherwise).
#pragma once

#include <chrono>
#include <cstddef>
#include <map>
#include <string>
#include <vector>

#include "llvm/ADT/StringRef.h"
#include "llvm/Support/raw_ostream.h"
#include "runtime/plan.h"
#include "runtime/scheduler.h"

namespace pipec::runtime {

/// The end of a log, as a failure report shows it.
struct LogTail {
  std::vector<std::string> lines;  ///< printable UTF-8, oldest first
  bool more = false;               ///< the log has more before them
};

/// The last lines of `path` for a failure report (as Nextflow's "Command
/// error"): at most kTailLines lines from its last kTailBytes bytes, each cut
/// to kTailLineBytes; a line rewritten with carriage returns shows what a
/// terminal shows, other control characters become '?', bytes that are not
/// UTF-8 become U+FFFD, and trailing blank lines go.
LogTail readLogTail(const std::string& path);
inline constexpr std::size_t kTailLines = 10;
inline constexpr std::size_t kTailBytes = 4096;
inline constexpr std::size_t kTailLineBytes = 200;

/// How one step ended, for the console and the summary.
struct StepReport {
  StepStatus status = StepStatus::Pending;
  double seconds = 0;
  std::string log;  ///< the log that says most about it
  /// "exit 3", "rank-1: killed by SIGKILL", ...; for a step that passed,
  /// its warning ("warning: no mini-batch succeeded").
  std::string detail;
  LogTail log_tail;  ///< of a failed step: the end of `log`
};

/// Receives the events of a run. Every method has an empty default.
class RunObserver {
 public:
  virtual ~RunObserver();
  virtual void stepStarted(std::size_t /*step*/) {}
  virtual void stepEnded(std::size_t /*step*/, const StepReport& /*report*/) {}
  /// New output of the followed step's process `process`.
  virtual void followed(llvm::StringRef /*process*/, llvm::StringRef /*text*/) {
  }
  /// Called every tickMs() while steps run.
  virtual void tick() {}
  /// Milliseconds between ticks; negative: no ticks wanted.
  virtual int tickMs() const { return -1; }
  /// Called before a diagnostic is printed (a live display clears itself).
  virtual void beforeDiagnostic() {}
};

enum class Verbosity : unsigned char { Quiet, Normal, Verbose };

/// Prints a run to a stream. On a terminal: a finished line per step and,
/// below them, a live line per running step with its time. Otherwise: one
/// plain line per finished step (and per started step with Verbose).
class ConsoleStatus : public RunObserver {
 public:
  ConsoleStatus(llvm::raw_ostream& os, const RunPlan& plan, Verbosity v,
                bool terminal);
  void stepStarted(std::size_t step) override;
  void stepEnded(std::size_t step, const StepReport& report) override;
  void followed(llvm::StringRef process, llvm::StringRef text) override;
  void tick() override;
  int tickMs() const override { return terminal_ ? 250 : -1; }
  void beforeDiagnostic() override;

  /// Steps finished in an earlier session (--resume) count as done.
  void countDone(std::size_t n) { finished_ += n; }

  /// Every step with status, time and log (a failed one with the end of its
  /// log); then the pipeline's outputs. `reports` are by step index.
  void summary(const Scheduler& scheduler,
               const std::vector<StepReport>& reports, double seconds);

  /// The plan of a dry run: each step with what it waits for, its
  /// processes, command, folders (and environment when `verbose`).
  void printPlan(bool verbose);

  /// `path` relative to the current folder when below it.
  std::string display(llvm::StringRef path) const;

 private:
  void clearLive();
  void drawLive();
  /// The end of a failed step's log, under its line of the summary.
  void printTail(const LogTail& tail);
  void line(const std::string& text);

  llvm::raw_ostream& os_;
  const RunPlan& plan_;
  Verbosity verbosity_;
  bool terminal_;
  std::string cwd_;
  std::map<std::size_t, std::chrono::steady_clock::time_point> running_;
  std::size_t finished_ = 0;
  unsigned live_lines_ = 0;
};

}  // namespace pipec::runtime
