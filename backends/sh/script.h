// `pipec compile --target sh`: a pipeline as one POSIX shell script that
// makes the same run as `pipec run` (BACKENDS.md, "Shell").
#pragma once

#include <string>

#include "ir/diagnostics.h"
#include "ir/flatten.h"
#include "ir/ir.h"
#include "llvm/Support/raw_ostream.h"

namespace pipec::backends::sh {

struct ScriptOptions {
  /// Named in the script's header ("examples/basic/pipeline.yaml").
  std::string source;
};

/// Writes the script that runs `flat` (flattened from `root`) to `out`, a
/// step at a time as each is lowered. Reports what the script cannot run
/// (E16xx) to `diags`; returns false when there was an error, and then
/// what was written is no script (the caller drops it).
bool emitScript(const ir::Component& root, const ir::FlatPipeline& flat,
                const ScriptOptions& opts, llvm::raw_ostream& out,
                ir::DiagnosticEngine& diags);

}  // namespace pipec::backends::sh
