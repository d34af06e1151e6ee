// `pipec compile --emit=plan`: the lowered form of every leaf step as
// deterministic JSON.
#pragma once

#include <string>
#include <vector>

#include "ir/flatten.h"
#include "llvm/Support/Error.h"
#include "llvm/Support/JSON.h"
#include "lowering/step.h"

namespace pipec::lowering {

/// The plan of `steps` (lowered from `flat`); local paths are written
/// relative to `root_dir`.
llvm::json::Value planJson(const ir::FlatPipeline& flat,
                           const std::vector<LoweredStep>& steps,
                           llvm::StringRef root_dir);

/// Pretty-printed, with a trailing newline.
std::string dumpPlan(const ir::FlatPipeline& flat,
                     const std::vector<LoweredStep>& steps,
                     llvm::StringRef root_dir);

}  // namespace pipec::lowering
