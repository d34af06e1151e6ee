// The .pipe DSL front end: a buffer of the Session's SourceMgr into the AST
// that the YAML front end also produces, so sema's checks are shared.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "frontend/ast.h"
#include "ir/diagnostics.h"
#include "llvm/Support/SourceMgr.h"

namespace pipec::frontend {

/// Parses buffer `buffer_id` (the file at absolute `path`) into an AST file:
/// its imports, components and pipelines, every node located at its token.
/// Syntax and DSL-specific problems are reported to `diags`. Returns nullptr
/// when the file has syntax errors (all of them are reported).
std::unique_ptr<ast::File> loadDslBuffer(const llvm::SourceMgr& sm,
                                         unsigned buffer_id,
                                         llvm::StringRef path,
                                         ir::DiagnosticEngine& diags);

/// The canonical layout of the .pipe buffer `buffer_id`: one declaration
/// per line as written, two-space indentation by nesting, canonical spacing
/// between tokens, at most one blank line in a row, a blank line between
/// top-level declarations, comments kept. Idempotent. Returns false (after
/// reporting) when the buffer does not parse.
bool formatDslBuffer(const llvm::SourceMgr& sm, unsigned buffer_id,
                     ir::DiagnosticEngine& diags, std::string& out);

}  // namespace pipec::frontend
