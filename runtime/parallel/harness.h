// The Python sources pipec writes out at run time (embedded from
// stdlib/harness/ when pipec is built).
#pragma once

#include <string>

#include "llvm/ADT/StringRef.h"

namespace pipec::runtime::parallel {

/// stdlib/harness/pipec_harness.py: the worker of a parallel step.
llvm::StringRef harnessSource();
/// stdlib/harness/pipec_tables.py: table slices as DataFrames or rows.
llvm::StringRef tablesSource();
/// stdlib/harness/pipec_elasticbatch.py: the ElasticBatch shard client.
llvm::StringRef elasticBatchClientSource();
/// stdlib/harness/pipec_aimaster.py: the AIMaster pod of an ElasticBatchJob
/// on Kubernetes (backends/k8s).
llvm::StringRef aimasterSource();
/// stdlib/harness/pipec_split.py: the engine's mini-batches made in Python,
/// for the targets that cannot call pipec (sh, Kubernetes pods).
llvm::StringRef splitSource();

/// Writes the Python modules (pipec_harness.py, pipec_tables.py,
/// pipec_elasticbatch.py) into `dir`, leaving files that are already
/// current alone; false with errno set on an error.
bool writePythonModules(const std::string& dir);

}  // namespace pipec::runtime::parallel
