// The settings a parallel step runs with: the spec's, overridden by the PRS
// flags in the rendered program arguments, with run-time defaults filled in.
#pragma once

#include <string>
#include <vector>

#include "ir/ir.h"
#include "runtime/parallel/problem.h"

namespace pipec::runtime::parallel {

/// Applies `--error_threshold`, `--allowed_failed_percent`,
/// `--task_overhead_timeout`, `--progress_update_timeout`,
/// `--first_task_creation_timeout`, `--copy_logs_to_parent` and
/// `--resource_monitor_interval` (as `--flag VALUE` or `--flag=VALUE`) from
/// `args` to `s`. Timeouts are seconds unless they carry a unit. The flags
/// stay in the arguments: entry scripts parse them with parse_known_args.
/// Returns false with `problem` set on a value that does not parse.
bool applyArgumentOverrides(const std::vector<std::string>& args,
                            ir::ParallelSettings& s, Problem& problem);

/// progress_update_timeout when the step does not set one: long enough for a
/// mini-batch to run, time out and have its worker replaced.
std::uint64_t derivedProgressTimeoutMs(const ir::ParallelSettings& s);

}  // namespace pipec::runtime::parallel
