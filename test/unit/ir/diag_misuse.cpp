// Misuses of typed diagnostics, each of which must not compile (MISUSE=1..8;
// test/unit/CMakeLists.txt expects each compiler message); with MISUSE=0 the
// same calls, written correctly, compile.
#include <cstdint>

#include "ir/diagnostics.h"

namespace pipec::ir {

void misuse([[maybe_unused]] DiagnosticEngine& diags) {
#if MISUSE == 0
  diags.report(llvm::SMRange(), diag::FileNotFound, "a.yaml", "gone");
  diags.report(llvm::SMRange(), diag::FileTooLarge, llvm::StringRef("a.yaml"),
               std::uint64_t(5), 4u);
  [[maybe_unused]] constexpr DiagDef<diag::Byte> ok{DiagKind::InvalidUtf8,
                                                    "byte 0x{:02X}"};
#elif MISUSE == 1  // one argument too few
  diags.report(llvm::SMRange(), diag::FileNotFound, "a.yaml");
#elif MISUSE == 2  // a number where a text is declared
  diags.report(llvm::SMRange(), diag::FileNotFound, "a.yaml", 2);
#elif MISUSE == 3  // a signed int where a Count is declared (narrowing)
  int size = -1;
  diags.report(llvm::SMRange(), diag::FileTooLarge, "a.yaml", size, 4u);
#elif MISUSE == 4  // a spec that does not suit the declared type
  [[maybe_unused]] constexpr DiagDef<diag::Text> bad{DiagKind::InvalidUtf8,
                                                     "byte 0x{:02X}"};
#elif MISUSE == 5  // a declared argument the format never uses
  [[maybe_unused]] constexpr DiagDef<diag::Text, diag::Text> bad{
      DiagKind::FileNotFound, "cannot open '{}'"};
#elif MISUSE == 6  // a replacement field beyond the declared arguments
  [[maybe_unused]] constexpr DiagDef<diag::Text> bad{DiagKind::FileNotFound,
                                                     "cannot open '{}': {}"};
#elif MISUSE == 7  // a message without a word of its own
  [[maybe_unused]] constexpr DiagDef<diag::Text> bad{DiagKind::DslSyntax, "{}"};
#elif MISUSE == 8  // the kind's identity instead of its typed entry
  diags.report(llvm::SMRange(), DiagKind::FileNotFound, "a.yaml", "gone");
#endif
}

}  // namespace pipec::ir
