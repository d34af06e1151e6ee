// `pipec internal-parallel-step SPEC.json`: runs one parallel step. Started by
// the scheduler of `pipec run`; not listed in `pipec --help`.
#include <unistd.h>

#include "ir/diagnostics.h"
#include "llvm/Support/SourceMgr.h"
#include "runtime/parallel/engine.h"
#include "runtime/parallel/problem.h"
#include "runtime/parallel_spec.h"
#include "tools/pipec/cli.h"
#include "tools/pipec/commands.h"

namespace pipec::driver {

int runInternalParallelStep(const Args& args) {
  namespace par = runtime::parallel;
  ArgParser p("internal-parallel-step",
              "pipec internal-parallel-step SPEC.json",
              "run one parallel step from the spec the scheduler of `pipec "
              "run` wrote; exit 0: the step passed, 1: it failed (see "
              "logs/job_result.txt), other: the engine broke");
  std::vector<std::string> files;
  p.positional("SPEC.json", "a ParallelStepSpec (runtime/parallel_spec.h)",
               &files, 1, 1);
  std::string error;
  if (!p.parse(args, error, llvm::outs())) return usageError(p, error);
  if (p.helpRequested()) return kExitOk;

  // Diagnostics go to stderr, the step's main.log: on a full disk they
  // cannot be written, which the exit status and job_result.txt still
  // say; an error left on the stream would make LLVM abort at exit.
  struct ForgetStderrErrors {
    ~ForgetStderrErrors() { llvm::errs().clear_error(); }
  } forget_stderr_errors;
  llvm::SourceMgr sm;
  ir::TextDiagnosticPrinter printer(llvm::errs(), sm);
  ir::DiagnosticEngine diags(sm, printer);
  runtime::Guardian guardian;
  if (!par::tieToParent(guardian, error)) {
    llvm::errs() << "pipec internal-parallel-step: error: " << error << "\n";
    return par::kEngineBroken;
  }
  auto spec = runtime::readParallelStepSpec(files[0]);
  if (!spec) {
    par::Problem{ir::diag::ParallelSpecInvalid, files[0],
                 llvm::toString(spec.takeError())}
        .report(diags, "");
    return par::kEngineBroken;
  }
  par::EngineIO io;
  io.diags = &diags;
  io.progress = &llvm::errs();
  io.terminal = ::isatty(2);
  io.guardian = &guardian;
  return par::runParallelStep(*spec, io);
}

}  // namespace pipec::driver
