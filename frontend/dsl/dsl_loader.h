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

/// What reading one version of a .pipe file leaves for reading the next:
/// the AST and diagnostics of each chunk of top-level declarations, by its
/// text. Opaque outside the DSL front end.
class DslMemo {
 public:
  DslMemo();
  ~DslMemo();
  DslMemo(const DslMemo&) = delete;
  DslMemo& operator=(const DslMemo&) = delete;
  struct Impl;
  std::unique_ptr<Impl> impl;
};

/// Parses buffer `buffer_id` (the file at absolute `path`) into an AST file:
/// its imports, components and pipelines, every node located at its token.
/// Syntax and DSL-specific problems are reported to `diags`. Returns nullptr
/// when the file has syntax errors (all of them are reported).
///
/// With `memo` (kept by the caller from the previous version of the same
/// file), only the declarations whose text changed are lexed, parsed and
/// built again; the rest are reused, moved to where they now are. The AST
/// and the diagnostics are exactly those of reading the text afresh.
///
/// With `hold`, the parse of a fresh read (tree and tokens) is handed to it
/// instead of being freed here (Session::holdParses()).
std::unique_ptr<ast::File> loadDslBuffer(
    const llvm::SourceMgr& sm, unsigned buffer_id, llvm::StringRef path,
    ir::DiagnosticEngine& diags, DslMemo* memo = nullptr,
    std::shared_ptr<const void>* hold = nullptr);

/// Where the top-level declarations of a .pipe text may start: the byte
/// offset of each line (after the first) whose first word is `import`,
/// `component`, `parallel` or `pipeline` followed by a blank, outside
/// comments and strings. A cheap scan, not a parse: the chunks between
/// these offsets are checked by parsing each of them.
std::vector<std::size_t> dslDeclarationStarts(llvm::StringRef text);

/// The canonical layout of the .pipe buffer `buffer_id`: one declaration
/// per line as written, two-space indentation by nesting, canonical spacing
/// between tokens, at most one blank line in a row, a blank line between
/// top-level declarations, comments kept. Idempotent. Returns false (after
/// reporting) when the buffer does not parse.
bool formatDslBuffer(const llvm::SourceMgr& sm, unsigned buffer_id,
                     ir::DiagnosticEngine& diags, std::string& out);

}  // namespace pipec::frontend
