// `pipec compile --target azureml`: a pipeline (or a lone component) as
// Azure ML CLI v2 YAML that `az ml job create` (or `az ml component create`)
// takes, deterministic, with every value quoted so that it reads back as
// written.
#pragma once

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "ir/diagnostics.h"
#include "ir/ir.h"

namespace pipec::backends::azureml {

struct Options {
  /// Absolute folder the emitted files are written to: relative local paths
  /// (code folders, data) are written relative to it.
  std::string out_dir;
  /// Components as files of their own (`components/NAME.yml`, referenced
  /// as `component: ./components/NAME.yml`) instead of inline mappings.
  bool separate_components = false;
};

/// What is written: the main file, and with `separate_components` the
/// component files, each a path relative to `Options::out_dir` and its
/// text, sorted by path.
struct Files {
  std::string main;
  std::vector<std::pair<std::string, std::string>> components;
  /// The tree `main` was written from: freed with the Files, or, right
  /// before the process ends, left to the operating system (a pipeline of
  /// 10,000 jobs is some 500,000 nodes).
  std::shared_ptr<void> tree;
};

/// The Azure ML YAML of `module`'s root: a pipeline job (`type: pipeline`)
/// for a pipeline, a component spec for a lone component. What Azure ML
/// cannot express is reported to `diags` (E162x errors, W162x warnings with
/// a note saying what to do); returns false after an error, and then
/// `out` is meaningless.
bool emitAzure(const ir::Module& module, const Options& opts, Files& out,
               ir::DiagnosticEngine& diags);

}  // namespace pipec::backends::azureml
