// The spawn floor: posix_spawn the same command N times keeping J in flight,
// and nothing else; prints the wall time in seconds. With --each, runs the
// command N times one after the other and prints the median time of one
// run (start-up measurements without an interpreter in between).
//
// With --layout DIR, each task first gets the run layout of RUNTIME.md
// made by the plainest code there is, the entries `pipec run` makes for a
// step of the benchmark's wide DAG: under DIR/s<i>, the folders logs, ml,
// ml/usercode, ml/input, ml/input/config, ml/input/data (not for the first
// task), ml/output and ml/output/out, hyperparameters.json and
// training_job.json, a link ml/input/data/in to the first task's output,
// and the log logs/main.log as the command's stdout and stderr, with
// ml/usercode as its working folder. This is the floor of any scheduler
// that makes that layout. The next task's layout is made while the
// running ones run, so a free slot is filled at once.
//
// usage: spawn_floor [--layout DIR] N J COMMAND [ARGS...]
//        spawn_floor --each N COMMAND [ARGS...]
#include <fcntl.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <string>
#include <utility>
#include <vector>

extern char** environ;

namespace {

pid_t start(char** argv, posix_spawn_file_actions_t* quiet) {
  pid_t pid;
  if (posix_spawnp(&pid, argv[0], quiet, nullptr, argv, environ) != 0) {
    std::perror("posix_spawnp");
    std::exit(1);
  }
  return pid;
}

[[noreturn]] void die(const char* what, const std::string& path) {
  std::fprintf(stderr, "spawn_floor: %s %s: %s\n", what, path.c_str(),
               std::strerror(errno));
  std::exit(1);
}

/// Makes task i's layout below the folder `root` (whose path is
/// `root_path`) and returns its log, open for writing, and the command's
/// working folder.
std::pair<int, std::string> layOut(int root, const std::string& root_path,
                                   long i) {
  std::string dir = "s" + std::to_string(i);
  if (::mkdirat(root, dir.c_str(), 0755) != 0) die("mkdir", dir);
  int d = ::openat(root, dir.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (d < 0) die("open", dir);
  for (const char* sub :
       {"logs", "ml", "ml/usercode", "ml/input", "ml/input/config",
        "ml/input/data", "ml/output", "ml/output/out"}) {
    if (i == 0 && std::strcmp(sub, "ml/input/data") == 0) continue;
    if (::mkdirat(d, sub, 0755) != 0) die("mkdir", dir + "/" + sub);
  }
  std::string abs = root_path + "/" + dir;
  std::string job =
      "{\n  \"component\": \"noop@1.0.0\",\n  \"inputs\": {\n    \"in\": \"" +
      abs + "/ml/input/data/in/\"\n  },\n  \"job_type\": \"command\",\n  " +
      "\"kind\": \"command\",\n  \"name\": \"" + dir +
      "\",\n  \"outputs\": {\n    \"out\": \"" + abs +
      "/ml/output/out/\"\n  },\n  \"resources\": {\"instance_count\": 1}\n}\n";
  for (auto [name, text] : {std::pair<const char*, std::string>{
                                "ml/input/config/hyperparameters.json", "{}\n"},
                            {"ml/input/config/training_job.json", job}}) {
    int fd = ::openat(d, name, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0 || ::write(fd, text.data(), text.size()) !=
                      static_cast<ssize_t>(text.size()))
      die("write", dir + "/" + name);
    ::close(fd);
  }
  if (i > 0 &&
      ::symlinkat("../../../../s0/ml/output/out", d, "ml/input/data/in") != 0)
    die("symlink", dir + "/ml/input/data/in");
  int log = ::openat(d, "logs/main.log",
                     O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (log < 0) die("open", dir + "/logs/main.log");
  ::close(d);
  return {log, abs + "/ml/usercode"};
}

/// Starts a task in its layout (as layOut returned it).
pid_t startLaidOut(char** argv, const std::pair<int, std::string>& laid_out) {
  const auto& [log, cwd] = laid_out;
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, log, 1);
  posix_spawn_file_actions_adddup2(&actions, log, 2);
  posix_spawn_file_actions_addchdir_np(&actions, cwd.c_str());
  pid_t pid = start(argv, &actions);
  posix_spawn_file_actions_destroy(&actions);
  ::close(log);
  return pid;
}

bool finish() {
  int status;
  return ::wait(&status) >= 0 && WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

}  // namespace

int main(int argc, char** argv) {
  using Clock = std::chrono::steady_clock;
  if (argc >= 4 && std::strcmp(argv[1], "--each") == 0) {
    long n = std::atol(argv[2]);
    posix_spawn_file_actions_t quiet;
    posix_spawn_file_actions_init(&quiet);
    posix_spawn_file_actions_addopen(&quiet, 1, "/dev/null", O_WRONLY, 0);
    std::vector<double> times;
    for (long i = 0; i < n; ++i) {
      auto t0 = Clock::now();
      start(argv + 3, &quiet);
      if (!finish()) return 1;
      times.push_back(std::chrono::duration<double>(Clock::now() - t0).count());
    }
    std::sort(times.begin(), times.end());
    std::printf("%.6f\n", times[times.size() / 2]);
    return 0;
  }
  std::string layout;
  if (argc >= 3 && std::strcmp(argv[1], "--layout") == 0) {
    char* real = ::realpath(argv[2], nullptr);
    if (!real) die("realpath", argv[2]);
    layout = real;
    std::free(real);
    argc -= 2;
    argv += 2;
  }
  if (argc < 4) {
    std::fprintf(stderr,
                 "usage: spawn_floor [--layout DIR] N J COMMAND [ARGS...]\n"
                 "       spawn_floor --each N COMMAND [ARGS...]\n");
    return 2;
  }
  int root = -1;
  if (!layout.empty()) {
    root = ::open(layout.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (root < 0) die("open", layout);
  }
  long n = std::atol(argv[1]), jobs = std::atol(argv[2]);
  auto t0 = Clock::now();
  long started = 0, running = 0;
  std::optional<std::pair<int, std::string>> next;  // laid out, not started
  while (started < n || running > 0) {
    while (started < n && running < jobs) {
      if (root < 0) {
        start(argv + 3, nullptr);
      } else {
        if (!next) next = layOut(root, layout, started);
        startLaidOut(argv + 3, *next);
        next.reset();
      }
      ++started;
      ++running;
    }
    // The next task's layout is made while the running ones run.
    if (root >= 0 && started < n && !next) next = layOut(root, layout, started);
    if (!finish()) return 1;
    --running;
  }
  std::printf("%.6f\n",
              std::chrono::duration<double>(Clock::now() - t0).count());
  return 0;
}
