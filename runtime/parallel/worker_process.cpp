// Harness workers started by the one spawner with their descriptors in place.
#include "runtime/parallel/worker_process.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "runtime/process.h"

namespace pipec::runtime::parallel {

void WorkerProcess::release() {
  if (to_worker >= 0) ::close(to_worker);
  if (from_worker >= 0) ::close(from_worker);
  if (slot) ::munmap(const_cast<std::int64_t*>(slot), 4096);
  if (slot_fd >= 0) ::close(slot_fd);
  to_worker = from_worker = slot_fd = -1;
  slot = nullptr;
  if (pid > 0 && !processRunning(pid)) {
    ::kill(-pid, SIGKILL);
    if (guardian) guardian->unwatch(pid);
  }
}

bool spawnWorker(const LaunchConfig& config, int index,
                 const std::string& log_path, WorkerProcess& out,
                 std::string& error) {
  int req[2] = {-1, -1}, rep[2] = {-1, -1};
  int log_fd = -1, null_fd = -1, slot_fd = -1;
  auto fail = [&](const std::string& what) {
    error = what + ": " + std::strerror(errno);
    for (int fd : {req[0], req[1], rep[0], rep[1], log_fd, null_fd, slot_fd})
      if (fd >= 0) ::close(fd);
    return false;
  };
  if (::pipe2(req, O_CLOEXEC) != 0 || ::pipe2(rep, O_CLOEXEC) != 0)
    return fail("pipe");
  log_fd =
      ::open(log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (log_fd < 0) return fail(log_path);
  null_fd = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  if (null_fd < 0) return fail("/dev/null");
  slot_fd = ::memfd_create("pipec-worker-slot", MFD_CLOEXEC);
  if (slot_fd < 0 || ::ftruncate(slot_fd, 4096) != 0) return fail("memfd");
  void* slot =
      ::mmap(nullptr, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, slot_fd, 0);
  if (slot == MAP_FAILED) return fail("mmap");

  std::vector<std::string> argv{config.program};
  argv.insert(argv.end(), config.args.begin(), config.args.end());
  argv.push_back(std::to_string(index));
  int fds[6] = {null_fd, log_fd, log_fd, req[0], rep[1], slot_fd};
  sigset_t defaults;
  sigemptyset(&defaults);
  for (int sig : {SIGPIPE, SIGINT, SIGTERM, SIGHUP, SIGCHLD})
    sigaddset(&defaults, sig);
  ChildSpec spec;
  spec.exe = config.program.c_str();
  spec.argv = argv;
  spec.env = config.env;
  spec.cwd = config.cwd.c_str();
  spec.fds = fds;
  spec.close_other_fds = true;
  spec.default_signals = &defaults;
  auto pid = spawnChild(spec);
  if (!pid) {
    ::munmap(slot, 4096);
    error = llvm::toString(pid.takeError());
    errno = 0;
    for (int fd : {req[0], req[1], rep[0], rep[1], log_fd, null_fd, slot_fd})
      ::close(fd);
    return false;
  }
  if (config.guardian) config.guardian->watch(*pid);
  ::close(req[0]);
  ::close(rep[1]);
  ::close(log_fd);
  ::close(null_fd);
  ::fcntl(req[1], F_SETFL, O_NONBLOCK);
  ::fcntl(rep[0], F_SETFL, O_NONBLOCK);
  out.pid = *pid;
  out.to_worker = req[1];
  out.from_worker = rep[0];
  out.slot_fd = slot_fd;
  out.slot = static_cast<volatile std::int64_t*>(slot);
  out.guardian = config.guardian;
  return true;
}

}  // namespace pipec::runtime::parallel
