// The processes of a step by job type, and the environment that ties a
// distributed job together on one machine (RUNTIME.md, "Job types").
#pragma once

#include <cstdint>
#include <set>
#include <string>
#include <vector>

#include "ir/env.h"
#include "ir/ir.h"
#include "llvm/ADT/ArrayRef.h"
#include "llvm/Support/Error.h"

namespace pipec::runtime {

/// One process of a step and what it gets on top of the step's environment.
struct ProcessSlot {
  /// Unique within the step; names its log (logs/<name>.log): "main",
  /// "rank-1", "chief-0", "ps-0", "worker-2".
  std::string name;
  /// "" for a lone process; "rank", "chief", "ps", "worker", "evaluator".
  std::string role;
  std::int64_t index = 0;
  /// 127.0.0.1 for the master; replicas of other roles get addresses of
  /// their own in 127.0.0.0/8.
  std::string address = "127.0.0.1";
  ir::EnvList env;
  /// Whether its exit decides the step. TensorFlow parameter servers and
  /// evaluators do not: they are stopped once chief and workers are done.
  bool decides = true;
};

/// Hands out ports that are free on given loopback addresses.
class PortPicker {
 public:
  virtual ~PortPicker();
  /// A port on which every address in `addresses` can listen now.
  virtual llvm::Expected<std::uint16_t> pick(
      llvm::ArrayRef<std::string> addresses) = 0;
};

/// Asks the kernel for a free port on the first address, checks it on the
/// others by binding, and never hands out the same port twice in a run.
class LoopbackPortPicker : public PortPicker {
 public:
  llvm::Expected<std::uint16_t> pick(
      llvm::ArrayRef<std::string> addresses) override;

 private:
  std::set<std::uint16_t> given_;
};

/// The processes of a step of job type `jt` with resources `r`: names,
/// roles, addresses; the environment is not filled in yet.
std::vector<ProcessSlot> processSlots(ir::JobType jt, const ir::Resources& r);

/// Fills in each slot's environment: RANK/WORLD_SIZE/MASTER_ADDR/MASTER_PORT
/// (pytorch, xgboost, multi-process command jobs), WORKER_ADDRS/WORKER_PORT
/// (xgboost with workers), TF_CONFIG (tensorflow with more than one
/// process), ELASTICBATCH_CONFIG (elasticbatch). Ports come from `ports`.
llvm::Error assignTopologyEnv(ir::JobType jt, const ir::Resources& r,
                              std::vector<ProcessSlot>& slots,
                              PortPicker& ports);

}  // namespace pipec::runtime
