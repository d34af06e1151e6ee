// Run-time defaults of the settings a parallel step runs with (the spec's,
// where the lowering has already applied the PRS flags of program_arguments).
#pragma once

#include "ir/ir.h"

namespace pipec::runtime::parallel {

/// progress_update_timeout when the step does not set one: long enough for a
/// mini-batch to run, time out and have its worker replaced.
std::uint64_t derivedProgressTimeoutMs(const ir::ParallelSettings& s);

}  // namespace pipec::runtime::parallel
