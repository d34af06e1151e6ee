// Spawning and waiting: exit statuses, exec failures, cwd, environment,
// logs, descriptors, signals, process groups, and the processes adopted as a
// subreaper.
#include "runtime/process.h"

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fcntl.h>

#include <algorithm>
#include <csignal>
#include <cstring>
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

// Starts `sh -c script` in `dir`, its log `dir/name.log`.
llvm::Expected<pid_t> shell(ProcessSet& set, const TempDir& dir,
                            const std::string& script,
                            const std::string& name = "sh",
                            const std::string& extra_env = "X=") {
  return set.spawn({"/bin/sh",
                    {"sh", "-c", script},
                    {"PATH=/usr/bin:/bin", extra_env},
                    dir.path,
                    dir.path + "/" + name + ".log"});
}

// A ChildSpec for `sh -c script` (the vectors must outlive it).
ChildSpec shellSpec(std::vector<std::string>& argv,
                    std::vector<std::string>& env, const std::string& script) {
  argv = {"sh", "-c", script};
  env = {"PATH=/usr/bin:/bin"};
  ChildSpec spec;
  spec.exe = "/bin/sh";
  spec.argv = argv;
  spec.env = env;
  return spec;
}

// Whether `pid` still runs (a zombie does not).
bool running(pid_t pid) { return processRunning(pid); }

void waitUntilGone(pid_t pid) {
  for (int i = 0; i < 500 && running(pid); ++i) sleepMs(10);
}

// A shell command that starts `sleep 30` in a session of its own, writes its
// pid to the file `name` once it is there, and ends.
std::string orphanCommand(const std::string& name) {
  return "setsid sh -c 'echo $$ > " + name + ".tmp; mv " + name + ".tmp " +
         name + "; exec sleep 30' </dev/null & while [ ! -e " + name +
         " ]; do sleep 0.01; done";
}

std::string readPidFile(const std::string& path) {
  for (int i = 0; i < 500; ++i) {
    std::string text = slurp(path);
    if (!text.empty() && text.back() == '\n') return text;
    sleepMs(10);
  }
  return "";
}

TEST(Process, SpawnChildPutsDescriptorsInPlaceAndClosesTheRest) {
  TempDir dir;
  int out[2], stray[2];
  ASSERT_EQ(::pipe2(out, O_CLOEXEC), 0);
  ASSERT_EQ(::pipe(stray), 0);  // not close-on-exec: only close_other_fds
  int null = ::open("/dev/null", O_RDWR | O_CLOEXEC);
  int fds[4] = {null, null, null, out[1]};
  std::string script = "echo on-fd-3 >&3; [ -e /proc/$$/fd/" +
                       std::to_string(stray[1]) +
                       " ] && echo stray-open >&3 || echo stray-closed >&3";
  std::vector<std::string> argv, env;
  ChildSpec spec = shellSpec(argv, env, script);
  spec.fds = fds;
  spec.close_other_fds = true;
  auto pid = spawnChild(spec);
  ASSERT_TRUE(bool(pid)) << llvm::toString(pid.takeError());
  ::close(out[1]);
  std::string got;
  char buf[256];
  for (ssize_t n; (n = ::read(out[0], buf, sizeof buf)) > 0;)
    got.append(buf, std::size_t(n));
  int status;
  ::waitpid(*pid, &status, 0);
  EXPECT_EQ(got, "on-fd-3\nstray-closed\n");
  for (int fd : {out[0], stray[0], stray[1], null}) ::close(fd);
}

TEST(Process, SpawnChildJoinsTheGroupItIsGiven) {
  TempDir dir;
  ProcessSet set;
  // A leader that waits, then a second process that joins its group.
  auto leader = shell(set, dir, "sleep 30");
  ASSERT_TRUE(bool(leader));
  int log = ::open((dir.path + "/pgid").c_str(), O_WRONLY | O_CREAT | O_CLOEXEC,
                   0644);
  int fds[3] = {log, log, log};
  std::vector<std::string> argv, env;
  ChildSpec spec = shellSpec(argv, env, "ps -o pgid= -p $$");
  spec.fds = fds;
  spec.process_group = *leader;
  auto pid = spawnChild(spec);
  ::close(log);
  ASSERT_TRUE(bool(pid)) << llvm::toString(pid.takeError());
  int status;
  ::waitpid(*pid, &status, 0);
  EXPECT_EQ(std::stoi(slurp(dir.path + "/pgid")), *leader);
  set.signalGroup(*leader, SIGKILL);
  waitFor(set, *leader);
}

TEST(Process, SpawnChildPutsListedSignalsBackToDefault) {
  // An ignored SIGTERM is inherited (as make leaves it), unless listed.
  struct sigaction ign, old;
  std::memset(&ign, 0, sizeof ign);
  ign.sa_handler = SIG_IGN;
  ::sigaction(SIGTERM, &ign, &old);
  auto run = [](const sigset_t* defaults) {
    std::vector<std::string> argv, env;
    ChildSpec spec = shellSpec(argv, env, "kill -TERM $$; exit 7");
    spec.default_signals = defaults;
    auto pid = spawnChild(spec);
    int status = 0;
    if (pid) ::waitpid(*pid, &status, 0);
    return status;
  };
  int inherited = run(nullptr);
  sigset_t term;
  sigemptyset(&term);
  sigaddset(&term, SIGTERM);
  int reset = run(&term);
  ::sigaction(SIGTERM, &old, nullptr);
  EXPECT_TRUE(WIFEXITED(inherited) && WEXITSTATUS(inherited) == 7);
  EXPECT_TRUE(WIFSIGNALED(reset) && WTERMSIG(reset) == SIGTERM);
}

TEST(Process, OrphansInAnotherSessionAreAdoptedAndStopped) {
  TempDir dir;
  pid_t orphan = 0;
  {
    ProcessSet set;
    // The shell ends at once; its child leaves the session and lives on.
    auto pid = set.spawn({"/bin/sh",
                          {"sh", "-c", orphanCommand("orphan")},
                          {"PATH=/usr/bin:/bin"},
                          dir.path,
                          dir.path + "/log"});
    ASSERT_TRUE(bool(pid));
    waitFor(set, *pid);
    orphan = std::stoi(readPidFile(dir.path + "/orphan"));
    ASSERT_TRUE(running(orphan));
    std::vector<pid_t> adopted = set.adopted();
    EXPECT_NE(std::find(adopted.begin(), adopted.end(), orphan), adopted.end());
    // Picked by its environment: nothing here has PICK_ME.
    auto none = set.signalAdopted(SIGKILL, [](pid_t, llvm::StringRef env) {
      return environmentHas(env, "PICK_ME=");
    });
    EXPECT_TRUE(none.empty());
    EXPECT_TRUE(running(orphan));
  }
  // The set stopped it when it went.
  waitUntilGone(orphan);
  EXPECT_FALSE(running(orphan));
}

TEST(Process, SignalAdoptedPicksByEnvironment) {
  TempDir dir;
  ProcessSet set;
  auto start = [&](const std::string& tag) {
    auto pid = set.spawn({"/bin/sh",
                          {"sh", "-c", orphanCommand(tag)},
                          {"PATH=/usr/bin:/bin", "TAG=" + tag},
                          dir.path,
                          dir.path + "/" + tag + ".log"});
    EXPECT_TRUE(bool(pid));
    if (pid) waitFor(set, *pid);
    return pid_t(std::stoi(readPidFile(dir.path + "/" + tag)));
  };
  pid_t a = start("a"), b = start("b");
  auto picked = set.signalAdopted(SIGKILL, [](pid_t, llvm::StringRef env) {
    return environmentHas(env, "TAG=a");
  });
  ASSERT_EQ(picked.size(), 1u);
  EXPECT_EQ(picked[0], a);
  waitUntilGone(a);
  EXPECT_FALSE(running(a));
  EXPECT_TRUE(running(b));
}

TEST(Process, SignalDescendantsReachesOtherSessions) {
  TempDir dir;
  ProcessSet set;
  auto pid = set.spawn({"/bin/sh",
                        {"sh", "-c", orphanCommand("child") + "; wait"},
                        {"PATH=/usr/bin:/bin"},
                        dir.path,
                        dir.path + "/log"});
  ASSERT_TRUE(bool(pid));
  pid_t child = std::stoi(readPidFile(dir.path + "/child"));
  std::vector<pid_t> below = descendantProcesses(*pid);
  EXPECT_NE(std::find(below.begin(), below.end(), child), below.end());
  set.signalDescendants(*pid, SIGKILL);
  // The shell's wait returns once its child is gone: it ends by itself.
  int status = waitFor(set, *pid);
  EXPECT_TRUE(WIFEXITED(status));
  EXPECT_FALSE(running(child));
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
