// The AIMaster's thread: a poll loop over a Unix socket and its clients.
#include "runtime/parallel/aimaster.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <optional>

#include "llvm/ADT/StringRef.h"
#include "runtime/parallel/fd_io.h"
#include "runtime/parallel/harness.h"

namespace pipec::runtime::parallel {

struct ShardMaster::Client {
  int fd = -1;
  std::string in;
  std::string worker;
  bool holds = false;
  std::uint64_t shard = 0;
};

namespace {

// The shards of a job without a data input: none.
class NoShards : public BatchSource {
 public:
  bool next(MiniBatch&) override { return false; }
  std::optional<std::uint64_t> total() const override { return 0; }
};

}  // namespace

std::unique_ptr<ShardMaster> ShardMaster::start(const SourceOptions& source,
                                                const std::string& socket_path,
                                                const std::string& client_dir,
                                                Problem& problem,
                                                int max_losses) {
  std::unique_ptr<ShardMaster> m(new ShardMaster());
  m->socket_path_ = socket_path;
  m->client_dir_ = client_dir;
  m->max_losses_ = std::max(1, max_losses);
  if (source.input_path.empty())
    m->source_ = std::make_unique<NoShards>();
  else
    m->source_ = openBatchSource(source, problem);
  if (!m->source_) return nullptr;
  m->stats_.total = m->source_->total();
  auto fail = [&](const std::string& what) {
    problem = {ir::diag::ParallelStateUnusable, what, std::strerror(errno)};
    return nullptr;
  };
  if (!writePythonModules(client_dir)) return fail(client_dir);
  struct sockaddr_un addr = {};
  addr.sun_family = AF_UNIX;
  if (socket_path.size() >= sizeof(addr.sun_path)) {
    errno = ENAMETOOLONG;
    return fail(socket_path);
  }
  std::memcpy(addr.sun_path, socket_path.c_str(), socket_path.size() + 1);
  m->listen_fd_ = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (m->listen_fd_ < 0) return fail(socket_path);
  ::unlink(socket_path.c_str());
  if (::bind(m->listen_fd_, reinterpret_cast<struct sockaddr*>(&addr),
             sizeof(addr)) != 0 ||
      ::listen(m->listen_fd_, 128) != 0)
    return fail(socket_path);
  if (::pipe2(m->wake_, O_CLOEXEC | O_NONBLOCK) != 0) return fail("pipe");
  m->thread_ = std::thread([p = m.get()] { p->loop(); });
  return m;
}

ShardMaster::~ShardMaster() {
  stop_ = true;
  if (wake_[1] >= 0) (void)!::write(wake_[1], "x", 1);
  if (thread_.joinable()) thread_.join();
  for (int fd : {listen_fd_, wake_[0], wake_[1]})
    if (fd >= 0) ::close(fd);
  if (listen_fd_ >= 0) ::unlink(socket_path_.c_str());
}

std::vector<std::pair<std::string, std::string>> ShardMaster::workerEnvironment(
    const std::string& pythonpath) const {
  return {{"PIPEC_AIMASTER_ADDR", "unix:" + socket_path_},
          {"PYTHONPATH",
           pythonpath.empty() ? client_dir_ : client_dir_ + ":" + pythonpath}};
}

ShardMaster::Stats ShardMaster::stats() const {
  std::lock_guard<std::mutex> lock(mu_);
  return stats_;
}

bool ShardMaster::finished() const {
  std::lock_guard<std::mutex> lock(mu_);
  bool all =
      stats_.all_produced || (stats_.total && stats_.produced >= *stats_.total);
  return all && outstanding_.empty();
}

bool ShardMaster::waitFinished(std::chrono::milliseconds timeout) const {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!finished()) {
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return true;
}

Problem ShardMaster::problem() const {
  std::lock_guard<std::mutex> lock(mu_);
  return problem_;
}

std::vector<std::string> ShardMaster::givenUp() const {
  std::lock_guard<std::mutex> lock(mu_);
  return given_up_;
}

// A shard the client held goes back to the front of the queue, unless it
// was lost too often: then it is given up.
void ShardMaster::release(Client& c) {
  if (!c.holds) return;
  c.holds = false;
  --stats_.held;
  if (++losses_[c.shard] >= max_losses_) {
    auto it = outstanding_.find(c.shard);
    std::string label =
        it == outstanding_.end() ? std::string() : it->second.label;
    given_up_.push_back(std::to_string(c.shard) + " at " + label);
    if (it != outstanding_.end()) outstanding_.erase(it);
    ++stats_.given_up;
    return;
  }
  requeued_.push_front(c.shard);
  ++stats_.requeued;
}

void ShardMaster::onLine(Client& c, const std::string& line) {
  std::string reply;
  {
    std::lock_guard<std::mutex> lock(mu_);
    llvm::StringRef l = line;
    if (l.consume_front("HELLO ")) {
      c.worker = l.str();
      return;
    }
    if (l != "NEXT") {
      reply = "E unknown request\n";
    } else {
      if (c.holds) {  // the previous shard is done
        outstanding_.erase(c.shard);
        c.holds = false;
        ++stats_.finished;
        --stats_.held;
      }
      const MiniBatch* shard = nullptr;
      if (!requeued_.empty()) {
        c.shard = requeued_.front();
        requeued_.pop_front();
        shard = &outstanding_[c.shard];
      } else if (!stats_.all_produced) {
        MiniBatch mb;
        if (source_->next(mb)) {
          c.shard = mb.index;
          shard = &(outstanding_[mb.index] = std::move(mb));
          ++stats_.produced;
        } else {
          stats_.all_produced = true;
          if (source_->failed()) problem_ = source_->problem();
        }
      }
      if (shard) {
        c.holds = true;
        ++stats_.held;
        reply = "S " + std::to_string(c.shard) + " " +
                std::to_string(shard->index) + " " + shard->payload + "\n";
      } else if (!outstanding_.empty()) {
        reply = "W 50\n";  // held elsewhere; one may come back
      } else {
        reply = "D\n";
      }
    }
  }
  if (!writeAll(c.fd, reply)) {
    std::lock_guard<std::mutex> lock(mu_);
    release(c);
  }
}

void ShardMaster::loop() {
  std::vector<std::unique_ptr<Client>> clients;
  std::vector<struct pollfd> fds;
  char buf[4096];
  while (!stop_) {
    fds.clear();
    fds.push_back({wake_[0], POLLIN, 0});
    fds.push_back({listen_fd_, POLLIN, 0});
    for (const auto& c : clients) fds.push_back({c->fd, POLLIN, 0});
    int timeout = syncing_ ? 0 : 1000;
    if (::poll(fds.data(), fds.size(), timeout) < 0 && errno != EINTR) break;
    if (fds[0].revents & POLLIN) {
      char drain[64];
      while (::read(wake_[0], drain, sizeof(drain)) > 0) {
      }
    }
    if (fds[1].revents & POLLIN) {
      int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
      if (fd >= 0) {
        auto c = std::make_unique<Client>();
        c->fd = fd;
        clients.push_back(std::move(c));
      }
    }
    for (std::size_t i = 2; i < fds.size(); ++i) {
      if (!(fds[i].revents & (POLLIN | POLLHUP | POLLERR))) continue;
      Client& c = *clients[i - 2];
      ssize_t n = ::read(c.fd, buf, sizeof(buf));
      if (n <= 0) {
        if (n < 0 && errno == EINTR) continue;
        {
          std::lock_guard<std::mutex> lock(mu_);
          release(c);
        }
        ::close(c.fd);
        c.fd = -1;
        continue;
      }
      c.in.append(buf, std::size_t(n));
      std::size_t nl;
      while ((nl = c.in.find('\n')) != std::string::npos) {
        std::string line = c.in.substr(0, nl);
        c.in.erase(0, nl + 1);
        onLine(c, line);
      }
    }
    std::erase_if(clients,
                  [](const std::unique_ptr<Client>& c) { return c->fd < 0; });
    {
      std::lock_guard<std::mutex> lock(mu_);
      ++rounds_;
    }
    sync_cv_.notify_all();
  }
  for (const auto& c : clients) ::close(c->fd);
}

void ShardMaster::sync() {
  std::unique_lock<std::mutex> lock(mu_);
  // The round under way may have polled before the event; the ones after
  // it see everything that happened before this call (a round may read a
  // dead worker's last request before its end of file).
  std::uint64_t want = rounds_ + 3;
  ++syncing_;
  (void)!::write(wake_[1], "s", 1);
  sync_cv_.wait_for(lock, std::chrono::seconds(5),
                    [&] { return rounds_ >= want || stop_; });
  --syncing_;
}

}  // namespace pipec::runtime::parallel
