// `pipec check`: diagnostics only.
#include "lowering/step.h"
#include "tools/pipec/commands.h"
#include "tools/pipec/common.h"

namespace pipec::driver {

int runCheck(const Args& args) {
  ArgParser p("check", "pipec check [options] FILE...",
              "report every problem in component, pipeline and DSL files");
  FrontendFlags flags;
  flags.addTo(p);
  std::vector<std::string> files;
  p.positional("FILE...", "component or pipeline files (.yaml, .yml, .pipe)",
               &files, 1, 0);
  std::string error;
  if (!p.parse(args, error, llvm::outs())) return usageError(p, error);
  if (p.helpRequested()) return kExitOk;
  if (std::string e = flags.validate(); !e.empty()) return usageError(p, e);

  Frontend fe(flags);
  fe.skipFreeAtExit();
  // Each file is checked on its own: errors in one do not keep the
  // verifier or the lowering from another.
  for (const std::string& f : files) {
    unsigned before = fe.diags().errorCount();
    auto module = fe.compile(f);
    // What only the lowering can tell: a binding that can never enter its
    // command safely.
    if (module && fe.diags().errorCount() == before)
      lowering::checkCommands(*module, fe.diags());
    fe.keep(std::move(module));
  }
  bool errors = fe.hasErrors();
  fe.finish();
  return errors ? kExitErrors : kExitOk;
}

}  // namespace pipec::driver
