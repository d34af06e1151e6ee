// libFuzzer target over the .pipe front end: parse, build the AST, run sema
// through the Session, and format. Any crash, hang or leak is a bug; every
// input must end in diagnostics or a module.
#include <cstddef>
#include <cstdint>
#include <string>

#include "frontend/dsl/dsl_loader.h"
#include "frontend/session.h"
#include "llvm/Support/MemoryBuffer.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data,
                                      std::size_t size) {
  std::string text(reinterpret_cast<const char*>(data), size);
  {
    pipec::frontend::SessionOptions opts;
    opts.project_root = "/nonexistent-fuzz-root";
    pipec::frontend::Session session(opts);
    pipec::ir::StoringDiagnosticConsumer sink;
    session.setDiagnosticConsumer(sink);
    session.update("/nonexistent-fuzz-root/input.pipe", text);
    // An IR that does not verify is a bug: crash so the fuzzer keeps it.
    if (!session.check("/nonexistent-fuzz-root/input.pipe")) std::abort();
  }
  {
    llvm::SourceMgr sm;
    pipec::ir::StoringDiagnosticConsumer sink;
    pipec::ir::DiagnosticEngine diags(sm, sink);
    unsigned id = sm.AddNewSourceBuffer(
        llvm::MemoryBuffer::getMemBufferCopy(text, "input.pipe"),
        llvm::SMLoc());
    std::string out;
    pipec::frontend::formatDslBuffer(sm, id, diags, out);
  }
  return 0;
}
