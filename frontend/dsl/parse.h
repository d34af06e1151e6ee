// Private to frontend/dsl: runs the ANTLR lexer and parser over a .pipe
// buffer and turns their errors into located diagnostics. ANTLR types stay
// behind this header; it is never installed or included outside dsl/.
#pragma once

#include <memory>

#include "PipeLexer.h"
#include "PipeParser.h"
#include "antlr4-runtime.h"
#include "ir/diagnostics.h"
#include "llvm/ADT/StringRef.h"

namespace pipec::frontend::dsl {

/// Feeds the buffer's bytes to ANTLR one per symbol, so token offsets are
/// byte offsets into the SourceMgr buffer (ANTLRInputStream would decode
/// UTF-8 and count code points).
class ByteStream : public antlr4::ANTLRInputStream {
 public:
  explicit ByteStream(llvm::StringRef bytes);
};

/// Everything a parse owns; the tree points into it.
struct Parse {
  std::unique_ptr<ByteStream> input;
  std::unique_ptr<pipec_dsl_gen::PipeLexer> lexer;
  std::unique_ptr<antlr4::CommonTokenStream> tokens;
  std::unique_ptr<pipec_dsl_gen::PipeParser> parser;
  pipec_dsl_gen::PipeParser::FileContext* tree = nullptr;
  const char* base = nullptr;  ///< the buffer's first byte
  unsigned errors = 0;         ///< lexical and syntax errors reported
  /// The innermost bracket left open at the end of the file, if any.
  antlr4::Token* unclosed = nullptr;
};

/// The deepest bracket nesting a .pipe file may have.
constexpr unsigned kMaxNesting = 64;

/// Rejects NUL bytes and invalid UTF-8 before ANTLR sees the text. False
/// after reporting the first problem.
bool checkBytes(llvm::StringRef text, ir::DiagnosticEngine& diags);

/// Lexes and parses `text` (which starts at `base` inside a SourceMgr
/// buffer). Every problem is reported to `diags`; `errors` counts them. When
/// `tree_wanted` is false only the token stream is built and checked. With
/// `probe`, a text that does not parse cleanly in SLL mode is not parsed
/// again to report its errors: `tree` stays null and `errors` is set.
std::unique_ptr<Parse> parse(llvm::StringRef text, ir::DiagnosticEngine& diags,
                             bool tree_wanted = true, bool probe = false);

/// The located range of a token.
llvm::SMRange tokenRange(const Parse& p, const antlr4::Token* t);
/// The located range from `from`'s start to `to`'s end.
llvm::SMRange spanRange(const Parse& p, const antlr4::Token* from,
                        const antlr4::Token* to);
/// The source bytes of a token.
llvm::StringRef tokenText(const Parse& p, const antlr4::Token* t);

}  // namespace pipec::frontend::dsl
