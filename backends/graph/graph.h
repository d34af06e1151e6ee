// `pipec graph`: a pipeline as a picture (DOT for Graphviz, or Mermaid):
// steps as nodes, wires labelled with channels and types, pipeline inputs
// and outputs as nodes of their own, nested pipelines as clusters.
#pragma once

#include <map>
#include <string>

#include "ir/ir.h"

namespace pipec::backends::graph {

enum class Format : std::uint8_t { Dot, Mermaid };

struct GraphOptions {
  /// A status per step ("ok", "failed", "skipped", "running", "not run"),
  /// by qualified name ("outer.inner"); shown on the step and in its color.
  std::map<std::string, std::string> status;
};

/// The picture of `root` (a pipeline, or a lone component as one step).
/// Deterministic: the same IR gives the same text.
std::string render(const ir::Component& root, Format format,
                   const GraphOptions& opts = {});

}  // namespace pipec::backends::graph
