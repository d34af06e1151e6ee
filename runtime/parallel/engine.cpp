// The engine's poll loop: workers, dispatch, retries, timeouts, thresholds,
// group commits, the final gather and the job result.
#include "runtime/parallel/engine.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cinttypes>
#include <cmath>
#include <cstring>
#include <deque>
#include <memory>
#include <optional>
#include <set>
#include <unordered_map>

#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/SHA1.h"
#include "runtime/cache.h"
#include "runtime/parallel/batch_source.h"
#include "runtime/parallel/fd_io.h"
#include "runtime/parallel/harness.h"
#include "runtime/parallel/journal.h"
#include "runtime/parallel/progress.h"
#include "runtime/parallel/resource_monitor.h"
#include "runtime/parallel/settings.h"
#include "runtime/parallel/worker_process.h"

extern char** environ;

namespace pipec::runtime::parallel {

namespace {

// Forgets the first `pos` bytes of a pipe buffer once all of it is used, or
// once they pass 1 MB.
void dropConsumed(std::string& buf, std::size_t& pos) {
  if (pos == buf.size()) {
    buf.clear();
    pos = 0;
  } else if (pos > (1u << 20)) {
    buf.erase(0, pos);
    pos = 0;
  }
}

double msSince(Clock::time_point a, Clock::time_point b) {
  return std::chrono::duration<double, std::milli>(b - a).count();
}

// "60s", "1.5s", "250ms", "2m".
std::string durationText(std::uint64_t ms) {
  if (ms % 60000 == 0 && ms >= 60000) return std::to_string(ms / 60000) + "m";
  if (ms % 1000 == 0) return std::to_string(ms / 1000) + "s";
  if (ms < 1000) return std::to_string(ms) + "ms";
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%.3gs", double(ms) / 1000);
  return buf;
}

std::string plural(std::uint64_t n, const char* one, const char* many) {
  return std::to_string(n) + " " + (n == 1 ? one : many);
}

// The last non-empty line of a traceback: "ValueError: bad item".
std::string lastLine(llvm::StringRef text) {
  text = text.rtrim();
  std::size_t nl = text.rfind('\n');
  llvm::StringRef line =
      nl == llvm::StringRef::npos ? text : text.substr(nl + 1);
  return line.trim().str();
}

enum class Level { Debug = 0, Info = 1, Warning = 2, Error = 3 };

Level levelOf(llvm::StringRef name) {
  std::string n = name.upper();
  if (n == "DEBUG") return Level::Debug;
  if (n == "WARNING" || n == "WARN") return Level::Warning;
  if (n == "ERROR" || n == "CRITICAL") return Level::Error;
  return Level::Info;
}

const char* levelName(Level l) {
  switch (l) {
    case Level::Debug:
      return "DEBUG";
    case Level::Info:
      return "INFO";
    case Level::Warning:
      return "WARNING";
    case Level::Error:
      return "ERROR";
  }
  return "INFO";
}

// The coarse wall clock that file times come from, in nanoseconds.
std::int64_t coarseWallNs() {
  struct timespec ts;
  ::clock_gettime(CLOCK_REALTIME_COARSE, &ts);
  return std::int64_t(ts.tv_sec) * 1000000000 + ts.tv_nsec;
}

struct Attempt {
  std::uint64_t seq = 0;
  std::uint64_t batch = 0;
  Clock::time_point sent;
  bool backup = false;
  /// coarseWallNs() when sent, before the worker read a file of it.
  std::int64_t sent_wall_ns = 0;
};

struct Worker {
  enum class State { Off, Starting, Ready, Killing, Closing, Exited };
  int index = 0;
  WorkerProcess proc;
  State state = State::Off;
  Clock::time_point started, phase_since, last_reply;
  std::int64_t phase_seen = 0;
  std::uint64_t replies = 0;  // result frames from the current process
  std::deque<Attempt> inflight;
  std::string in;
  std::size_t in_pos = 0;
  std::string out;
  std::size_t out_pos = 0;
  double service_ms = -1;  // moving average time per mini-batch
  bool was_ready = false;  // the current process said R
  int start_failures = 0;  // consecutive starts that never got ready
  bool gave_up = false;
  std::string kill_reason;  // why the engine killed it
  std::string init_error;   // from an I frame
  std::string log_path;
};

// A mini-batch that has not reached its outcome yet.
struct Active {
  MiniBatch batch;
  int failures = 0;  // charged attempts
  int running = 0;   // attempts in flight
  bool backed_up = false;
  std::string attempts;  // JSON objects for the record, comma-separated
  std::string last_error;
};

class Engine {
 public:
  Engine(const ParallelStepSpec& spec, const EngineIO& io)
      : spec_(spec), io_(io), settings_(spec.settings), start_(Clock::now()) {}

  int run();

 private:
  // --- setup
  bool prepare();
  bool writeHarness();
  void startWorker(Worker& w);

  // --- dispatch
  bool nextBatch(std::uint64_t& index);
  void fill();
  std::size_t depth(const Worker& w) const;
  void send(Worker& w, std::uint64_t index, bool backup);
  void maybeBackup();
  void flushOut(Worker& w);

  // --- replies and outcomes
  void readReplies(Worker& w);
  void parseFrames(Worker& w);
  void onResult(Worker& w, std::uint64_t seq, std::uint64_t given,
                std::uint64_t ok, llvm::StringRef body);
  void onError(Worker& w, std::uint64_t seq, llvm::StringRef body);
  bool popAttempt(Worker& w, std::uint64_t seq, Attempt& at);
  void attemptFailed(std::uint64_t index, const Worker& w, const Attempt& at,
                     const char* result, const std::string& error, bool charge);
  void appendAttempt(Active& a, const Worker& w, const Attempt& at,
                     const char* result, const std::string& error);
  void finalFailure(std::uint64_t index, Active& a);
  void record(const Active& a, const char* status, std::uint64_t ok);
  void checkThresholds(bool at_end);

  // --- workers
  void reap();
  void onExit(Worker& w, int status);
  void killWorker(Worker& w, std::string reason);
  void checkTimers(Clock::time_point now);

  // --- commits
  void flushPending(bool force);
  void collectCommits();

  // --- the end
  void abort(std::string sentence);
  void abort(const Problem& p);
  bool allDone() const {
    return source_done_ && retry_.empty() && active_.empty();
  }
  void shutdownWorkers(bool kill);
  int finish();
  /// The sentence of logs/job_result.txt for the outcome so far.
  std::string resultSentence() const;
  /// Why a step that passes deserves a look (every mini-batch failed, and
  /// the thresholds allow that), or empty.
  std::string resultWarning() const;
  /// All of logs/job_result.txt: the sentence, then "warning: ..." lines.
  std::string resultText(const std::string& sentence) const;
  /// Copies the logs to <run>/logs/<step>/; false with errno and the path
  /// that failed.
  bool copyLogsToParent(std::string& failed_path);

  void log(Level level, const std::string& message);
  ProgressCounts counts() const;
  std::size_t outstanding() const { return active_.size() + retry_.size(); }

  const ParallelStepSpec& spec_;
  EngineIO io_;
  ir::ParallelSettings settings_;
  Clock::time_point start_;
  Level level_ = Level::Info;
  int log_fd_ = -1;
  int signal_fd_ = -1;
  int input_root_fd_ = -1;
  std::string harness_path_, config_path_;
  LaunchConfig launch_;
  std::uint64_t progress_timeout_ms_ = 0;

  /// Identifies what runs on the items (entry script, program arguments),
  /// mixed into every mini-batch's hash: a resume with another script or
  /// other arguments runs everything again.
  Hash128 task_salt_;
  std::unique_ptr<Journal> journal_;
  std::unique_ptr<Committer> committer_;

  // The step cache's mini-batch results (spec_.batch_cache_dir): set up by
  // openBatchCache(); null when the step does not use it.
  std::unique_ptr<BatchCache> batch_cache_;
  Digest batch_part_;
  ContentHasher content_;
  std::string input_real_;  // the input's real path, for content records
  struct BatchState {
    Digest key;
    bool keyed = false;     // the key could be computed
    bool storable = false;  // a whole result (ok == items), committed
    std::uint64_t items = 0;
  };
  std::vector<BatchState> batch_state_;  // by index, with the cache only
  std::unordered_map<std::string, std::uint32_t> taken_segments_;
  std::uint64_t from_cache_ = 0;
  std::vector<std::string> cache_notes_;  // lines for job_result.txt
  void openBatchCache();
  bool keyBatch(const MiniBatch& mb);
  bool takeFromCache(const MiniBatch& mb);
  void storeBatches();
  BatchState& stateOf(std::uint64_t index) {
    if (batch_state_.size() <= index) batch_state_.resize(index + 1);
    return batch_state_[index];
  }
  std::unique_ptr<BatchSource> source_;
  std::unique_ptr<ProgressReporter> progress_;
  std::unique_ptr<ResourceMonitor> monitor_;
  Clock::time_point next_sample_;

  std::vector<Worker> workers_;
  static constexpr std::size_t kReadChunk = 64u << 10;
  // What readReplies() reads into; not cleared, unlike a resized string.
  std::unique_ptr<char[]> read_buf_{new char[kReadChunk]};
  std::unordered_map<std::uint64_t, Active> active_;
  std::set<std::uint64_t> retry_;
  bool source_done_ = false;
  std::uint64_t produced_ = 0;
  std::uint64_t seq_ = 0;
  std::optional<Clock::time_point> first_dispatch_;
  Clock::time_point last_progress_;
  double service_ms_ = -1;  // over all workers

  std::unique_ptr<CommitGroup> pending_;
  Clock::time_point pending_since_;
  std::uint64_t next_group_ = 1;
  std::vector<Location> locations_;  // by mini-batch index

  // Outcomes.
  std::uint64_t committed_ = 0;       // durable, including partial ones
  std::uint64_t final_failed_ = 0;    // failed after every retry
  std::uint64_t failed_batches_ = 0;  // final failures and partial results
  std::uint64_t failed_items_ = 0;
  // Short returns not counted as failures (error_threshold -1).
  std::uint64_t short_batches_ = 0;
  // A run() that returned `ok` of `given` items. As Azure documents it,
  // the gap is failed items and the mini-batch a failed one; with
  // error_threshold -1 (the default) failed items are not checked, and
  // such a return is no failure at all (Azure's partition example returns
  // one row per partition with error_threshold -1 and passes). True when
  // it counted as a failure.
  bool countShort(std::uint64_t given, std::uint64_t ok) {
    if (settings_.error_threshold < 0) {
      ++short_batches_;
      return false;
    }
    ++failed_batches_;
    failed_items_ += given - ok;
    return true;
  }
  std::uint64_t items_done_ = 0;  // items of durable mini-batches
  std::uint64_t resumed_ = 0;     // skipped: committed by an earlier run
  std::uint64_t retried_ = 0, backups_ = 0, workers_lost_ = 0;

  bool aborting_ = false;
  bool stopping_ = false;  // workers are being shut down
  std::string fail_sentence_;
  bool broken_ = false;

  // Writing. Every file the engine writes is checked: a write that fails
  // fails the step, naming the file. A few hundred kilobytes are held in
  // state/reserve from the start and freed when the disk is full, so that
  // the diagnostic, logs/job_result.txt and the journal's last words still
  // fit.
  std::string reserve_path_;
  bool disk_full_ = false;
  bool log_failed_ = false;  // parallel.log took its last line
  int log_errno_ = 0;        // why, until checkLog() reported it
  bool progress_failed_ = false;
  void writeFailed(const ProblemKind& kind, const std::string& path, int err);
  void releaseReserve();
  void checkLog();
};

// --- setup -------------------------------------------------------------------

void Engine::log(Level level, const std::string& message) {
  if (level < level_ || log_fd_ < 0) return;
  char head[48];
  std::snprintf(head, sizeof(head), "%10.3f %-7s ",
                msSince(start_, Clock::now()) / 1000, levelName(level));
  std::string line = head + message + "\n";
  if (log_failed_ || writeAll(log_fd_, line)) return;
  // Reported by checkLog(): not here, where the report would log again.
  log_failed_ = true;
  log_errno_ = errno;
}

void Engine::checkLog() {
  if (log_failed_ && log_errno_) {
    int err = log_errno_;
    log_errno_ = 0;
    writeFailed(ir::diag::ParallelOutputUnwritable,
                spec_.logs_dir + "/parallel.log", err);
    // After the reserve is freed the log may take lines again.
    log_failed_ = false;
  }
  if (progress_ && !progress_->error().empty() && !progress_failed_) {
    progress_failed_ = true;
    log(Level::Warning,
        "progress lines stopped: cannot write them to "
        "stderr: " +
            progress_->error());
  }
  if (monitor_ && !monitor_->error().empty()) {
    int err = monitor_->errorNumber();
    std::string path = monitor_->path();
    monitor_.reset();
    writeFailed(ir::diag::ParallelOutputUnwritable, path, err);
  }
}

void Engine::releaseReserve() {
  disk_full_ = true;
  if (reserve_path_.empty()) return;
  ::unlink(reserve_path_.c_str());
  reserve_path_.clear();
  log(Level::Warning, "the disk is full: freed the space held in reserve");
}

void Engine::writeFailed(const ProblemKind& kind, const std::string& path,
                         int err) {
  if (err == ENOSPC || err == EDQUOT) releaseReserve();
  abort(Problem{kind, path, std::strerror(err)});
}

bool Engine::prepare() {
  auto fail = [&](Problem p) {
    abort(p);
    return false;
  };
  if (spec_.logs_dir.empty() || spec_.state_dir.empty()) {
    broken_ = true;
    abort(Problem{ir::diag::ParallelSpecInvalid, spec_.step_name,
                  "logs_dir and state_dir must be set"});
    return false;
  }
  // A folder the engine needs: made when missing; anything else in the way
  // is reported as `top`'s problem.
  auto folder = [&](const std::string& d, const std::string& top,
                    const ProblemKind& kind) -> bool {
    std::error_code ec = llvm::sys::fs::create_directories(d);
    if (!ec && !llvm::sys::fs::is_directory(d))
      ec = std::make_error_code(std::errc::not_a_directory);
    if (ec) abort(Problem{kind, top, ec.message()});
    return !ec;
  };
  for (const std::string& d : {spec_.logs_dir, spec_.logs_dir + "/workers"})
    if (!folder(d, d, ir::diag::ParallelStateUnusable)) return false;
  for (const std::string& d : {spec_.state_dir, spec_.state_dir + "/harness",
                               spec_.state_dir + "/scratch"})
    if (!folder(d, spec_.state_dir, ir::diag::ParallelStateUnusable))
      return false;
  level_ = levelOf(settings_.logging_level);
  // The reserve first: on a disk that is nearly full it is what the end of
  // the step writes into.
  reserve_path_ = spec_.state_dir + "/reserve";
  if (int fd = ::open(reserve_path_.c_str(),
                      O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
      fd < 0 || ::posix_fallocate(fd, 0, 256 << 10) != 0) {
    if (fd >= 0) ::close(fd);
    ::unlink(reserve_path_.c_str());
    reserve_path_.clear();  // no room even for that: nothing held
  } else {
    ::close(fd);
  }
  std::string log_path = spec_.logs_dir + "/parallel.log";
  if (cutTornLine(log_path))
    log_fd_ = ::open(log_path.c_str(),
                     O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (log_fd_ < 0) {
    writeFailed(ir::diag::ParallelOutputUnwritable, log_path, errno);
    return false;
  }
  log(Level::Info, "parallel step '" + spec_.step_name + "' starts" +
                       (spec_.resume ? " (resuming)" : ""));

  // The settings come lowered: PRS flags in program_arguments are already
  // applied (lowering::lowerStep, the one reader of them).
  progress_timeout_ms_ = settings_.progress_update_timeout_ms
                             ? settings_.progress_update_timeout_ms
                             : derivedProgressTimeoutMs(settings_);

  // The interpreter and the entry script, checked before anything starts.
  std::string path_var = ::getenv("PATH") ? ::getenv("PATH") : "";
  for (const auto& [k, v] : spec_.env)
    if (k == "PATH") path_var = v;
  std::string python = spec_.python.empty() ? "python3" : spec_.python;
  char cwd[4096];
  launch_.program =
      findExecutable(python, path_var, ::getcwd(cwd, sizeof cwd) ? cwd : ".");
  if (launch_.program.empty())
    return fail({ir::diag::ParallelPythonMissing, python,
                 python.find('/') == std::string::npos
                     ? "not found on PATH"
                     : "not found or not executable"});
  std::string entry =
      spec_.entry_script.empty() ? settings_.entry_script : spec_.entry_script;
  if (entry.empty())
    return fail({ir::diag::ParallelEntryScriptMissing, "", spec_.code_dir});
  if (llvm::StringRef(entry).endswith(".py") ||
      entry.find('/') != std::string::npos) {
    std::string file = llvm::sys::path::is_absolute(entry)
                           ? entry
                           : spec_.code_dir + "/" + entry;
    struct stat st;
    if (::stat(file.c_str(), &st) != 0 || !S_ISREG(st.st_mode))
      return fail(
          {ir::diag::ParallelEntryScriptMissing, entry, spec_.code_dir});
  }
  if (!spec_.append_row_to.empty()) {
    std::string dir = llvm::sys::path::parent_path(spec_.append_row_to).str();
    if (!dir.empty() &&
        !folder(dir, spec_.append_row_to, ir::diag::ParallelOutputUnwritable))
      return false;
  }

  {
    llvm::SHA1 sha;
    sha.update(entry);
    for (const std::string& a : spec_.program_arguments) {
      sha.update(llvm::StringRef("\0", 1));
      sha.update(a);
    }
    std::copy_n(sha.final().bytes_begin(), 16, task_salt_.bytes.begin());
  }
  Problem p;
  journal_ = Journal::open(spec_.state_dir + "/journal.d", spec_.resume, p);
  if (!journal_) return fail(p);
  if (!spec_.resume) ::unlink((spec_.logs_dir + "/mini_batches.jsonl").c_str());
  committer_ = std::make_unique<Committer>(
      *journal_, spec_.logs_dir + "/mini_batches.jsonl");
  if (!committer_->openError().empty())
    return fail({ir::diag::ParallelOutputUnwritable,
                 spec_.logs_dir + "/mini_batches.jsonl",
                 committer_->openError()});
  pending_ = std::make_unique<CommitGroup>();
  openBatchCache();
  if (!writeHarness()) return false;

  if (settings_.resource_monitor_interval_ms) {
    std::string dir = spec_.logs_dir + "/sys/perf";
    if (!folder(dir, dir, ir::diag::ParallelOutputUnwritable)) return false;
    monitor_ = std::make_unique<ResourceMonitor>(dir);
    next_sample_ = start_;
    checkLog();
    if (aborting_) return false;
  }
  progress_ = std::make_unique<ProgressReporter>(
      *io_.progress, io_.terminal,
      spec_.step_name.empty() ? "parallel step" : spec_.step_name);
  return true;
}

bool Engine::writeHarness() {
  std::string dir = spec_.state_dir + "/harness";
  harness_path_ = dir + "/pipec_harness.py";
  config_path_ = dir + "/config.json";
  llvm::json::Array args;
  for (const std::string& a : spec_.program_arguments) args.push_back(a);
  std::string entry =
      spec_.entry_script.empty() ? settings_.entry_script : spec_.entry_script;
  std::string output_dir =
      spec_.append_row_to.empty()
          ? spec_.logs_dir + "/user"
          : llvm::sys::path::parent_path(spec_.append_row_to).str();
  llvm::json::Object cfg{
      {"entry_script", entry},
      {"code_dir", spec_.code_dir},
      {"program_arguments", std::move(args)},
      {"input_kind", spec_.input_type == ir::Type::Table ? "table" : "files"},
      {"logging_level", llvm::StringRef(settings_.logging_level).upper()},
      {"append_rows", !spec_.append_row_to.empty()},
      {"output_dir", output_dir},
      {"log_dir", spec_.logs_dir},
      {"per_instance", settings_.max_concurrency_per_instance},
      {"worker_count", std::int64_t(workers_.size())},
  };
  std::string cfg_text;
  llvm::raw_string_ostream os(cfg_text);
  os << llvm::json::Value(std::move(cfg));
  os.flush();
  if (!writePythonModules(dir) ||
      !writeFileAtomically(config_path_, cfg_text)) {
    writeFailed(ir::diag::ParallelStateUnusable, dir, errno);
    return false;
  }
  launch_.args = {harness_path_, config_path_};
  launch_.cwd = spec_.code_dir;
  launch_.guardian = io_.guardian;
  // The engine's environment, then the step's, then what Python needs.
  std::set<std::string> overridden;
  for (const auto& [k, v] : spec_.env) overridden.insert(k);
  for (char** e = environ; *e; ++e) {
    llvm::StringRef kv = *e;
    if (!overridden.count(kv.split('=').first.str())) launch_.env.push_back(*e);
  }
  for (const auto& [k, v] : spec_.env) launch_.env.push_back(k + "=" + v);
  if (!::getenv("PYTHONUNBUFFERED") && !overridden.count("PYTHONUNBUFFERED"))
    launch_.env.push_back("PYTHONUNBUFFERED=1");
  launch_.env.push_back("PIPEC_WORKER_COUNT=" +
                        std::to_string(workers_.size()));
  return true;
}

void Engine::startWorker(Worker& w) {
  w.proc.release();
  w.state = Worker::State::Starting;
  w.started = w.phase_since = Clock::now();
  w.phase_seen = 0;
  w.replies = 0;
  w.inflight.clear();
  w.in.clear();
  w.in_pos = 0;
  w.out.clear();
  w.out_pos = 0;
  w.kill_reason.clear();
  w.init_error.clear();
  w.was_ready = false;
  std::string error;
  if (!spawnWorker(launch_, w.index, w.log_path, w.proc, error)) {
    log(Level::Error,
        "worker " + std::to_string(w.index) + " could not start: " + error);
    w.state = Worker::State::Exited;
    broken_ = true;
    abort("worker " + std::to_string(w.index) + " could not start: " + error);
    return;
  }
  log(Level::Info, "worker " + std::to_string(w.index) + " started, pid " +
                       std::to_string(w.proc.pid));
}

// --- the step cache
// ------------------------------------------------------------

void Engine::openBatchCache() {
  if (spec_.batch_cache_dir.empty() || spec_.append_row_to.empty()) return;
  if (!spec_.batch_cache_use && !spec_.batch_cache_store) return;
  std::optional<Digest> part = Digest::parse(spec_.batch_cache_key);
  if (!part) return;
  batch_part_ = *part;
  batch_cache_ = std::make_unique<BatchCache>(spec_.batch_cache_dir);
  // The records pipec run keeps: files it hashed for the step's key are
  // not read again (a stat each).
  StepCache(spec_.batch_cache_dir).loadRecords(content_);
  if (char* real = ::realpath(spec_.input_path.c_str(), nullptr)) {
    input_real_ = real;
    ::free(real);
  } else {
    input_real_ = spec_.input_path;
  }
  if (!spec_.batch_cache_use) return;
  std::vector<std::string> dropped;
  if (llvm::Error e = batch_cache_->load(batch_part_, dropped)) {
    std::string why = llvm::toString(std::move(e));
    log(Level::Warning, "the step cache cannot be read: " + why);
    cache_notes_.push_back("cache dropped: " + why);
  }
  for (const std::string& d : dropped) {
    log(Level::Warning, "step cache: dropped " + d);
    cache_notes_.push_back("cache dropped: " + d);
  }
  log(Level::Info, "step cache: " + std::to_string(batch_cache_->size()) +
                       " mini-batch results of this step");
}

bool Engine::keyBatch(const MiniBatch& mb) {
  KeyHasher h;
  h.add("pipec-batch-key 1");
  h.add(batch_part_);
  h.add(llvm::StringRef(reinterpret_cast<const char*>(mb.hash.bytes.data()),
                        mb.hash.bytes.size()));
  // Files by their contents (a stat each when pipec run's records have
  // them); rows are in the hash already.
  llvm::StringRef files = mb.files;
  while (!files.empty()) {
    auto [rel, rest] = files.split('\0');
    files = rest;
    std::string path =
        rel.startswith("/") ? rel.str() : input_real_ + "/" + rel.str();
    llvm::Expected<Digest> d = content_.file(path);
    if (!d) {
      log(Level::Info,
          "mini-batch " + std::to_string(mb.index) +
              " has no cache key: " + llvm::toString(d.takeError()));
      return false;
    }
    h.add(rel);
    h.add(*d);
  }
  BatchState& b = stateOf(mb.index);
  b.key = h.finish();
  b.keyed = true;
  return true;
}

bool Engine::takeFromCache(const MiniBatch& mb) {
  BatchCache::Result* r = batch_cache_->find(batch_state_[mb.index].key);
  if (!r) return false;
  std::uint32_t seg = 0;
  if (r->length) {
    auto it = taken_segments_.find(r->file);
    bool fresh = it == taken_segments_.end();
    if (fresh)
      it = taken_segments_.emplace(r->file, journal_->reserveSegment()).first;
    seg = it->second;
    if (llvm::Error e = batch_cache_->take(*r, journal_->segmentPath(seg))) {
      log(Level::Warning, "mini-batch " + std::to_string(mb.index) +
                              ": its cached result cannot be used: " +
                              llvm::toString(std::move(e)));
      if (fresh) taken_segments_.erase(it);
      return false;
    }
  } else if (llvm::Error e = batch_cache_->take(*r, "")) {
    llvm::consumeError(std::move(e));
    return false;
  }
  locations_[mb.index] = Location{seg, r->offset, r->length};
  ++committed_;
  ++from_cache_;
  items_done_ += r->items;
  BatchState& b = batch_state_[mb.index];
  b.storable = true;
  b.items = r->items;
  if (pending_->entries.empty() && pending_->records.empty())
    pending_since_ = Clock::now();
  std::string& rec = pending_->records;
  rec += "{\"index\":";
  appendUInt(rec, mb.index);
  rec += ",\"label\":";
  appendJsonString(rec, mb.label);
  rec += ",\"items\":";
  appendUInt(rec, mb.items);
  rec += ",\"ok\":";
  appendUInt(rec, r->items);
  rec += ",\"status\":\"cached\",\"attempts\":[]}\n";
  log(Level::Debug,
      "mini-batch " + std::to_string(mb.index) + " comes from the cache");
  return true;
}

void Engine::storeBatches() {
  if (!batch_cache_ || !spec_.batch_cache_store || broken_ || disk_full_)
    return;
  // A run() that writes files of its own next to append_row_to would leave
  // them out for a mini-batch from the cache: such a step stores nothing.
  std::string out_dir = llvm::sys::path::parent_path(spec_.append_row_to).str();
  std::string own = llvm::sys::path::filename(spec_.append_row_to).str();
  std::error_code ec;
  for (llvm::sys::fs::directory_iterator it(out_dir, ec), end; !ec && it != end;
       it.increment(ec)) {
    std::string name = llvm::sys::path::filename(it->path()).str();
    if (name == own) continue;
    log(Level::Info,
        "step cache: mini-batch results not stored, run() "
        "wrote '" +
            name + "' next to append_row_to");
    return;
  }
  std::vector<BatchCache::Stored> results;
  for (std::size_t i = 0; i < batch_state_.size() && i < locations_.size();
       ++i) {
    const BatchState& b = batch_state_[i];
    if (!b.keyed || !b.storable) continue;
    const Location& at = locations_[i];
    BatchCache::Stored r;
    r.key = b.key;
    if (at.length) r.file = journal_->segmentPath(at.segment);
    r.offset = at.offset;
    r.length = at.length;
    r.items = b.items;
    results.push_back(std::move(r));
  }
  std::string run = llvm::sys::path::filename(
                        llvm::sys::path::parent_path(
                            llvm::sys::path::parent_path(spec_.logs_dir)))
                        .str();
  if (llvm::Error e =
          batch_cache_->store(batch_part_, spec_.step_name, run, results)) {
    std::string why = llvm::toString(std::move(e));
    log(Level::Warning, "step cache: mini-batch results not stored: " + why);
    cache_notes_.push_back("cache not stored: " + why);
    return;
  }
  log(Level::Info, "step cache: stored the results of " +
                       plural(results.size(), "mini-batch", "mini-batches"));
}

// --- dispatch
// ------------------------------------------------------------------

bool Engine::nextBatch(std::uint64_t& index) {
  if (!retry_.empty()) {
    index = *retry_.begin();
    retry_.erase(retry_.begin());
    return true;
  }
  while (!source_done_) {
    MiniBatch mb;
    if (!source_->next(mb)) {
      source_done_ = true;
      if (source_->failed()) abort(source_->problem());
      log(Level::Info, "input split into " +
                           plural(produced_, "mini-batch", "mini-batches"));
      return false;
    }
    produced_ = mb.index + 1;
    if (locations_.size() < produced_) locations_.resize(produced_);
    // What runs on the items is part of a result's identity too.
    for (std::size_t k = 0; k < mb.hash.bytes.size(); ++k)
      mb.hash.bytes[k] ^= task_salt_.bytes[k];
    bool keyed = batch_cache_ && keyBatch(mb);
    if (spec_.resume) {
      const Committed* c = journal_->find(mb.hash);
      if (c &&
          (mb.files.empty() ||
           filesUnchangedSince(input_root_fd_, mb.files, c->committed_ns))) {
        locations_[mb.index] = c->where;
        ++committed_;
        ++resumed_;
        items_done_ += c->items;
        if (c->ok < c->items) countShort(c->items, c->ok);
        log(Level::Debug, "mini-batch " + std::to_string(mb.index) +
                              " was committed by an earlier run");
        if (keyed && c->ok == c->items) {
          BatchState& b = stateOf(mb.index);
          b.storable = true;
          b.items = c->items;
        }
        continue;
      }
    }
    if (keyed && spec_.batch_cache_use && takeFromCache(mb)) continue;
    index = mb.index;
    Active& a = active_[index];
    a.batch = std::move(mb);
    return true;
  }
  return false;
}

std::size_t Engine::depth(const Worker& w) const {
  // Enough mini-batches in flight to cover ~20 ms of work, at most 64.
  double ms = w.service_ms >= 0 ? w.service_ms : service_ms_;
  if (ms < 0) return 2;
  double d = 20.0 / std::max(ms, 1e-3);
  return std::size_t(std::clamp(d, 1.0, 64.0));
}

void Engine::send(Worker& w, std::uint64_t index, bool backup) {
  Active& a = active_[index];
  std::uint64_t seq = ++seq_;
  w.out.push_back('[');
  appendUInt(w.out, seq);
  w.out.push_back(',');
  appendUInt(w.out, index);
  w.out.push_back(',');
  w.out.append(a.batch.payload);
  w.out.append("]\n");
  Clock::time_point now = Clock::now();
  w.inflight.push_back({seq, index, now, backup, coarseWallNs()});
  ++a.running;
  if (!first_dispatch_) {
    first_dispatch_ = now;
    log(Level::Info, "first mini-batch sent after " +
                         std::to_string(std::int64_t(msSince(start_, now))) +
                         " ms");
  }
  if (level_ == Level::Debug)
    log(Level::Debug, std::string(backup ? "backup of " : "") + "mini-batch " +
                          std::to_string(index) + " (" + a.batch.label +
                          ") to worker " + std::to_string(w.index));
}

void Engine::fill() {
  if (aborting_) return;
  bool more = true;
  while (more) {
    more = false;
    for (Worker& w : workers_) {
      if (w.state != Worker::State::Ready || w.inflight.size() >= depth(w))
        continue;
      std::uint64_t index;
      if (!nextBatch(index)) {
        more = false;
        break;
      }
      send(w, index, false);
      more = true;
    }
    if (aborting_) return;
  }
  maybeBackup();
  for (Worker& w : workers_) flushOut(w);
}

// When nothing is left to hand out, an idle worker takes a copy of the
// mini-batch that has waited longest, if it waits much longer than usual.
void Engine::maybeBackup() {
  if (!source_done_ || !retry_.empty() || active_.empty()) return;
  Clock::time_point now = Clock::now();
  double threshold = std::max(500.0, 3 * std::max(service_ms_, 0.0));
  for (Worker& idle : workers_) {
    if (idle.state != Worker::State::Ready || !idle.inflight.empty()) continue;
    const Attempt* best = nullptr;
    for (const Worker& w : workers_)
      for (const Attempt& at : w.inflight) {
        auto it = active_.find(at.batch);
        if (it == active_.end() || it->second.backed_up) continue;
        if (msSince(at.sent, now) < threshold) continue;
        if (!best || at.sent < best->sent) best = &at;
      }
    if (!best) return;
    std::uint64_t index = best->batch;
    active_[index].backed_up = true;
    ++backups_;
    log(Level::Info,
        "mini-batch " + std::to_string(index) + " has run " +
            std::to_string(std::int64_t(msSince(best->sent, now))) +
            " ms; worker " + std::to_string(idle.index) +
            " runs a backup copy");
    send(idle, index, true);
  }
}

void Engine::flushOut(Worker& w) {
  if (w.proc.to_worker < 0) return;
  while (w.out_pos < w.out.size()) {
    ssize_t n = ::write(w.proc.to_worker, w.out.data() + w.out_pos,
                        w.out.size() - w.out_pos);
    if (n > 0) {
      w.out_pos += std::size_t(n);
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    break;  // EAGAIN: poll for POLLOUT; EPIPE: the exit is handled on reap
  }
  dropConsumed(w.out, w.out_pos);
}

// --- replies
// -------------------------------------------------------------------

void Engine::readReplies(Worker& w) {
  if (w.proc.from_worker < 0) return;
  // Into a buffer that is not cleared first: growing `in` by the size of a
  // read and shrinking it back zero-filled 64 KB a read, a quarter of all
  // the engine did per mini-batch.
  for (int rounds = 0; rounds < 64; ++rounds) {
    ssize_t n = ::read(w.proc.from_worker, read_buf_.get(), kReadChunk);
    if (n > 0) {
      w.in.append(read_buf_.get(), std::size_t(n));
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n == 0) {
      ::close(w.proc.from_worker);
      w.proc.from_worker = -1;
    }
    break;
  }
  parseFrames(w);
}

void Engine::parseFrames(Worker& w) {
  auto num = [](llvm::StringRef s, std::uint64_t& v) {
    return !s.getAsInteger(10, v);
  };
  while (w.in_pos < w.in.size()) {
    llvm::StringRef rest(w.in.data() + w.in_pos, w.in.size() - w.in_pos);
    std::size_t nl = rest.find('\n');
    if (nl == llvm::StringRef::npos) break;
    llvm::StringRef header = rest.take_front(nl);
    llvm::SmallVector<llvm::StringRef, 6> f;
    header.split(f, ' ');
    std::uint64_t body_len = 0;
    bool ok = !f.empty() && f[0].size() == 1;
    char kind = ok ? f[0][0] : '?';
    if (ok && kind != 'R') ok = num(f.back(), body_len);
    if (!ok || (kind == 'K' && f.size() != 5) ||
        (kind == 'E' && f.size() != 3) || (kind == 'I' && f.size() != 2) ||
        (kind == 'R' && f.size() != 1)) {
      killWorker(w, "broke the harness protocol");
      w.in.clear();
      w.in_pos = 0;
      return;
    }
    if (rest.size() < nl + 1 + body_len) break;  // the body is still coming
    llvm::StringRef body = rest.substr(nl + 1, body_len);
    w.in_pos += nl + 1 + body_len;
    Clock::time_point now = Clock::now();
    last_progress_ = now;
    if (kind == 'R') {
      if (w.state == Worker::State::Starting) w.state = Worker::State::Ready;
      w.was_ready = true;
      w.start_failures = 0;
      w.last_reply = now;
      log(Level::Info,
          "worker " + std::to_string(w.index) + " ready after " +
              std::to_string(std::int64_t(msSince(w.started, now))) + " ms");
    } else if (kind == 'I') {
      w.init_error = body.str();
    } else if (kind == 'K') {
      std::uint64_t seq, given, okn;
      if (!num(f[1], seq) || !num(f[2], given) || !num(f[3], okn)) {
        killWorker(w, "broke the harness protocol");
        return;
      }
      onResult(w, seq, given, okn, body);
    } else if (kind == 'E') {
      std::uint64_t seq;
      if (!num(f[1], seq)) {
        killWorker(w, "broke the harness protocol");
        return;
      }
      onError(w, seq, body);
    } else {
      killWorker(w, "broke the harness protocol");
      return;
    }
    if (aborting_) return;
  }
  dropConsumed(w.in, w.in_pos);
}

bool Engine::popAttempt(Worker& w, std::uint64_t seq, Attempt& at) {
  if (w.inflight.empty() || w.inflight.front().seq != seq) {
    killWorker(w, "answered a mini-batch it was not running");
    return false;
  }
  at = w.inflight.front();
  w.inflight.pop_front();
  ++w.replies;
  Clock::time_point now = Clock::now();
  double ms = msSince(std::max(at.sent, w.last_reply), now);
  w.last_reply = now;
  w.service_ms = w.service_ms < 0 ? ms : 0.8 * w.service_ms + 0.2 * ms;
  service_ms_ = service_ms_ < 0 ? ms : 0.95 * service_ms_ + 0.05 * ms;
  return true;
}

void Engine::appendAttempt(Active& a, const Worker& w, const Attempt& at,
                           const char* result, const std::string& error) {
  // Milliseconds with one decimal, without printf.
  auto tenths = [](std::string& out, double ms) {
    std::uint64_t t = std::uint64_t(std::llround(std::max(ms, 0.0) * 10));
    appendUInt(out, t / 10);
    out.push_back('.');
    out.push_back(char('0' + t % 10));
  };
  std::string& r = a.attempts;
  if (!r.empty()) r.push_back(',');
  r += "{\"worker\":";
  appendUInt(r, std::uint64_t(w.index));
  r += ",\"start_ms\":";
  tenths(r, msSince(start_, at.sent));
  r += ",\"ms\":";
  tenths(r, msSince(at.sent, Clock::now()));
  r += at.backup ? ",\"backup\":true" : ",\"backup\":false";
  r += ",\"result\":\"";
  r += result;
  r.push_back('"');
  if (!error.empty()) {
    r += ",\"error\":";
    appendJsonString(r, error);
  }
  r.push_back('}');
}

void Engine::record(const Active& a, const char* status, std::uint64_t ok) {
  std::string& r = pending_->records;
  r += "{\"index\":";
  appendUInt(r, a.batch.index);
  r += ",\"label\":";
  appendJsonString(r, a.batch.label);
  r += ",\"items\":";
  appendUInt(r, a.batch.items);
  r += ",\"ok\":";
  appendUInt(r, ok);
  r += ",\"status\":\"";
  r += status;
  r += "\",\"attempts\":[";
  r += a.attempts;
  r += "]}\n";
}

void Engine::onResult(Worker& w, std::uint64_t seq, std::uint64_t given,
                      std::uint64_t ok, llvm::StringRef body) {
  Attempt at;
  if (!popAttempt(w, seq, at)) return;
  auto it = active_.find(at.batch);
  if (it == active_.end()) {
    log(Level::Info, "mini-batch " + std::to_string(at.batch) +
                         ": the result of worker " + std::to_string(w.index) +
                         " came second and is discarded");
    return;
  }
  Active& a = it->second;
  --a.running;
  appendAttempt(a, w, at, "ok", "");
  if (pending_->entries.empty() && pending_->records.empty())
    pending_since_ = Clock::now();
  CommitGroup::Entry e;
  e.index = a.batch.index;
  e.hash = a.batch.hash;
  e.offset = pending_->rows.size();
  e.length = body.size();
  e.items = given;
  e.ok = ok;
  pending_->rows.append(body.data(), body.size());
  pending_->entries.push_back(std::move(e));
  // A file changed after this attempt was sent may not be in its result.
  if (!pending_->since_ns || at.sent_wall_ns < pending_->since_ns)
    pending_->since_ns = at.sent_wall_ns;
  if (ok < given) {
    bool counted = countShort(given, ok);
    log(counted ? Level::Warning : Level::Info,
        "mini-batch " + std::to_string(a.batch.index) + " (" + a.batch.label +
            "): run() returned " + std::to_string(ok) + " of " +
            std::to_string(given) + " items" +
            (counted ? "" : " (not a failure: error_threshold is -1)"));
    record(a, counted ? "partial" : "short", ok);
  } else {
    record(a, "ok", ok);
  }
  active_.erase(it);
  checkThresholds(false);
  flushPending(false);
}

void Engine::onError(Worker& w, std::uint64_t seq, llvm::StringRef body) {
  Attempt at;
  if (!popAttempt(w, seq, at)) return;
  std::string error = lastLine(body);
  log(Level::Warning, "mini-batch " + std::to_string(at.batch) +
                          " failed on worker " + std::to_string(w.index) +
                          ": " + error);
  attemptFailed(at.batch, w, at, "error", error, true);
}

void Engine::attemptFailed(std::uint64_t index, const Worker& w,
                           const Attempt& at, const char* result,
                           const std::string& error, bool charge) {
  auto it = active_.find(index);
  if (it == active_.end()) return;  // a copy already succeeded
  Active& a = it->second;
  --a.running;
  if (charge) {
    appendAttempt(a, w, at, result, error);
    ++a.failures;
    a.last_error = error;
  }
  if (a.running > 0) return;  // a copy is still running; it may succeed
  if (!charge || a.failures <= settings_.max_retries) {
    if (charge) ++retried_;
    a.backed_up = false;
    retry_.insert(index);
    return;
  }
  finalFailure(index, a);
}

void Engine::finalFailure(std::uint64_t index, Active& a) {
  ++failed_batches_;
  ++final_failed_;
  failed_items_ += a.batch.items;
  log(Level::Error,
      "mini-batch " + std::to_string(index) + " (" + a.batch.label +
          ") failed after " +
          plural(std::uint64_t(a.failures), "attempt", "attempts") + ": " +
          a.last_error);
  if (pending_->entries.empty() && pending_->records.empty())
    pending_since_ = Clock::now();
  record(a, "failed", 0);
  active_.erase(index);
  checkThresholds(false);
}

void Engine::checkThresholds(bool at_end) {
  if (aborting_) return;
  const ir::ParallelSettings& s = settings_;
  if (s.mini_batch_error_threshold >= 0 &&
      failed_batches_ > std::uint64_t(s.mini_batch_error_threshold)) {
    abort(plural(failed_batches_, "mini-batch", "mini-batches") +
          " failed, more than mini_batch_error_threshold " +
          std::to_string(s.mini_batch_error_threshold));
    return;
  }
  if (s.error_threshold >= 0 &&
      failed_items_ > std::uint64_t(s.error_threshold)) {
    abort(plural(failed_items_, "item", "items") +
          " failed, more than error_threshold " +
          std::to_string(s.error_threshold));
    return;
  }
  // The percentage is judged once every mini-batch is known (as Azure does).
  if ((source_done_ || at_end) && produced_ > 0 &&
      s.allowed_failed_percent < 100 &&
      100.0 * double(failed_batches_) >
          s.allowed_failed_percent * double(produced_)) {
    char pct[32];
    std::snprintf(pct, sizeof(pct), "%.4g", s.allowed_failed_percent);
    char got[32];
    std::snprintf(got, sizeof(got), "%.4g",
                  100.0 * double(failed_batches_) / double(produced_));
    abort(std::string(got) + "% of the mini-batches failed (" +
          std::to_string(failed_batches_) + " of " + std::to_string(produced_) +
          "), more than allowed_failed_percent " + pct);
  }
}

// --- workers
// ---------------------------------------------------------------------

void Engine::killWorker(Worker& w, std::string reason) {
  if (w.state == Worker::State::Exited || w.state == Worker::State::Off) return;
  if (w.kill_reason.empty()) w.kill_reason = std::move(reason);
  if (w.state != Worker::State::Killing)
    log(Level::Warning,
        "killing worker " + std::to_string(w.index) + ": " + w.kill_reason);
  w.state = Worker::State::Killing;
  ::kill(w.proc.pid, SIGKILL);
}

void Engine::reap() {
  while (true) {
    int status;
    pid_t pid = ::waitpid(-1, &status, WNOHANG);
    if (pid <= 0) return;
    for (Worker& w : workers_)
      if (w.proc.pid == pid && w.state != Worker::State::Exited) {
        onExit(w, status);
        break;
      }
  }
}

void Engine::onExit(Worker& w, int status) {
  readReplies(w);  // what it said before it went
  bool clean = w.state == Worker::State::Closing && w.kill_reason.empty() &&
               WIFEXITED(status) && WEXITSTATUS(status) == 0;
  std::string how;
  if (!w.kill_reason.empty())
    how = w.kill_reason;
  else if (WIFEXITED(status))
    how = "exited with status " + std::to_string(WEXITSTATUS(status));
  else if (WIFSIGNALED(status))
    how = std::string("was killed by signal ") +
          std::to_string(WTERMSIG(status)) + " (" +
          ::strsignal(WTERMSIG(status)) + ")";
  last_progress_ = Clock::now();
  std::deque<Attempt> lost;
  lost.swap(w.inflight);
  std::int64_t phase = w.proc.phase();
  w.proc.release();
  w.proc.pid = -1;
  w.state = Worker::State::Exited;
  std::string name = "worker " + std::to_string(w.index);
  if (stopping_) {
    log(Level::Info, name + (clean ? " finished" : " " + how));
    return;
  }
  if (!w.was_ready) {
    ++w.start_failures;
    std::string why = w.init_error.empty() ? how : lastLine(w.init_error);
    log(Level::Error, name + " failed to start: " + why);
    if (io_.diags && w.start_failures == 1 && !aborting_)
      Problem{ir::diag::ParallelWorkerLost, std::to_string(w.index),
              "failed to start: " + why}
          .report(*io_.diags, spec_.location);
    if (w.start_failures >= std::max<int>(3, int(settings_.max_retries) + 1)) {
      w.gave_up = true;
      w.init_error = why;
    }
  } else {
    ++workers_lost_;
    log(Level::Warning, name + " " + how);
  }
  // The mini-batch it was running is charged; the ones queued behind it, or
  // finished but not yet answered, go back to the queue.
  std::uint64_t begun = std::uint64_t(phase >> 1);
  std::size_t running =
      begun > w.replies ? std::size_t(begun - w.replies - 1) : std::size_t(-1);
  for (std::size_t i = 0; i < lost.size(); ++i) {
    const Attempt& at = lost[i];
    if (i == running) {
      if (io_.diags && !aborting_ && workers_lost_ <= 3)
        Problem{ir::diag::ParallelWorkerLost, std::to_string(w.index),
                how + " while running mini-batch " + std::to_string(at.batch)}
            .report(*io_.diags, spec_.location);
      attemptFailed(at.batch, w, at, w.kill_reason.empty() ? "died" : "killed",
                    w.kill_reason.empty() ? "worker " + how : how, true);
    } else {
      attemptFailed(at.batch, w, at, "lost", "", false);
    }
  }
  if (!aborting_ && !w.gave_up && !allDone()) startWorker(w);
}

void Engine::checkTimers(Clock::time_point now) {
  const ir::ParallelSettings& s = settings_;
  for (Worker& w : workers_) {
    if (w.state == Worker::State::Starting &&
        msSince(w.started, now) > double(s.task_overhead_timeout_ms)) {
      w.init_error =
          "loading the entry script and init() took longer than "
          "task_overhead_timeout " +
          durationText(s.task_overhead_timeout_ms);
      killWorker(w, w.init_error);
      continue;
    }
    if (w.state != Worker::State::Ready || w.inflight.empty()) continue;
    std::int64_t v = w.proc.phase();
    if (v != w.phase_seen) {
      w.phase_seen = v;
      w.phase_since = now;
    }
    std::uint64_t begun = std::uint64_t(v >> 1);
    if (begun <= w.replies || begun - w.replies > w.inflight.size()) continue;
    const Attempt& at = w.inflight[begun - w.replies - 1];
    double in_phase = msSince(w.phase_since, now);
    if ((v & 1) == 0 && in_phase > double(s.task_overhead_timeout_ms))
      killWorker(w, "timed out: loading mini-batch " +
                        std::to_string(at.batch) +
                        " took longer than task_overhead_timeout " +
                        durationText(s.task_overhead_timeout_ms));
    else if ((v & 1) == 1 && in_phase > double(s.timeout_ms))
      killWorker(w, "timed out: mini-batch " + std::to_string(at.batch) +
                        " ran longer than retry_settings.timeout " +
                        durationText(s.timeout_ms));
  }
  if (aborting_) return;
  if (!first_dispatch_ && outstanding() + (source_done_ ? 0 : 1) > 0 &&
      msSince(start_, now) > double(s.first_task_creation_timeout_ms)) {
    abort("no mini-batch started within first_task_creation_timeout " +
          durationText(s.first_task_creation_timeout_ms));
    return;
  }
  if (first_dispatch_ && outstanding() > 0 &&
      msSince(last_progress_, now) > double(progress_timeout_ms_)) {
    abort("no progress within progress_update_timeout " +
          durationText(progress_timeout_ms_));
    return;
  }
  bool any_alive = false;
  std::string init_error;
  for (const Worker& w : workers_) {
    if (!w.gave_up) any_alive = true;
    if (w.gave_up && init_error.empty()) init_error = w.init_error;
  }
  if (!any_alive) abort("every worker failed to start: " + init_error);
}

// --- commits
// ---------------------------------------------------------------------

void Engine::flushPending(bool force) {
  if (!pending_ || !committer_) return;
  // On a full disk, what the reserve freed is for the step's last words; the
  // results not yet committed run again on resume.
  if (disk_full_) return;
  if (pending_->entries.empty() && pending_->records.empty()) return;
  bool due = force || pending_->entries.size() >= 4096 ||
             pending_->rows.size() >= (4u << 20) ||
             msSince(pending_since_, Clock::now()) >= 25;
  if (!due) return;
  pending_->id = next_group_++;
  committer_->submit(std::move(pending_));
  pending_ = std::make_unique<CommitGroup>();
}

void Engine::collectCommits() {
  for (std::unique_ptr<CommitGroup>& g : committer_->collect()) {
    if (!g->error.empty()) {
      if (g->error_errno == ENOSPC || g->error_errno == EDQUOT)
        releaseReserve();
      abort(
          Problem{ir::diag::ParallelStateUnusable, journal_->dir(), g->error});
      continue;
    }
    if (!g->records_error.empty())
      writeFailed(ir::diag::ParallelOutputUnwritable,
                  spec_.logs_dir + "/mini_batches.jsonl", g->records_errno);
    for (std::size_t i = 0; i < g->entries.size(); ++i) {
      const CommitGroup::Entry& e = g->entries[i];
      if (locations_.size() <= e.index) locations_.resize(e.index + 1);
      locations_[e.index] = g->where[i];
      ++committed_;
      items_done_ += e.items;
      if (batch_cache_ && e.ok == e.items && e.index < batch_state_.size() &&
          batch_state_[e.index].keyed) {
        batch_state_[e.index].storable = true;
        batch_state_[e.index].items = e.items;
      }
    }
  }
}

// --- the end
// ---------------------------------------------------------------------

void Engine::abort(std::string sentence) {
  if (aborting_) return;
  aborting_ = true;
  fail_sentence_ = std::move(sentence);
  log(Level::Error, "stopping: " + fail_sentence_);
}

void Engine::abort(const Problem& p) {
  if (aborting_) return;
  if (io_.diags) p.report(*io_.diags, spec_.location);
  abort(p.message());
}

void Engine::shutdownWorkers(bool kill) {
  stopping_ = true;
  for (Worker& w : workers_) {
    if (w.state == Worker::State::Exited || w.state == Worker::State::Off)
      continue;
    if (kill || !w.inflight.empty() || w.state != Worker::State::Ready) {
      if (w.kill_reason.empty())
        w.kill_reason = aborting_
                            ? "stopped: the step is ending"
                            : "stopped: its mini-batch is no longer needed";
      w.state = Worker::State::Killing;
      ::kill(w.proc.pid, SIGKILL);
    } else {
      // EOF on its requests: shutdown() runs and it exits.
      w.state = Worker::State::Closing;
      ::close(w.proc.to_worker);
      w.proc.to_worker = -1;
    }
  }
  Clock::time_point deadline =
      Clock::now() +
      std::chrono::milliseconds(settings_.task_overhead_timeout_ms);
  while (true) {
    reap();
    bool alive = false;
    for (Worker& w : workers_)
      if (w.state != Worker::State::Exited && w.state != Worker::State::Off)
        alive = true;
    if (!alive) return;
    if (Clock::now() > deadline)
      for (Worker& w : workers_)
        if (w.state == Worker::State::Closing) {
          w.kill_reason = "shutdown() took longer than task_overhead_timeout";
          w.state = Worker::State::Killing;
          ::kill(w.proc.pid, SIGKILL);
        }
    // Keep reading so a chatty shutdown() cannot block on a full pipe.
    for (Worker& w : workers_)
      if (w.proc.from_worker >= 0) readReplies(w);
    struct pollfd p = {signal_fd_, POLLIN, 0};
    ::poll(&p, 1, 50);
    if (p.revents & POLLIN) {
      struct signalfd_siginfo si;
      while (::read(signal_fd_, &si, sizeof(si)) == ssize_t(sizeof(si))) {
      }
    }
  }
}

ProgressCounts Engine::counts() const {
  ProgressCounts c;
  c.done = committed_ + final_failed_;
  c.failed = failed_batches_;
  c.total = produced_;
  c.total_known = source_done_;
  if (!source_done_ && source_)
    if (std::optional<std::uint64_t> t = source_->total()) {
      c.total = *t;
      c.total_known = true;
    }
  c.items = items_done_;
  return c;
}

bool Engine::copyLogsToParent(std::string& failed_path) {
  // <run>/<step>/logs -> <run>/logs/<step>/
  std::string step_dir = llvm::sys::path::parent_path(spec_.logs_dir).str();
  std::string run_dir = llvm::sys::path::parent_path(step_dir).str();
  if (run_dir.empty()) return true;
  std::string dest = run_dir + "/logs/" + spec_.step_name;
  std::error_code ec = llvm::sys::fs::create_directories(dest);
  auto copy = [&](const std::string& from, const std::string& to) {
    if (!ec && !llvm::sys::fs::exists(from)) return;
    if (!ec) ec = llvm::sys::fs::copy_file(from, to);
    if (ec && failed_path.empty()) failed_path = to;
  };
  if (ec) failed_path = dest;
  for (const char* f : {"job_result.txt", "parallel.log", "mini_batches.jsonl"})
    copy(spec_.logs_dir + "/" + f, dest + "/" + f);
  for (const Worker& w : workers_)
    copy(w.log_path, dest + "/" + llvm::sys::path::filename(w.log_path).str());
  if (ec) errno = ec.value();
  return !ec;
}

std::string Engine::resultSentence() const {
  std::string name =
      spec_.step_name.empty() ? "parallel step" : "'" + spec_.step_name + "'";
  if (aborting_) {
    std::string sentence = "Step " + name + " failed: " + fail_sentence_;
    if (!llvm::StringRef(fail_sentence_).endswith(".")) sentence += ".";
    return sentence;
  }
  std::uint64_t succeeded =
      committed_ - std::min(committed_, failed_batches_ - final_failed_);
  std::string sentence =
      "Step " + name + " passed: " + std::to_string(succeeded) + " of " +
      plural(produced_, "mini-batch", "mini-batches") + " succeeded";
  if (failed_batches_)
    sentence += ", " + std::to_string(failed_batches_) + " failed (" +
                plural(failed_items_, "item", "items") +
                "), within the thresholds";
  if (short_batches_)
    sentence += "; " + std::to_string(short_batches_) + " returned fewer " +
                "items than they got, not counted as failed because " +
                "error_threshold is -1";
  if (resumed_)
    sentence +=
        " (" + std::to_string(resumed_) + " committed by an earlier run)";
  if (from_cache_)
    sentence += " (" + std::to_string(from_cache_) + " from the cache)";
  return sentence + ".";
}

std::string Engine::resultWarning() const {
  if (aborting_ || produced_ == 0) return "";
  std::uint64_t succeeded =
      committed_ - std::min(committed_, failed_batches_ - final_failed_);
  if (succeeded > 0) return "";
  return "no mini-batch succeeded: all " + std::to_string(produced_) +
         " failed, which the thresholds allow (allowed_failed_percent 100, "
         "Azure's default, never fails a step); set allowed_failed_percent "
         "or mini_batch_error_threshold to fail it, or run 'pipec run "
         "--strict'";
}

std::string Engine::resultText(const std::string& sentence) const {
  std::string text = sentence + "\n";
  // For pipec run's summary and diagnostics (runtime/local_runner.cpp).
  if (from_cache_)
    text += "from the cache: " + std::to_string(from_cache_) + " of " +
            plural(produced_, "mini-batch", "mini-batches") + "\n";
  for (const std::string& note : cache_notes_) text += note + "\n";
  if (std::string w = resultWarning(); !w.empty())
    text += "warning: " + w + " [" +
            ir::diagInfo(ir::DiagKind::ParallelNothingSucceeded).code + "]\n";
  return text;
}

int Engine::finish() {
  flushPending(true);
  if (committer_) {
    committer_->drain();
    collectCommits();
  }
  if (!aborting_) checkThresholds(true);
  Clock::time_point now = Clock::now();
  if (progress_) progress_->finish(counts(), now);

  // Every committed row, in mini-batch order (also after a failure, so that
  // what was committed can be inspected).
  if (journal_ && !spec_.append_row_to.empty() && source_) {
    if (llvm::Error e = journal_->gather(locations_, spec_.append_row_to)) {
      std::string why;
      int err = 0;
      llvm::handleAllErrors(std::move(e), [&](const llvm::ErrorInfoBase& info) {
        why = info.message();
        err = info.convertToErrorCode().value();
      });
      if (err == ENOSPC || err == EDQUOT) releaseReserve();
      if (!aborting_)
        abort(Problem{ir::diag::ParallelOutputUnwritable, spec_.append_row_to,
                      why});
      else
        log(Level::Error, "cannot write " + spec_.append_row_to + ": " + why);
    }
  }
  storeBatches();
  checkLog();

  std::string sentence = resultSentence();
  log(aborting_ ? Level::Error : Level::Info, sentence);
  if (std::string w = resultWarning(); !w.empty()) log(Level::Warning, w);
  char stats[200];
  std::snprintf(stats, sizeof(stats),
                "%" PRIu64 " retries, %" PRIu64 " backup copies, %" PRIu64
                " workers lost, %.3f s",
                retried_, backups_, workers_lost_, msSince(start_, now) / 1000);
  log(Level::Info, stats);
  struct rusage ru;
  if (::getrusage(RUSAGE_SELF, &ru) == 0)
    log(Level::Info, "peak memory of the engine: " +
                         std::to_string(ru.ru_maxrss / 1024) + " MB (RSS)");
  // The last lines of parallel.log, or the copies to the parent, may fail
  // the step yet: then the sentence changes before it is written again.
  bool result_written = false;
  for (int round = 0; round < 2; ++round) {
    bool was_aborting = aborting_;
    checkLog();
    if (aborting_ != was_aborting) {
      sentence = resultSentence();
      log(Level::Error, sentence);
    }
    std::string result = spec_.logs_dir + "/job_result.txt";
    result_written = writeFileAtomically(result, resultText(sentence));
    if (!result_written && (errno == ENOSPC || errno == EDQUOT)) {
      releaseReserve();
      result_written = writeFileAtomically(result, resultText(sentence));
    }
    if (!result_written) {
      int err = errno;
      log(Level::Error, "cannot write " + result + ": " + std::strerror(err));
      if (io_.diags)
        Problem{ir::diag::ParallelOutputUnwritable, result, std::strerror(err)}
            .report(*io_.diags, spec_.location);
    }
    std::string failed;
    if (round > 0 || !settings_.copy_logs_to_parent || copyLogsToParent(failed))
      break;
    writeFailed(ir::diag::ParallelOutputUnwritable, failed, errno);
  }
  if (aborting_ && io_.diags && !broken_)
    Problem{ir::diag::ParallelStepFailed, spec_.step_name, fail_sentence_}
        .report(*io_.diags, spec_.location);
  if (std::string w = resultWarning(); !w.empty() && io_.diags)
    Problem{ir::diag::ParallelNothingSucceeded, spec_.step_name, w}.report(
        *io_.diags, spec_.location);
  if (broken_) return kEngineBroken;
  return aborting_ || !result_written ? kStepFailed : kStepPassed;
}

int Engine::run() {
  // Signals arrive through a descriptor; workers get a clean mask back.
  sigset_t mask;
  sigemptyset(&mask);
  for (int sig : {SIGCHLD, SIGINT, SIGTERM, SIGHUP}) sigaddset(&mask, sig);
  ::sigprocmask(SIG_BLOCK, &mask, nullptr);
  ::signal(SIGPIPE, SIG_IGN);
  signal_fd_ = ::signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC);

  std::int64_t count =
      std::max<std::int64_t>(1, spec_.instance_count) *
      std::max<std::int64_t>(1, spec_.settings.max_concurrency_per_instance);
  workers_.resize(std::size_t(count));
  for (std::size_t i = 0; i < workers_.size(); ++i) {
    workers_[i].index = int(i);
    workers_[i].log_path =
        spec_.logs_dir + "/workers/worker-" + std::to_string(i) + ".log";
  }
  if (!prepare()) return finish();

  // Workers load the entry script while the input is split.
  for (Worker& w : workers_) startWorker(w);
  log(Level::Info, std::to_string(workers_.size()) + " workers (" +
                       std::to_string(spec_.instance_count) + " instances x " +
                       std::to_string(settings_.max_concurrency_per_instance) +
                       ")");
  SourceOptions so;
  so.input_path = spec_.input_path;
  so.input_type = spec_.input_type;
  so.batch_by = settings_.batch_by;
  so.mini_batch_size = settings_.mini_batch_size;
  so.mini_batch_files = settings_.mini_batch_files;
  so.diags = io_.diags;
  so.partition_keys = settings_.partition_keys;
  so.scratch_dir = spec_.state_dir + "/scratch";
  Problem p;
  source_ = openBatchSource(so, p);
  input_root_fd_ =
      ::open(spec_.input_path.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (input_root_fd_ < 0) input_root_fd_ = AT_FDCWD;
  if (!source_) {
    abort(p);
    shutdownWorkers(true);
    return finish();
  }
  last_progress_ = Clock::now();

  std::vector<struct pollfd> fds;
  Clock::time_point next_timers = Clock::now();
  while (!aborting_) {
    fill();
    if (aborting_) break;
    if (allDone()) break;
    fds.clear();
    fds.push_back({signal_fd_, POLLIN, 0});
    fds.push_back({committer_->notifyFd(), POLLIN, 0});
    for (Worker& w : workers_) {
      if (w.proc.from_worker >= 0)
        fds.push_back({w.proc.from_worker, POLLIN, 0});
      if (w.proc.to_worker >= 0 && w.out_pos < w.out.size())
        fds.push_back({w.proc.to_worker, POLLOUT, 0});
    }
    int timeout = 50;
    if (!pending_->entries.empty() || !pending_->records.empty()) timeout = 25;
    int n = ::poll(fds.data(), fds.size(), timeout);
    if (n < 0 && errno != EINTR) {
      broken_ = true;
      abort(std::string("poll: ") + std::strerror(errno));
      break;
    }
    Clock::time_point now = Clock::now();
    if (fds[0].revents & POLLIN) {
      struct signalfd_siginfo si;
      while (::read(signal_fd_, &si, sizeof(si)) == ssize_t(sizeof(si))) {
        if (si.ssi_signo == SIGCHLD) continue;
        abort(std::string("interrupted by ") +
              ::sigabbrev_np(int(si.ssi_signo)));
      }
    }
    for (Worker& w : workers_)
      if (w.proc.from_worker >= 0) readReplies(w);
    reap();
    if (fds[1].revents & POLLIN) collectCommits();
    flushPending(false);
    if (now >= next_timers) {
      checkTimers(now);
      next_timers = now + std::chrono::milliseconds(20);
      if (progress_) progress_->update(counts(), now);
      if (monitor_ && now >= next_sample_) {
        std::vector<std::pair<std::string, pid_t>> procs = {
            {"engine", ::getpid()}};
        for (const Worker& w : workers_)
          if (w.proc.pid > 0)
            procs.emplace_back("worker-" + std::to_string(w.index), w.proc.pid);
        monitor_->sample(msSince(start_, now) / 1000, procs);
        next_sample_ = now + std::chrono::milliseconds(
                                 settings_.resource_monitor_interval_ms);
      }
      checkLog();
    }
  }
  shutdownWorkers(aborting_);
  if (monitor_) {
    monitor_->sample(msSince(start_, Clock::now()) / 1000,
                     {{"engine", ::getpid()}});
  }
  return finish();
}

}  // namespace

int runParallelStep(const ParallelStepSpec& spec, const EngineIO& io) {
  Engine engine(spec, io);
  int status = engine.run();
  // A stream that failed (stderr on a full disk) was noted in parallel.log;
  // an error left set would make LLVM abort the process at exit.
  if (io.progress) io.progress->clear_error();
  return status;
}

bool tieToParent(Guardian& guardian, std::string& error) {
  pid_t parent = ::getppid();
  ::prctl(PR_SET_PDEATHSIG, SIGKILL);
  if (::getppid() != parent) {
    error = "the parent process is gone";
    return false;
  }
  if (llvm::Error e = guardian.start(0)) {
    error = llvm::toString(std::move(e));
    return false;
  }
  return true;
}

}  // namespace pipec::runtime::parallel
