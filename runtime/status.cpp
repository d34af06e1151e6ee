// The console printer of `pipec run`.
#include "runtime/status.h"

#include <fcntl.h>
#include <unistd.h>

#include <fmt/format.h>

#include <algorithm>

#include "llvm/ADT/SmallVector.h"
#include "llvm/Support/JSON.h"

#include "runtime/topology.h"

namespace pipec::runtime {

RunObserver::~RunObserver() = default;

namespace {

std::string seconds(double s) { return fmt::format("{:.2f}s", s); }

bool isContinuation(char c) {
  return (static_cast<unsigned char>(c) & 0xC0) == 0x80;
}

// One log line as a report prints it.
std::string printable(llvm::StringRef line) {
  line = line.rtrim("\r");
  // A progress bar redraws its line after '\r': the last drawing stands.
  if (auto cr = line.rfind('\r'); cr != llvm::StringRef::npos)
    line = line.drop_front(cr + 1);
  std::string out;
  for (char c : line) {
    auto u = static_cast<unsigned char>(c);
    if (c == '\t')
      out += "  ";
    else
      out += u < 0x20 || u == 0x7f ? '?' : c;
  }
  if (out.size() > kTailLineBytes) {
    std::size_t cut = kTailLineBytes;
    while (cut > 0 && isContinuation(out[cut])) --cut;
    out = out.substr(0, cut) + "...";
  }
  if (!llvm::json::isUTF8(out)) out = llvm::json::fixUTF8(out);
  return out;
}

}  // namespace

LogTail readLogTail(const std::string& path) {
  LogTail tail;
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return tail;
  off_t size = ::lseek(fd, 0, SEEK_END);
  off_t from = size > off_t(kTailBytes) ? size - off_t(kTailBytes) : 0;
  std::string text(std::size_t(std::max<off_t>(size - from, 0)), '\0');
  ssize_t n = ::pread(fd, text.data(), text.size(), from);
  ::close(fd);
  text.resize(n > 0 ? std::size_t(n) : 0);
  llvm::StringRef rest(text);
  if (from > 0) {
    // The first line read is a part of one: keep whole lines, unless there
    // is no other.
    auto nl = rest.rtrim("\r\n").find('\n');
    if (nl != llvm::StringRef::npos) rest = rest.drop_front(nl + 1);
    tail.more = true;
  }
  llvm::SmallVector<llvm::StringRef, 64> lines;
  rest.split(lines, '\n');
  while (!lines.empty() && lines.back().trim().empty()) lines.pop_back();
  if (lines.size() > kTailLines) {
    lines.erase(lines.begin(), lines.end() - kTailLines);
    tail.more = true;
  }
  for (llvm::StringRef l : lines) tail.lines.push_back(printable(l));
  return tail;
}

ConsoleStatus::ConsoleStatus(llvm::raw_ostream& os, const RunPlan& plan,
                             Verbosity v, bool terminal)
    : os_(os), plan_(plan), verbosity_(v), terminal_(terminal) {
  char buf[4096];
  if (::getcwd(buf, sizeof buf)) cwd_ = buf;
}

std::string ConsoleStatus::display(llvm::StringRef path) const {
  llvm::StringRef p = path;
  if (!cwd_.empty() && p.consume_front(cwd_) && p.consume_front("/"))
    return p.str();
  return path.str();
}

void ConsoleStatus::line(const std::string& text) {
  clearLive();
  os_ << text << "\n";
}

void ConsoleStatus::stepStarted(std::size_t step) {
  running_[step] = std::chrono::steady_clock::now();
  if (verbosity_ != Verbosity::Verbose) {
    if (terminal_) tick();
    return;
  }
  const StepPlan& s = plan_.steps[step];
  line(fmt::format("[start] {}: {}", s.name, s.command));
  line("        log: " + display(s.logs_dir) + "/");
  drawLive();
}

void ConsoleStatus::stepEnded(std::size_t step, const StepReport& r) {
  running_.erase(step);
  ++finished_;
  if (verbosity_ == Verbosity::Quiet) return;
  std::string extra = r.detail.empty() ? "" : r.detail + ", ";
  line(fmt::format("[{}/{}] {}: {} ({}{})", finished_, plan_.steps.size(),
                   plan_.steps[step].name, stepStatusName(r.status), extra,
                   seconds(r.seconds)));
  drawLive();
}

void ConsoleStatus::followed(llvm::StringRef process, llvm::StringRef text) {
  clearLive();
  if (process.empty()) {
    os_ << text;
  } else {
    // One prefix per line, so that processes stay apart.
    while (!text.empty()) {
      auto [l, rest] = text.split('\n');
      os_ << "[" << process << "] " << l << "\n";
      text = rest;
    }
  }
  os_.flush();
  drawLive();
}

void ConsoleStatus::tick() {
  clearLive();
  drawLive();
}

void ConsoleStatus::beforeDiagnostic() {
  clearLive();
  os_.flush();
}

void ConsoleStatus::clearLive() {
  if (live_lines_ == 0) return;
  os_ << "\x1b[" << live_lines_ << "A\x1b[J";
  live_lines_ = 0;
}

void ConsoleStatus::drawLive() {
  if (!terminal_ || verbosity_ == Verbosity::Quiet) {
    os_.flush();
    return;
  }
  auto now = std::chrono::steady_clock::now();
  const unsigned kMax = 8;
  unsigned shown = 0;
  for (const auto& [step, since] : running_) {
    if (shown == kMax) {
      os_ << fmt::format("  ... and {} more running\n", running_.size() - kMax);
      ++live_lines_;
      break;
    }
    double s = std::chrono::duration<double>(now - since).count();
    os_ << fmt::format("  running {} {:.1f}s\n", plan_.steps[step].name, s);
    ++live_lines_;
    ++shown;
  }
  os_.flush();
}

void ConsoleStatus::printTail(const LogTail& tail) {
  if (tail.lines.empty()) return;
  std::string pad(14, ' ');
  if (tail.more) os_ << pad << "| ...\n";
  for (const std::string& l : tail.lines)
    os_ << llvm::StringRef(pad + "| " + l).rtrim() << "\n";
}

void ConsoleStatus::printPlan(bool verbose) {
  const RunPlan& plan = plan_;
  os_ << "dry run: " << plan.steps.size() << " step(s) in "
      << display(plan.run_dir) << "\n";
  for (const StepPlan& s : plan.steps) {
    os_ << "step " << s.name;
    if (!s.location.empty()) os_ << " (" << s.location << ")";
    os_ << "\n  after:";
    if (s.deps.empty()) os_ << " -";
    for (std::size_t d : s.deps) os_ << " " << plan.steps[d].name;
    os_ << "\n  processes:";
    if (s.parallel) {
      os_ << " main (parallel step engine)";
    } else {
      for (const ProcessSlot& p : processSlots(s.job_type, s.resources))
        os_ << " " << p.name;
    }
    os_ << "\n  " << (s.argv.empty() ? "sh -c" : "exec") << ": " << s.command
        << "\n";
    if (s.parallel) os_ << "  spec: " << display(s.parallel_spec_path) << "\n";
    if (!s.venv_dir.empty())
      os_ << "  requirements: " << display(s.venv_dir) << "\n";
    if (s.code_is_url) os_ << "  code: git clone " << s.code << "\n";
    os_ << "  dir: " << display(s.dir) << "\n";
    if (verbose)
      for (const auto& [k, v] : s.env)
        os_ << "  env: " << k << "=" << v << "\n";
  }
  os_.flush();
}

void ConsoleStatus::summary(const Scheduler& scheduler,
                            const std::vector<StepReport>& reports,
                            double total) {
  clearLive();
  if (verbosity_ == Verbosity::Quiet) {
    os_.flush();
    return;
  }
  std::vector<StepStatus> statuses;
  std::vector<std::string> blockers;
  for (std::size_t i = 0; i < plan_.steps.size(); ++i) {
    statuses.push_back(scheduler.status(i));
    auto b = scheduler.blocker(i);
    blockers.push_back(b ? plan_.steps[*b].name : "");
  }
  std::map<StepStatus, std::size_t> counts;
  std::size_t width = 4;
  for (std::size_t i = 0; i < statuses.size(); ++i) {
    ++counts[statuses[i]];
    width =
        std::max(width, std::min<std::size_t>(40, plan_.steps[i].name.size()));
  }
  os_ << "run " << plan_.run_id << ":";
  const char* sep = " ";
  for (const auto& [status, n] : counts) {
    os_ << sep << n << " " << stepStatusName(status);
    sep = ", ";
  }
  os_ << " in " << seconds(total) << "\n";
  for (std::size_t i = 0; i < statuses.size(); ++i) {
    const StepReport& r = reports[i];
    std::string name = plan_.steps[i].name;
    name.resize(std::max(name.size(), width), ' ');
    std::string status = stepStatusName(statuses[i]);
    status.resize(12, ' ');
    std::string time;
    if (statuses[i] == StepStatus::Succeeded ||
        statuses[i] == StepStatus::Failed ||
        statuses[i] == StepStatus::Interrupted)
      time = seconds(r.seconds);
    time.resize(8, ' ');
    std::string text = "  " + status + name + "  " + time;
    if (statuses[i] == StepStatus::Skipped)
      text += "(" + blockers[i] + " failed)";
    else if (!r.log.empty())
      text += display(r.log);
    else if (statuses[i] == StepStatus::Resumed)
      text += display(plan_.steps[i].logs_dir) + "/";
    if ((statuses[i] == StepStatus::Failed ||
         statuses[i] == StepStatus::Succeeded ||
         statuses[i] == StepStatus::Cached) &&
        !r.detail.empty())
      text += " (" + r.detail + ")";
    os_ << llvm::StringRef(text).rtrim() << "\n";
    if (statuses[i] == StepStatus::Failed) printTail(r.log_tail);
  }
  if (!plan_.outputs.empty()) {
    os_ << "outputs:\n";
    for (const auto& [name, path] : plan_.outputs)
      os_ << "  " << name << ": " << display(path) << "\n";
  }
  os_.flush();
}

}  // namespace pipec::runtime
