// The fixed text of every script the shell backend writes.
#pragma once

#include <string>

#include "llvm/ADT/StringRef.h"

namespace pipec::backends::sh {

/// Option parsing, the run folder, and the helpers the step functions call.
llvm::StringRef prelude();
/// The scheduler: starts ready steps up to --jobs, skips the dependants of
/// a failed step, stops everything on INT/TERM/HUP, and reports.
llvm::StringRef epilogue();
/// `pipec_harness DIR`: writes the parallel-step harness into DIR.
std::string harnessFunction();

}  // namespace pipec::backends::sh
