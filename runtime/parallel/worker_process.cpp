// fork/exec of harness workers with their descriptors in place.
#include "runtime/parallel/worker_process.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "llvm/ADT/StringRef.h"

namespace pipec::runtime::parallel {

void WorkerProcess::release() {
  if (to_worker >= 0) ::close(to_worker);
  if (from_worker >= 0) ::close(from_worker);
  if (slot) ::munmap(const_cast<std::int64_t*>(slot), 4096);
  if (slot_fd >= 0) ::close(slot_fd);
  to_worker = from_worker = slot_fd = -1;
  slot = nullptr;
}

std::string findProgram(const std::string& program,
                        const std::string& path_var) {
  if (program.find('/') != std::string::npos)
    return ::access(program.c_str(), X_OK) == 0 ? program : std::string();
  llvm::StringRef rest = path_var;
  while (!rest.empty()) {
    auto [dir, tail] = rest.split(':');
    rest = tail;
    std::string candidate = (dir.empty() ? "." : dir.str()) + "/" + program;
    struct stat st;
    if (::stat(candidate.c_str(), &st) == 0 && S_ISREG(st.st_mode) &&
        ::access(candidate.c_str(), X_OK) == 0)
      return candidate;
  }
  return std::string();
}

namespace {

void childFail(const char* what) {
  const char* msg = std::strerror(errno);
  (void)!::write(2, "pipec: cannot start worker: ", 28);
  (void)!::write(2, what, std::strlen(what));
  (void)!::write(2, ": ", 2);
  (void)!::write(2, msg, std::strlen(msg));
  (void)!::write(2, "\n", 1);
  ::_exit(127);
}

}  // namespace

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

  // Everything the child needs, prepared before fork.
  std::string index_text = std::to_string(index);
  std::vector<char*> argv;
  argv.push_back(const_cast<char*>(config.program.c_str()));
  for (const std::string& a : config.args)
    argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(index_text.data());
  argv.push_back(nullptr);
  std::vector<char*> envp;
  for (const std::string& e : config.env)
    envp.push_back(const_cast<char*>(e.c_str()));
  envp.push_back(nullptr);
  pid_t parent = ::getpid();

  pid_t pid = ::fork();
  if (pid < 0) {
    ::munmap(slot, 4096);
    return fail("fork");
  }
  if (pid == 0) {
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (::getppid() != parent) ::_exit(127);
    if (config.process_group > 0) ::setpgid(0, config.process_group);
    sigset_t none;
    sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);
    for (int sig : {SIGPIPE, SIGINT, SIGTERM, SIGHUP, SIGCHLD})
      ::signal(sig, SIG_DFL);
    // Move the sources out of the way of 0..5, then into place.
    int src[6] = {null_fd, log_fd, log_fd, req[0], rep[1], slot_fd};
    int high[6];
    for (int i = 0; i < 6; ++i) {
      high[i] = ::fcntl(src[i], F_DUPFD_CLOEXEC, 10);
      if (high[i] < 0) childFail("fcntl");
    }
    for (int i = 0; i < 6; ++i)
      if (::dup2(high[i], i) < 0) childFail("dup2");
    if (!config.cwd.empty() && ::chdir(config.cwd.c_str()) != 0)
      childFail(config.cwd.c_str());
    ::close_range(6, ~0U, 0);
    ::execve(config.program.c_str(), argv.data(), envp.data());
    childFail(config.program.c_str());
  }
  ::close(req[0]);
  ::close(rep[1]);
  ::close(log_fd);
  ::close(null_fd);
  ::fcntl(req[1], F_SETFL, O_NONBLOCK);
  ::fcntl(rep[0], F_SETFL, O_NONBLOCK);
  out.pid = pid;
  out.to_worker = req[1];
  out.from_worker = rep[0];
  out.slot_fd = slot_fd;
  out.slot = static_cast<volatile std::int64_t*>(slot);
  return true;
}

}  // namespace pipec::runtime::parallel
