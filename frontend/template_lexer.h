// Splits strings into text and `$<<...>>` / `${{...}}` bindings and `$[[...]]`
// groups.
#pragma once

#include "frontend/ast.h"
#include "ir/diagnostics.h"
#include "llvm/ADT/StringRef.h"

namespace pipec::frontend {

/// Run-time tokens that Azure ML resolves when a job runs (`${{name}}`).
bool isRuntimeToken(llvm::StringRef path);

/// Lexes `value`, the text of a scalar written at `where` in a buffer ending
/// at `buffer_end`. Bindings are located by finding their text in the source
/// (so folded and quoted scalars still get exact columns). Unterminated
/// delimiters and nested `$[[` are reported to `diags`.
ast::TemplateString lexTemplate(llvm::StringRef value, llvm::SMRange where,
                                const char* buffer_end,
                                ir::DiagnosticEngine& diags);

/// True when `value` contains `$<<`, `${{` or `$[[`.
bool mayHoldBindings(llvm::StringRef value);

}  // namespace pipec::frontend
