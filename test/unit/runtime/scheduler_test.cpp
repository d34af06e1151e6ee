// The scheduler against a fake runner: order, job slots, failures, resume,
// interruption.
#include "runtime/scheduler.h"

#include <gtest/gtest.h>

#include <deque>
#include <set>

namespace pipec::runtime {
namespace {

// Ends started steps in the order they started (or as `finish_order` says),
// failing those in `fail`; checks that no step starts before its deps.
class FakeRunner : public StepRunner {
 public:
  explicit FakeRunner(const std::vector<std::vector<std::size_t>>& deps)
      : deps_(deps) {}

  void start(std::size_t step) override {
    for (std::size_t d : deps_[step])
      EXPECT_TRUE(succeeded.count(d) || resumed.count(d))
          << "step " << step << " started before step " << d << " succeeded";
    started.push_back(step);
    running.push_back(step);
    max_running = std::max(max_running, running.size());
    if (interrupt_after && started.size() == interrupt_after)
      interrupted_ = true;
  }
  Result wait() override {
    EXPECT_FALSE(running.empty());
    std::size_t step = running.front();
    if (last_first) step = running.back();
    running.erase(std::find(running.begin(), running.end(), step));
    StepStatus s = interrupted_       ? StepStatus::Interrupted
                   : fail.count(step) ? StepStatus::Failed
                                      : StepStatus::Succeeded;
    if (s == StepStatus::Succeeded) succeeded.insert(step);
    return {step, s};
  }
  bool interrupted() const override { return interrupted_; }

  std::set<std::size_t> fail, succeeded, resumed;
  std::vector<std::size_t> started;
  std::deque<std::size_t> running;
  std::size_t max_running = 0;
  std::size_t interrupt_after = 0;
  bool last_first = false;

 private:
  const std::vector<std::vector<std::size_t>>& deps_;
  bool interrupted_ = false;
};

TEST(Scheduler, RunsInDependencyOrderWithinJobSlots) {
  // 0 -> 1 -> 3, 0 -> 2 -> 3, 4 alone.
  std::vector<std::vector<std::size_t>> deps = {{}, {0}, {0}, {1, 2}, {}};
  for (unsigned jobs : {1u, 2u, 8u}) {
    FakeRunner r(deps);
    Scheduler s(deps, jobs);
    EXPECT_TRUE(s.run(r));
    EXPECT_EQ(r.started.size(), 5u);
    EXPECT_LE(r.max_running, jobs);
    for (std::size_t i = 0; i < deps.size(); ++i)
      EXPECT_EQ(s.status(i), StepStatus::Succeeded);
  }
}

TEST(Scheduler, StartsReadyStepsInIndexOrderAndFillsSlots) {
  std::vector<std::vector<std::size_t>> deps = {{}, {}, {}, {}, {}};
  FakeRunner r(deps);
  Scheduler s(deps, 3);
  EXPECT_TRUE(s.run(r));
  EXPECT_EQ(r.started, (std::vector<std::size_t>{0, 1, 2, 3, 4}));
  EXPECT_EQ(r.max_running, 3u);
}

TEST(Scheduler, FailureSkipsDependantsAndIndependentBranchesFinish) {
  // 0 -> 1 -> 2 -> 3; 0 -> 4; 5 alone.
  std::vector<std::vector<std::size_t>> deps = {{}, {0}, {1}, {2}, {0}, {}};
  FakeRunner r(deps);
  r.fail = {1};
  Scheduler s(deps, 2);
  EXPECT_FALSE(s.run(r));
  EXPECT_EQ(s.status(0), StepStatus::Succeeded);
  EXPECT_EQ(s.status(1), StepStatus::Failed);
  EXPECT_EQ(s.status(2), StepStatus::Skipped);
  EXPECT_EQ(s.status(3), StepStatus::Skipped);
  EXPECT_EQ(*s.blocker(3), 1u);
  EXPECT_EQ(s.status(4), StepStatus::Succeeded);
  EXPECT_EQ(s.status(5), StepStatus::Succeeded);
  EXPECT_FALSE(s.blocker(4));
  for (std::size_t started : r.started)
    EXPECT_TRUE(started != 2 && started != 3);
}

TEST(Scheduler, ResumedStepsAreNotStarted) {
  std::vector<std::vector<std::size_t>> deps = {{}, {0}, {1}};
  FakeRunner r(deps);
  r.resumed = {0};
  Scheduler s(deps, 1);
  s.markResumed(0);
  EXPECT_TRUE(s.run(r));
  EXPECT_EQ(r.started, (std::vector<std::size_t>{1, 2}));
  EXPECT_EQ(s.status(0), StepStatus::Resumed);
}

TEST(Scheduler, InterruptionStartsNothingMore) {
  std::vector<std::vector<std::size_t>> deps = {{}, {}, {}, {0}};
  FakeRunner r(deps);
  r.interrupt_after = 2;
  Scheduler s(deps, 2);
  EXPECT_FALSE(s.run(r));
  EXPECT_EQ(r.started.size(), 2u);
  EXPECT_EQ(s.status(0), StepStatus::Interrupted);
  EXPECT_EQ(s.status(1), StepStatus::Interrupted);
  EXPECT_EQ(s.status(2), StepStatus::NotRun);
  EXPECT_EQ(s.status(3), StepStatus::NotRun);
}

TEST(Scheduler, WideDagKeepsSlotsBusyWhateverTheEndOrder) {
  std::vector<std::vector<std::size_t>> deps(1, std::vector<std::size_t>{});
  for (std::size_t i = 1; i <= 100; ++i) deps.push_back({0});
  deps.push_back({});
  for (std::size_t i = 1; i <= 100; ++i) deps.back().push_back(i);
  FakeRunner r(deps);
  r.last_first = true;
  Scheduler s(deps, 4);
  EXPECT_TRUE(s.run(r));
  EXPECT_EQ(r.started.size(), deps.size());
  EXPECT_EQ(r.max_running, 4u);
  EXPECT_EQ(r.started.back(), 101u);
}

}  // namespace
}  // namespace pipec::runtime
