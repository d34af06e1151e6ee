// The spawn floor: posix_spawn the same command N times keeping J in flight,
// and nothing else; prints the wall time in seconds. With --each, runs the
// command N times one after the other and prints the median time of one
// run (start-up measurements without an interpreter in between).
//
// usage: spawn_floor N J COMMAND [ARGS...]
//        spawn_floor --each N COMMAND [ARGS...]
#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
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
  if (argc < 4) {
    std::fprintf(stderr,
                 "usage: spawn_floor N J COMMAND [ARGS...]\n"
                 "       spawn_floor --each N COMMAND [ARGS...]\n");
    return 2;
  }
  long n = std::atol(argv[1]), jobs = std::atol(argv[2]);
  auto t0 = Clock::now();
  long started = 0, running = 0;
  while (started < n || running > 0) {
    while (started < n && running < jobs) {
      start(argv + 3, nullptr);
      ++started;
      ++running;
    }
    if (!finish()) return 1;
    --running;
  }
  std::printf("%.6f\n",
              std::chrono::duration<double>(Clock::now() - t0).count());
  return 0;
}
