// Structural invariants of the IR; a violation is a bug in pipec, not a user
// error.
#pragma once

#include "ir/ir.h"
#include "llvm/Support/Error.h"

namespace pipec::ir {

/// Checks every invariant sema promises (names resolve, deps and order agree,
/// templates name declared ports). Returns all violations in one error.
llvm::Error verify(const Module& module);

}  // namespace pipec::ir
