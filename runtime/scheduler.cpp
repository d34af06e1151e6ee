// Ready queue, job slots and failure propagation.
#include "runtime/scheduler.h"

#include <cstdint>
#include <set>

namespace pipec::runtime {

const char* stepStatusName(StepStatus s) {
  switch (s) {
    case StepStatus::Pending:
      return "pending";
    case StepStatus::Running:
      return "running";
    case StepStatus::Succeeded:
      return "ok";
    case StepStatus::Failed:
      return "FAILED";
    case StepStatus::Skipped:
      return "skipped";
    case StepStatus::Resumed:
      return "resumed";
    case StepStatus::Cached:
      return "cached";
    case StepStatus::Interrupted:
      return "interrupted";
    case StepStatus::NotRun:
      return "not run";
  }
  return "?";
}

StepRunner::~StepRunner() = default;

Scheduler::Scheduler(std::vector<std::vector<std::size_t>> deps, unsigned jobs)
    : deps_(std::move(deps)),
      dependants_(deps_.size()),
      jobs_(jobs ? jobs : 1),
      status_(deps_.size(), StepStatus::Pending),
      blocker_(deps_.size(), SIZE_MAX) {
  for (std::size_t i = 0; i < deps_.size(); ++i)
    for (std::size_t d : deps_[i]) dependants_[d].push_back(i);
}

void Scheduler::markResumed(std::size_t step) {
  status_[step] = StepStatus::Resumed;
}

std::optional<std::size_t> Scheduler::blocker(std::size_t step) const {
  if (blocker_[step] == SIZE_MAX) return std::nullopt;
  return blocker_[step];
}

bool Scheduler::run(StepRunner& runner) {
  std::size_t n = deps_.size();
  std::vector<std::size_t> waiting_on(n, 0);
  std::set<std::size_t> ready;
  for (std::size_t i = 0; i < n; ++i) {
    if (status_[i] != StepStatus::Pending) continue;
    for (std::size_t d : deps_[i])
      if (status_[d] != StepStatus::Resumed) ++waiting_on[i];
    if (waiting_on[i] == 0) ready.insert(i);
  }
  bool ok = true;
  unsigned running = 0;
  for (;;) {
    while (!runner.interrupted() && running < jobs_ && !ready.empty()) {
      std::size_t i = *ready.begin();
      ready.erase(ready.begin());
      status_[i] = StepStatus::Running;
      ++running;
      runner.start(i);
    }
    if (running == 0) break;
    if (!runner.interrupted()) {
      unsigned offered = 0;
      for (auto it = ready.begin(); it != ready.end() && offered < jobs_;
           ++it, ++offered)
        runner.prepare(*it);
    }
    StepRunner::Result r = runner.wait();
    --running;
    status_[r.step] = r.status;
    if (r.status == StepStatus::Succeeded || r.status == StepStatus::Cached) {
      for (std::size_t d : dependants_[r.step])
        if (--waiting_on[d] == 0 && status_[d] == StepStatus::Pending)
          ready.insert(d);
      continue;
    }
    ok = false;
    if (r.status != StepStatus::Failed) continue;
    // Everything downstream of a failure is skipped; other branches go on.
    std::vector<std::size_t> todo{r.step};
    while (!todo.empty()) {
      std::size_t s = todo.back();
      todo.pop_back();
      for (std::size_t d : dependants_[s]) {
        if (status_[d] != StepStatus::Pending) continue;
        status_[d] = StepStatus::Skipped;
        blocker_[d] = r.step;
        todo.push_back(d);
      }
    }
  }
  for (StepStatus& s : status_)
    if (s == StepStatus::Pending) {
      s = StepStatus::NotRun;
      ok = false;
    }
  return ok && !runner.interrupted();
}

}  // namespace pipec::runtime
