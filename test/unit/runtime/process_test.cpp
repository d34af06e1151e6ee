// Spawning and waiting: exit statuses, exec failures, cwd, environment,
// logs, and stopping a process group.
#include "runtime/process.h"

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <csignal>
#include <fstream>
#include <sstream>

#include "llvm/Support/FileSystem.h"

namespace pipec::runtime {
namespace {

struct TempDir {
  std::string path;
  TempDir() {
    llvm::SmallString<128> p;
    llvm::sys::fs::createUniqueDirectory("process-test", p);
    path = std::string(p);
  }
  ~TempDir() { llvm::sys::fs::remove_directories(path); }
};

std::string slurp(const std::string& path) {
  std::ifstream f(path);
  std::stringstream s;
  s << f.rdbuf();
  return s.str();
}

// Waits for `pid` and returns its wait status.
int waitFor(ProcessSet& set, pid_t pid) {
  std::vector<ProcessSet::Exit> exits;
  for (;;) {
    set.wait(10000, exits);
    for (const auto& e : exits)
      if (e.pid == pid) {
        set.release(pid);
        return e.status;
      }
  }
}

TEST(Process, RunsWithCwdEnvironmentAndLog) {
  TempDir dir;
  ProcessSet set;
  SpawnRequest r{"/bin/sh",
                 {"sh", "-c", "pwd; echo \"$GREETING\"; echo err >&2; exit 3"},
                 {"GREETING=hello there", "PATH=/usr/bin:/bin"},
                 dir.path,
                 dir.path + "/out.log"};
  auto pid = set.spawn(r);
  ASSERT_TRUE(bool(pid)) << llvm::toString(pid.takeError());
  int status = waitFor(set, *pid);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 3);
  EXPECT_EQ(slurp(dir.path + "/out.log"), dir.path + "\nhello there\nerr\n");
}

TEST(Process, ExecFailureIsAnErrorNotAChild) {
  TempDir dir;
  ProcessSet set;
  auto pid = set.spawn(
      {dir.path + "/missing", {"missing"}, {}, dir.path, dir.path + "/log"});
  ASSERT_FALSE(bool(pid));
  EXPECT_NE(llvm::toString(pid.takeError()).find("No such file"),
            std::string::npos);
  EXPECT_EQ(set.running(), 0u);
}

TEST(Process, ChildLeadsItsOwnProcessGroup) {
  TempDir dir;
  ProcessSet set;
  auto pid = set.spawn({"/bin/sh",
                        {"sh", "-c", "ps -o pgid= -p $$"},
                        {"PATH=/usr/bin:/bin"},
                        dir.path,
                        dir.path + "/log"});
  ASSERT_TRUE(bool(pid));
  waitFor(set, *pid);
  EXPECT_EQ(std::stoi(slurp(dir.path + "/log")), *pid);
}

TEST(Process, SignalGroupStopsEveryMember) {
  TempDir dir;
  ProcessSet set;
  // The shell waits on a background child in its group.
  auto pid = set.spawn({"/bin/sh",
                        {"sh", "-c", "sleep 30 & echo $! > child; wait"},
                        {"PATH=/usr/bin:/bin"},
                        dir.path,
                        dir.path + "/log"});
  ASSERT_TRUE(bool(pid));
  while (slurp(dir.path + "/child").empty()) sleepMs(10);
  pid_t child = std::stoi(slurp(dir.path + "/child"));
  set.signalGroup(*pid, SIGTERM);
  int status = waitFor(set, *pid);
  EXPECT_TRUE(WIFSIGNALED(status));
  // Gone, or a zombie waiting for init to reap it.
  auto alive = [&] {
    std::string stat = slurp("/proc/" + std::to_string(child) + "/stat");
    auto close = stat.rfind(')');
    return close != std::string::npos && stat.substr(close + 2, 1) != "Z";
  };
  for (int i = 0; i < 500 && alive(); ++i) sleepMs(10);
  EXPECT_FALSE(alive());
}

TEST(Process, FindExecutable) {
  EXPECT_EQ(findExecutable("sh", "/nonexistent:/bin", "/"), "/bin/sh");
  EXPECT_EQ(findExecutable("no-such-program-xyz", "/bin:/usr/bin", "/"), "");
  EXPECT_EQ(findExecutable("./sh", "", "/bin"), "/bin/./sh");
  EXPECT_EQ(findExecutable("/bin/sh", "", "/"), "/bin/sh");
  EXPECT_EQ(findExecutable("/etc/passwd", "", "/"), "");
}

}  // namespace
}  // namespace pipec::runtime
