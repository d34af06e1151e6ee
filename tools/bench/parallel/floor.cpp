// The dispatch floor: a minimal driver feeding persistent Python workers
// through pipes, several mini-batches in flight per worker. No journal, no
// retries, no timeouts: what any engine must at least pay.
//
//   parallel_floor PYTHON WORKER.py DIR WORKERS IN_FLIGHT
// Mini-batches are the files of DIR, one per mini-batch, as JSON lines
// ["DIR/name"]; prints "mini-batches seconds".
#include <dirent.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

namespace {

struct Worker {
  pid_t pid;
  int in, out;  // our write end, our read end
  std::string wbuf;
  std::size_t in_flight = 0;
};

Worker start(const char* python, const char* script) {
  int a[2], b[2];
  if (pipe2(a, O_CLOEXEC) || pipe2(b, O_CLOEXEC)) std::exit(2);
  pid_t pid = fork();
  if (pid == 0) {
    dup2(a[0], 0);
    dup2(b[1], 1);
    close(a[0]), close(a[1]), close(b[0]), close(b[1]);
    execl(python, python, script, static_cast<char*>(nullptr));
    _exit(127);
  }
  close(a[0]);
  close(b[1]);
  return Worker{pid, a[1], b[0], {}, 0};
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 6) {
    std::fprintf(stderr,
                 "usage: parallel_floor PYTHON WORKER.py DIR WORKERS "
                 "IN_FLIGHT\n");
    return 2;
  }
  signal(SIGPIPE, SIG_IGN);
  std::vector<std::string> items;
  DIR* d = opendir(argv[3]);
  if (!d) return 2;
  while (dirent* e = readdir(d))
    if (e->d_name[0] != '.')
      items.push_back(std::string(argv[3]) + "/" + e->d_name);
  closedir(d);
  int nworkers = std::atoi(argv[4]);
  std::size_t depth = std::size_t(std::atoi(argv[5]));
  std::vector<Worker> ws;
  for (int i = 0; i < nworkers; ++i) ws.push_back(start(argv[1], argv[2]));
  auto t0 = std::chrono::steady_clock::now();
  std::size_t next = 0, done = 0;
  std::vector<std::string> rbuf(ws.size());
  char buf[1 << 16];
  while (done < items.size()) {
    for (Worker& w : ws) {
      while (w.in_flight < depth && next < items.size()) {
        w.wbuf += "[\"" + items[next++] + "\"]\n";
        ++w.in_flight;
      }
      if (!w.wbuf.empty()) {
        ssize_t n = write(w.in, w.wbuf.data(), w.wbuf.size());
        if (n > 0) w.wbuf.erase(0, std::size_t(n));
      }
    }
    std::vector<pollfd> fds;
    for (Worker& w : ws) fds.push_back({w.out, POLLIN, 0});
    poll(fds.data(), fds.size(), -1);
    for (std::size_t i = 0; i < ws.size(); ++i) {
      if (!(fds[i].revents & POLLIN)) continue;
      ssize_t n = read(ws[i].out, buf, sizeof(buf));
      if (n <= 0) return 3;
      for (ssize_t k = 0; k < n; ++k)
        if (buf[k] == '\n') {
          --ws[i].in_flight;
          ++done;
        }
    }
  }
  double secs =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - t0)
          .count();
  for (Worker& w : ws) {
    close(w.in);
    waitpid(w.pid, nullptr, 0);
  }
  std::printf("%zu %.4f\n", items.size(), secs);
  return 0;
}
