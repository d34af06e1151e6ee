// The variables of a multi-process command job's ranks as one pod template
// of an Indexed Job: the values every rank shares, and the ones a rank
// derives from its JOB_COMPLETION_INDEX in a sh prologue.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "llvm/ADT/ArrayRef.h"
#include "llvm/Support/Error.h"
#include "lowering/topology.h"

namespace pipec::backends::k8s {

/// A variable whose value is a function of the rank's index i.
struct DerivedVariable {
  enum class Op : std::uint8_t { Index, Mod, Div };
  std::string name;
  Op op = Op::Index;
  std::int64_t by = 1;  ///< the divisor of Mod and Div
  /// The value for index `i`.
  std::int64_t at(std::int64_t i) const;
};

/// The variables of the slots of one step, split into what every slot has
/// alike and what follows from the slot's index.
struct RankVariables {
  std::vector<std::pair<std::string, std::string>> shared;  ///< slot 0's order
  std::vector<DerivedVariable> derived;                     ///< slot 0's order
};

/// Splits the environment of `slots` (the processes of one step, slot i
/// being index i, each with the same variable names in the same order):
/// a variable is shared when every slot has the same value, else derived
/// when its values are i, i % m or i / m for one m. Anything else is an
/// error naming the variable: the lowering gave a topology one pod
/// template cannot express.
llvm::Expected<RankVariables> rankVariables(
    llvm::ArrayRef<lowering::ProcessSlot> slots);

/// The POSIX sh text that checks that JOB_COMPLETION_INDEX is an index of
/// 0..`count`-1 (else exits 2 saying so), exports the derived variables for
/// it and execs its arguments ("$@"), to be run as
/// `sh -c TEXT pipec WORD...`. Its size does not depend on `count`.
std::string rankPrologue(const RankVariables& vars, std::int64_t count);

}  // namespace pipec::backends::k8s
