// The AST of one file as JSON with source ranges: `pipec compile --emit=ast`.
#pragma once

#include <string>

#include "frontend/ast.h"
#include "llvm/Support/SourceMgr.h"

namespace pipec::frontend {

/// `file` as deterministic JSON (keys sorted, two-space indent): its
/// imports, its components and which one is the main one, every node with
/// its `range` as "LINE:COL-LINE:COL" (1-based, columns in bytes, the end
/// exclusive), resolved in `sm`. Fields that are absent or at their default
/// are left out. `name` is how the file is named at the top.
std::string dumpAst(const ast::File& file, llvm::StringRef name,
                    const llvm::SourceMgr& sm);

}  // namespace pipec::frontend
