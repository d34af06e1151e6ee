// The processes of a step by job type (RUNTIME.md, "Job types"): roles,
// replicas, ranks, and the environment that ties them together once a
// target has given them addresses and ports.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "ir/ir.h"

namespace pipec::lowering {

/// One process of a step and what it gets on top of the step's environment.
struct ProcessSlot {
  /// Unique within the step; names its log (logs/<name>.log): "main",
  /// "rank-1", "chief-0", "ps-0", "worker-2".
  std::string name;
  /// "" for a lone process; "rank", "chief", "ps", "worker", "evaluator".
  std::string role;
  std::int64_t index = 0;
  /// Filled in by the target (bindEndpoints); empty in the plan.
  std::string address;
  /// What the process gets that does not depend on addresses: RANK,
  /// WORLD_SIZE, LOCAL_RANK..., OMPI_COMM_WORLD_*, ELASTICBATCH_CONFIG.
  ir::EnvList env;
  /// Whether its exit decides the step. TensorFlow parameter servers and
  /// evaluators do not: they are stopped once chief and workers are done.
  bool decides = true;
};

/// The processes of a step of job type `jt` with resources `r`, with the
/// environment that does not depend on addresses.
std::vector<ProcessSlot> processSlots(ir::JobType jt, const ir::Resources& r);

/// Replica counts per role, as a cluster target declares them: "rank" ->
/// n, "chief" -> 1, "worker" -> 4, ...; one entry "main" for a lone process.
std::vector<std::pair<std::string, std::int64_t>> replicaCounts(
    const std::vector<ProcessSlot>& slots);

/// The ports a step's processes need: each group is one port on which all
/// the listed slots listen.
struct PortGroup {
  enum class Use : std::uint8_t { Master, Workers, TfCluster };
  Use use;
  std::vector<std::size_t> slots;
};
std::vector<PortGroup> portGroups(ir::JobType jt, const ir::Resources& r,
                                  const std::vector<ProcessSlot>& slots);

/// On one machine: every process an address of its own in 127.0.0.0/8
/// (the master or chief at 127.0.0.1), so that a role's replicas share one
/// port as they do on a cluster.
void assignLoopbackAddresses(ir::JobType jt, const ir::Resources& r,
                             std::vector<ProcessSlot>& slots);

/// Adds MASTER_ADDR/MASTER_PORT, WORKER_ADDRS/WORKER_PORT and TF_CONFIG to
/// the slots' environments, given their addresses and one port per group of
/// portGroups() (in its order).
void bindEndpoints(ir::JobType jt, const ir::Resources& r,
                   std::vector<ProcessSlot>& slots,
                   const std::vector<std::uint16_t>& ports);

}  // namespace pipec::lowering
