// Process slots per job type, rank variables, loopback addresses, TF_CONFIG.
#include "lowering/topology.h"

#include <fmt/format.h>

#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/JSON.h"

namespace pipec::lowering {

namespace {

// Replica `index` of the role in address block `block` (0: the master or
// chief, whose first replica is 127.0.0.1): 127.<hi>.<block>.<lo>.
std::string replicaAddress(int block, std::int64_t index) {
  return fmt::format("127.{}.{}.{}", index / 255, block, index % 255 + 1);
}

// A command job has ranks when it starts several processes: several per
// instance, or an MPI distribution over several instances.
bool isRankJob(ir::JobType jt, const ir::Resources& r) {
  return jt == ir::JobType::PyTorch || jt == ir::JobType::XGBoost ||
         (jt == ir::JobType::Command && (r.process_count_per_instance > 1 ||
                                         (r.mpi && r.instance_count > 1)));
}

}  // namespace

std::vector<ProcessSlot> processSlots(ir::JobType jt, const ir::Resources& r) {
  std::vector<ProcessSlot> slots;
  auto add = [&](const char* role, std::int64_t count) {
    for (std::int64_t i = 0; i < count; ++i) {
      ProcessSlot s;
      s.role = role;
      s.index = i;
      s.name = std::string(role) + "-" + std::to_string(i);
      slots.push_back(std::move(s));
    }
  };
  if (isRankJob(jt, r)) {
    std::int64_t n = r.instance_count;
    if (jt != ir::JobType::XGBoost) n *= r.process_count_per_instance;
    add("rank", n);
    std::string world = std::to_string(n);
    std::int64_t ppi = r.process_count_per_instance;
    for (std::size_t i = 0; i < slots.size(); ++i) {
      ir::EnvList& e = slots[i].env;
      std::string rank = std::to_string(i);
      e.emplace_back("RANK", rank);
      e.emplace_back("WORLD_SIZE", world);
      if (ppi > 1 && jt != ir::JobType::XGBoost) {
        e.emplace_back("LOCAL_RANK", std::to_string(std::int64_t(i) % ppi));
        e.emplace_back("LOCAL_WORLD_SIZE", std::to_string(ppi));
        e.emplace_back("NODE_RANK", std::to_string(std::int64_t(i) / ppi));
      }
      if (jt == ir::JobType::Command) {
        e.emplace_back("OMPI_COMM_WORLD_RANK", rank);
        e.emplace_back("OMPI_COMM_WORLD_SIZE", world);
        e.emplace_back("OMPI_COMM_WORLD_LOCAL_RANK",
                       std::to_string(std::int64_t(i) % ppi));
        e.emplace_back("OMPI_COMM_WORLD_LOCAL_SIZE", std::to_string(ppi));
      }
    }
  } else if (jt == ir::JobType::TensorFlow) {
    // Without a distribution section, instance_count counts workers.
    bool roles = r.tf_chief || r.tf_ps || r.tf_worker || r.tf_evaluator;
    add("chief", r.tf_chief);
    add("ps", r.tf_ps);
    add("worker", roles ? r.tf_worker : r.instance_count);
    add("evaluator", r.tf_evaluator);
    for (ProcessSlot& s : slots)
      s.decides = s.role == "chief" || s.role == "worker";
  } else if (jt == ir::JobType::ElasticBatch) {
    add("worker", r.instance_count);
    for (ProcessSlot& s : slots) {
      std::string config = R"({"task":{"type":"worker","index":)" +
                           std::to_string(s.index) +
                           R"(},"environment":"local"})";
      s.env.emplace_back("ELASTICBATCH_CONFIG", config);
      // KubeDL's own spelling, for scripts written against it.
      s.env.emplace_back("ElASTICBATCH_CONFIG", config);
    }
  }
  if (slots.empty()) {
    ProcessSlot s;
    s.name = "main";
    slots.push_back(std::move(s));
  }
  return slots;
}

std::vector<std::pair<std::string, std::int64_t>> replicaCounts(
    const std::vector<ProcessSlot>& slots) {
  std::vector<std::pair<std::string, std::int64_t>> out;
  for (const ProcessSlot& s : slots) {
    std::string role = s.role.empty() ? "main" : s.role;
    if (out.empty() || out.back().first != role) out.emplace_back(role, 0);
    ++out.back().second;
  }
  return out;
}

std::vector<PortGroup> portGroups(ir::JobType jt, const ir::Resources& r,
                                  const std::vector<ProcessSlot>& slots) {
  std::vector<PortGroup> out;
  if (isRankJob(jt, r)) {
    out.push_back({PortGroup::Use::Master, {0}});
    if (jt == ir::JobType::XGBoost && slots.size() > 1) {
      PortGroup g{PortGroup::Use::Workers, {}};
      for (std::size_t i = 1; i < slots.size(); ++i) g.slots.push_back(i);
      out.push_back(std::move(g));
    }
  } else if (jt == ir::JobType::TensorFlow && slots.size() > 1) {
    PortGroup g{PortGroup::Use::TfCluster, {}};
    for (std::size_t i = 0; i < slots.size(); ++i) g.slots.push_back(i);
    out.push_back(std::move(g));
  }
  return out;
}

void assignLoopbackAddresses(ir::JobType jt, const ir::Resources& r,
                             std::vector<ProcessSlot>& slots) {
  if (isRankJob(jt, r)) {
    // Rank 0 is the master; workers keep addresses of their own.
    for (std::size_t i = 0; i < slots.size(); ++i)
      slots[i].address =
          i == 0 ? "127.0.0.1" : replicaAddress(1, std::int64_t(i) - 1);
    return;
  }
  for (ProcessSlot& s : slots) {
    int block = 1;
    if (s.role == "chief") block = 0;
    if (s.role == "ps") block = 2;
    if (s.role == "evaluator") block = 3;
    // Without a chief, workers take its block: worker 0 is 127.0.0.1.
    if (s.role == "worker" && jt == ir::JobType::TensorFlow && r.tf_chief == 0)
      block = 0;
    s.address = s.role.empty() ? "127.0.0.1" : replicaAddress(block, s.index);
  }
}

void bindEndpoints(ir::JobType jt, const ir::Resources& r,
                   std::vector<ProcessSlot>& slots,
                   const std::vector<std::uint16_t>& ports) {
  std::vector<PortGroup> groups = portGroups(jt, r, slots);
  for (std::size_t g = 0; g < groups.size() && g < ports.size(); ++g) {
    std::string port = std::to_string(ports[g]);
    const PortGroup& group = groups[g];
    switch (group.use) {
      case PortGroup::Use::Master:
        for (ProcessSlot& s : slots) {
          s.env.emplace_back("MASTER_ADDR", slots[0].address);
          s.env.emplace_back("MASTER_PORT", port);
        }
        break;
      case PortGroup::Use::Workers: {
        std::vector<std::string> addrs;
        for (std::size_t i : group.slots) addrs.push_back(slots[i].address);
        std::string joined = llvm::join(addrs, ",");
        for (ProcessSlot& s : slots) {
          s.env.emplace_back("WORKER_ADDRS", joined);
          s.env.emplace_back("WORKER_PORT", port);
        }
        break;
      }
      case PortGroup::Use::TfCluster: {
        llvm::json::Object cluster;
        for (const char* role : {"chief", "ps", "worker"}) {
          llvm::json::Array hosts;
          for (const ProcessSlot& s : slots)
            if (s.role == role) hosts.push_back(s.address + ":" + port);
          if (!hosts.empty()) cluster[role] = std::move(hosts);
        }
        llvm::json::Value cluster_value(std::move(cluster));
        for (ProcessSlot& s : slots) {
          llvm::json::Object config{
              {"cluster", cluster_value},
              {"task",
               llvm::json::Object{{"type", s.role}, {"index", s.index}}}};
          s.env.emplace_back(
              "TF_CONFIG",
              llvm::formatv("{0}", llvm::json::Value(std::move(config))).str());
        }
        break;
      }
    }
  }
}

}  // namespace pipec::lowering
