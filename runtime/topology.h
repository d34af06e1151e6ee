// The processes of a step on this machine: loopback addresses and free
// ports (the rest is the lowering's, lowering/topology.h).
#pragma once

#include <cstdint>
#include <set>
#include <string>
#include <vector>

#include "ir/ir.h"
#include "llvm/ADT/ArrayRef.h"
#include "llvm/Support/Error.h"
#include "lowering/topology.h"

namespace pipec::runtime {

using lowering::ProcessSlot;

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

/// The processes of a step (lowering::processSlots) with the addresses
/// they get on this machine (lowering::assignLoopbackAddresses).
std::vector<ProcessSlot> processSlots(ir::JobType jt, const ir::Resources& r);

/// Picks a free port for each of the step's port groups from `ports` and
/// adds the variables that name them (lowering::bindEndpoints).
llvm::Error assignTopologyEnv(ir::JobType jt, const ir::Resources& r,
                              std::vector<ProcessSlot>& slots,
                              PortPicker& ports);

}  // namespace pipec::runtime
