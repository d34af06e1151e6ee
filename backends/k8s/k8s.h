// `pipec compile --target k8s`: a lowered pipeline as Kubernetes manifests
// (KubeDL jobs, batch/v1 Jobs, Indexed Jobs for parallel steps, one Argo
// Workflow for a pipeline), as deterministic multi-document YAML.
#pragma once

#include <map>
#include <string>
#include <utility>
#include <vector>

#include "ir/diagnostics.h"
#include "ir/flatten.h"
#include "ir/ir.h"
#include "llvm/ADT/ArrayRef.h"
#include "llvm/ADT/STLFunctionalExtras.h"
#include "llvm/Support/raw_ostream.h"
#include "lowering/step.h"

namespace pipec::backends::k8s {

/// What the user chooses about the cluster (BACKENDS.md, "Options").
struct Options {
  std::string name_space = "default";
  /// Image per component name, or step name for an inline component
  /// (`--image NAME=IMAGE`); wins over the component's own image.
  std::map<std::string, std::string> images;
  /// The run's PersistentVolumeClaim; empty: `<pipeline>-data`.
  std::string claim;
  std::string claim_size = "10Gi";
  std::string storage_class;    ///< empty: the cluster's default class
  std::string service_account;  ///< empty: the namespace's default
  /// Emit the one step's job (and its ConfigMaps and claim), no Workflow.
  bool single = false;
  /// The Python files of the parallel harness (file name, text), shipped in
  /// a ConfigMap when a parallel step is present.
  std::vector<std::pair<std::string, std::string>> harness;
  /// A local code folder of at most this many bytes goes into a ConfigMap.
  std::uint64_t code_limit = 512 * 1024;
};

/// Where a step's files are in its pods: the root the caller of
/// emitManifests() lowers every step with.
inline constexpr const char* kMlRoot = "/ml";

/// The manifests of the steps `chosen` of `flat` (every step, or the one
/// of `opts.single`) as multi-document YAML, appended to `out`. `lower(k,
/// s)` lowers `chosen[k]` with /ml as root over `s` (lowering::lowerStep()
/// with a LoweredStep to write over); it is called once per step, in
/// order, and each step is written as soon as it is lowered and dropped
/// after (only one step of each shape is kept for the Workflow's
/// templates). `name` names the pipeline (or the lone component);
/// `root_dir` is where relative local paths start. What the cluster cannot
/// run is reported to `diags` (E15xx) after what the lowering reported,
/// and only when the lowering reported no error. Returns false when an
/// error was reported: `out` (and what went to `sink`) is then
/// meaningless. With `sink`, the text goes there as it is made (`out` is
/// the buffer, left empty), so that a large pipeline's manifests are never
/// whole in memory; it gets chunks of about 128 KiB, which an unbuffered
/// sink writes without another copy.
bool emitManifests(
    llvm::StringRef name, const ir::FlatPipeline& flat,
    llvm::ArrayRef<std::size_t> chosen,
    llvm::function_ref<void(std::size_t, lowering::LoweredStep&)> lower,
    llvm::StringRef root_dir, const Options& opts, ir::DiagnosticEngine& diags,
    std::string& out, llvm::raw_ostream* sink = nullptr);

/// `text` as a DNS-1035 label of at most `max` characters: lower case,
/// other characters as '-', starting with a letter; when it had to be cut,
/// the end is replaced by '-' and 8 hex digits of a hash of `text`.
std::string dnsLabel(llvm::StringRef text, std::size_t max = 63);

}  // namespace pipec::backends::k8s
