// Process slots per job type, loopback addresses, free ports, TF_CONFIG.
#include "runtime/topology.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include <fmt/format.h>

#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/JSON.h"

namespace pipec::runtime {

namespace {

// Replica `index` of the role in address block `block` (0: the master or
// chief, whose first replica is 127.0.0.1): 127.<hi>.<block>.<lo>.
std::string replicaAddress(int block, std::int64_t index) {
  return fmt::format("127.{}.{}.{}", index / 255, block, index % 255 + 1);
}

bool isRankJob(ir::JobType jt, const ir::Resources& r) {
  return jt == ir::JobType::PyTorch || jt == ir::JobType::XGBoost ||
         (jt == ir::JobType::Command && r.process_count_per_instance > 1);
}

// Binds a TCP socket to addr:port; returns the socket (to be closed) or -1.
int bindTo(const std::string& addr, std::uint16_t port) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  sockaddr_in sa;
  std::memset(&sa, 0, sizeof sa);
  sa.sin_family = AF_INET;
  sa.sin_port = htons(port);
  if (::inet_pton(AF_INET, addr.c_str(), &sa.sin_addr) != 1 ||
      ::bind(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

std::string hostPort(const std::string& addr, std::uint16_t port) {
  return addr + ":" + std::to_string(port);
}

}  // namespace

PortPicker::~PortPicker() = default;

llvm::Expected<std::uint16_t> LoopbackPortPicker::pick(
    llvm::ArrayRef<std::string> addresses) {
  assert(!addresses.empty());
  for (int attempt = 0; attempt < 64; ++attempt) {
    int first = bindTo(addresses[0], 0);
    if (first < 0) break;
    sockaddr_in sa;
    socklen_t len = sizeof sa;
    ::getsockname(first, reinterpret_cast<sockaddr*>(&sa), &len);
    std::uint16_t port = ntohs(sa.sin_port);
    std::vector<int> held{first};
    bool ok = !given_.count(port);
    for (std::size_t i = 1; ok && i < addresses.size(); ++i) {
      int fd = bindTo(addresses[i], port);
      if (fd < 0)
        ok = false;
      else
        held.push_back(fd);
    }
    for (int fd : held) ::close(fd);
    if (ok) {
      given_.insert(port);
      return port;
    }
  }
  return llvm::createStringError(
      std::error_code(EADDRINUSE, std::generic_category()),
      "no port is free on %s", addresses[0].c_str());
}

std::vector<ProcessSlot> processSlots(ir::JobType jt, const ir::Resources& r) {
  std::vector<ProcessSlot> slots;
  auto add = [&](const char* role, int block, std::int64_t count) {
    for (std::int64_t i = 0; i < count; ++i) {
      ProcessSlot s;
      s.role = role;
      s.index = i;
      s.name = std::string(role) + "-" + std::to_string(i);
      s.address = replicaAddress(block, i);
      slots.push_back(std::move(s));
    }
  };
  if (isRankJob(jt, r)) {
    std::int64_t n = r.instance_count;
    if (jt != ir::JobType::XGBoost) n *= r.process_count_per_instance;
    add("rank", 1, n);
    // Rank 0 is the master; workers keep addresses of their own.
    slots[0].address = "127.0.0.1";
    for (std::int64_t i = 1; i < n; ++i)
      slots[std::size_t(i)].address = replicaAddress(1, i - 1);
  } else if (jt == ir::JobType::TensorFlow) {
    // Without a distribution section, instance_count counts workers.
    bool roles = r.tf_chief || r.tf_ps || r.tf_worker || r.tf_evaluator;
    add("chief", 0, r.tf_chief);
    add("ps", 2, r.tf_ps);
    add("worker", 1, roles ? r.tf_worker : r.instance_count);
    add("evaluator", 3, r.tf_evaluator);
    for (ProcessSlot& s : slots)
      s.decides = s.role == "chief" || s.role == "worker";
    // Without a chief, workers take its block: worker 0 is 127.0.0.1.
    if (r.tf_chief == 0)
      for (ProcessSlot& s : slots)
        if (s.role == "worker") s.address = replicaAddress(0, s.index);
  } else if (jt == ir::JobType::ElasticBatch) {
    add("worker", 1, r.instance_count);
  }
  if (slots.empty()) {
    ProcessSlot s;
    s.name = "main";
    slots.push_back(std::move(s));
  }
  return slots;
}

llvm::Error assignTopologyEnv(ir::JobType jt, const ir::Resources& r,
                              std::vector<ProcessSlot>& slots,
                              PortPicker& ports) {
  if (isRankJob(jt, r)) {
    auto master_port = ports.pick({std::string("127.0.0.1")});
    if (!master_port) return master_port.takeError();
    std::string worker_addrs;
    std::uint16_t worker_port = 0;
    bool workers = jt == ir::JobType::XGBoost && slots.size() > 1;
    if (workers) {
      std::vector<std::string> addrs;
      for (std::size_t i = 1; i < slots.size(); ++i)
        addrs.push_back(slots[i].address);
      auto p = ports.pick(addrs);
      if (!p) return p.takeError();
      worker_port = *p;
      worker_addrs = llvm::join(addrs, ",");
    }
    std::string n = std::to_string(slots.size());
    std::int64_t ppi = r.process_count_per_instance;
    for (std::size_t i = 0; i < slots.size(); ++i) {
      ir::EnvList& e = slots[i].env;
      std::string rank = std::to_string(i);
      e.emplace_back("RANK", rank);
      e.emplace_back("WORLD_SIZE", n);
      e.emplace_back("MASTER_ADDR", "127.0.0.1");
      e.emplace_back("MASTER_PORT", std::to_string(*master_port));
      if (ppi > 1 && jt != ir::JobType::XGBoost) {
        e.emplace_back("LOCAL_RANK", std::to_string(std::int64_t(i) % ppi));
        e.emplace_back("LOCAL_WORLD_SIZE", std::to_string(ppi));
        e.emplace_back("NODE_RANK", std::to_string(std::int64_t(i) / ppi));
      }
      if (jt == ir::JobType::Command) {
        e.emplace_back("OMPI_COMM_WORLD_RANK", rank);
        e.emplace_back("OMPI_COMM_WORLD_SIZE", n);
        e.emplace_back("OMPI_COMM_WORLD_LOCAL_RANK",
                       std::to_string(std::int64_t(i) % ppi));
        e.emplace_back("OMPI_COMM_WORLD_LOCAL_SIZE", std::to_string(ppi));
      }
      if (workers) {
        e.emplace_back("WORKER_ADDRS", worker_addrs);
        e.emplace_back("WORKER_PORT", std::to_string(worker_port));
      }
    }
    return llvm::Error::success();
  }
  if (jt == ir::JobType::TensorFlow && slots.size() > 1) {
    std::vector<std::string> addrs;
    for (const ProcessSlot& s : slots) addrs.push_back(s.address);
    auto port = ports.pick(addrs);
    if (!port) return port.takeError();
    llvm::json::Object cluster;
    for (const char* role : {"chief", "ps", "worker"}) {
      llvm::json::Array hosts;
      for (const ProcessSlot& s : slots)
        if (s.role == role) hosts.push_back(hostPort(s.address, *port));
      if (!hosts.empty()) cluster[role] = std::move(hosts);
    }
    llvm::json::Value cluster_value(std::move(cluster));
    for (ProcessSlot& s : slots) {
      llvm::json::Object config{
          {"cluster", cluster_value},
          {"task", llvm::json::Object{{"type", s.role}, {"index", s.index}}}};
      s.env.emplace_back(
          "TF_CONFIG",
          llvm::formatv("{0}", llvm::json::Value(std::move(config))).str());
    }
    return llvm::Error::success();
  }
  if (jt == ir::JobType::ElasticBatch) {
    for (ProcessSlot& s : slots) {
      if (s.role != "worker") continue;
      std::string config = R"({"task":{"type":"worker","index":)" +
                           std::to_string(s.index) +
                           R"(},"environment":"local"})";
      s.env.emplace_back("ELASTICBATCH_CONFIG", config);
      // KubeDL's own spelling, for scripts written against it.
      s.env.emplace_back("ElASTICBATCH_CONFIG", config);
    }
  }
  return llvm::Error::success();
}

}  // namespace pipec::runtime
