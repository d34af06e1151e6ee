// Canonical JSON form of the IR: deterministic, sorted keys, optional
// locations.
#pragma once

#include <string>

#include "ir/ir.h"
#include "llvm/Support/JSON.h"
#include "llvm/Support/SourceMgr.h"

namespace pipec::ir {

struct DumpOptions {
  /// Adds "loc": "file:line:col" to declarations (needs `sm`).
  bool locations = false;
  const llvm::SourceMgr* sm = nullptr;
};

/// The whole module; local paths are written relative to module.root_dir.
llvm::json::Value toJson(const Module& module, const DumpOptions& opts = {});
/// Pretty-printed JSON text with a trailing newline.
std::string dumpJson(const Module& module, const DumpOptions& opts = {});

/// The canonical source spelling of a template (`$<<inputs.x>>`, `$[[...]]`).
std::string templateSource(const Template& t);

/// `path` relative to `base` when it is a local path below or beside it.
std::string relativePath(llvm::StringRef path, llvm::StringRef base);

}  // namespace pipec::ir
