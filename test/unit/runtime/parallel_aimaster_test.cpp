// The ElasticBatch AIMaster: shards handed out once, taken back from workers
// that die, and the Python client against it.
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <set>
#include <sstream>
#include <thread>

#include "runtime/parallel/aimaster.h"
#include "test/unit/runtime/parallel_test_util.h"

namespace pipec::runtime::parallel {
namespace {

// A raw protocol client.
class RawClient {
 public:
  explicit RawClient(const std::string& path) {
    fd_ = ::socket(AF_UNIX, SOCK_STREAM, 0);
    struct sockaddr_un addr = {};
    addr.sun_family = AF_UNIX;
    std::strncpy(addr.sun_path, path.c_str(), sizeof(addr.sun_path) - 1);
    EXPECT_EQ(::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)),
              0);
  }
  ~RawClient() { close(); }
  void close() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }
  std::string ask(const std::string& line) {
    std::string l = line + "\n";
    EXPECT_EQ(::write(fd_, l.data(), l.size()), ssize_t(l.size()));
    if (line.rfind("HELLO", 0) == 0) return "";
    std::string reply;
    char c;
    while (::read(fd_, &c, 1) == 1 && c != '\n') reply.push_back(c);
    return reply;
  }

 private:
  int fd_ = -1;
};

SourceOptions filesIn(const TempDir& t, int n, int per_shard) {
  for (int i = 0; i < n; ++i) t.write("in/f" + std::to_string(10 + i), "x");
  SourceOptions o;
  o.input_path = t.path() + "/in";
  o.mini_batch_size = std::uint64_t(per_shard);
  o.scratch_dir = t.sub("scratch");
  return o;
}

TEST(ParallelAIMaster, ShardsOfADeadWorkerGoBack) {
  TempDir t;
  Problem p;
  auto m = ShardMaster::start(filesIn(t, 10, 3), t.path() + "/sock",
                              t.sub("client"), p);
  ASSERT_TRUE(m) << p.message();
  RawClient a(t.path() + "/sock");
  a.ask("HELLO 0");
  std::string first = a.ask("NEXT");
  ASSERT_EQ(first.rfind("S 0 0 [", 0), 0u) << first;
  a.close();  // dies holding shard 0
  RawClient b(t.path() + "/sock");
  b.ask("HELLO 1");
  std::set<std::string> seen;
  std::string r;
  while ((r = b.ask("NEXT")) != "D") {
    if (r == "W 50") {  // a's shard is not back yet
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
      continue;
    }
    ASSERT_EQ(r[0], 'S') << r;
    seen.insert(r.substr(0, r.find(' ', 2)));
  }
  EXPECT_EQ(seen, (std::set<std::string>{"S 0", "S 1", "S 2", "S 3"}));
  ShardMaster::Stats s = m->stats();
  EXPECT_TRUE(s.all_produced);
  EXPECT_EQ(s.produced, 4u);
  EXPECT_EQ(s.finished, 4u);
  EXPECT_EQ(s.requeued, 1u);
  EXPECT_TRUE(m->finished());
}

TEST(ParallelAIMaster, WaitWhileAnotherWorkerHoldsTheLast) {
  TempDir t;
  Problem p;
  auto m = ShardMaster::start(filesIn(t, 2, 2), t.path() + "/sock",
                              t.sub("client"), p);
  ASSERT_TRUE(m);
  RawClient a(t.path() + "/sock"), b(t.path() + "/sock");
  EXPECT_EQ(a.ask("NEXT").substr(0, 3), "S 0");
  EXPECT_EQ(b.ask("NEXT"), "W 50");  // a may still die
  EXPECT_FALSE(m->finished());
  EXPECT_EQ(a.ask("NEXT"), "D");
  EXPECT_EQ(b.ask("NEXT"), "D");
  EXPECT_TRUE(m->waitFinished(std::chrono::milliseconds(1000)));
}

// A shard whose workers keep dying with it is given up after `max_losses`;
// sync() makes a closed connection count at once.
TEST(ParallelAIMaster, AShardLostTooOftenIsGivenUp) {
  TempDir t;
  Problem p;
  auto m = ShardMaster::start(filesIn(t, 4, 2), t.path() + "/sock",
                              t.sub("client"), p, /*max_losses=*/2);
  ASSERT_TRUE(m) << p.message();
  for (int life = 0; life < 2; ++life) {
    RawClient a(t.path() + "/sock");
    EXPECT_EQ(a.ask("NEXT").substr(0, 4), "S 0 ");
    a.close();
    m->sync();
  }
  EXPECT_EQ(m->givenUp(), std::vector<std::string>{"0 at f10"});
  RawClient b(t.path() + "/sock");
  EXPECT_EQ(b.ask("NEXT").substr(0, 4), "S 1 ");
  EXPECT_EQ(b.ask("NEXT"), "D");
  EXPECT_TRUE(m->finished());
  ShardMaster::Stats s = m->stats();
  EXPECT_EQ(s.given_up, 1u);
  EXPECT_EQ(s.requeued, 1u);
  EXPECT_EQ(s.finished, 1u);
}

// Without an input there are no shards: a worker is told so at once.
TEST(ParallelAIMaster, NoInputNoShards) {
  TempDir t;
  Problem p;
  auto m = ShardMaster::start(SourceOptions(), t.path() + "/sock",
                              t.sub("client"), p);
  ASSERT_TRUE(m) << p.message();
  EXPECT_TRUE(m->finished());
  RawClient a(t.path() + "/sock");
  EXPECT_EQ(a.ask("NEXT"), "D");
}

// Python workers use pipec_elasticbatch; one dies in the middle of a shard.
// Every file is processed once by a worker that finished its shard.
TEST(ParallelAIMaster, PythonClients) {
  TempDir t;
  Problem p;
  auto m = ShardMaster::start(filesIn(t, 30, 2), t.path() + "/sock",
                              t.sub("client"), p);
  ASSERT_TRUE(m);
  std::string script = t.write("worker.py", R"(
import os, sys
from pipec_elasticbatch import shards
out, die = sys.argv[1], sys.argv[2] == "die"
done = 0
for shard in shards():
    if die and done == 1:
        os._exit(9)
    with open(out, "a") as f:
        for path in shard:
            f.write(os.path.basename(path) + "\n")
    done += 1
)");
  // The first worker dies holding its second shard; the second one, started
  // after, finishes everything including that shard.
  auto runWorker = [&](int w) {
    pid_t pid = ::fork();
    if (pid == 0) {
      for (const auto& [k, v] : m->workerEnvironment(""))
        ::setenv(k.c_str(), v.c_str(), 1);
      std::string out = t.path() + "/out-" + std::to_string(w);
      ::execl(PIPEC_TEST_PYTHON, PIPEC_TEST_PYTHON, script.c_str(), out.c_str(),
              w == 0 ? "die" : "live", static_cast<char*>(nullptr));
      ::_exit(127);
    }
    int status = 0;
    ::waitpid(pid, &status, 0);
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  };
  EXPECT_EQ(runWorker(0), 9);
  // The master sees the closed connection on its own thread.
  for (int i = 0; i < 1000 && m->stats().requeued == 0; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  EXPECT_EQ(m->stats().requeued, 1u);
  EXPECT_EQ(runWorker(1), 0);
  std::multiset<std::string> files;
  for (int w = 0; w < 2; ++w) {
    std::ifstream in(t.path() + "/out-" + std::to_string(w));
    std::string line;
    while (std::getline(in, line)) files.insert(line);
  }
  EXPECT_EQ(files.size(), 30u);
  EXPECT_EQ(std::set<std::string>(files.begin(), files.end()).size(), 30u);
  EXPECT_TRUE(m->finished());
  EXPECT_EQ(m->stats().requeued, 1u);
}

}  // namespace
}  // namespace pipec::runtime::parallel
