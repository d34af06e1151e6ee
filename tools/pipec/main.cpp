// The pipec driver: dispatches to subcommands.
#include "ir/suggest.h"
#include "llvm/Support/raw_ostream.h"
#include "tools/pipec/cli.h"
#include "tools/pipec/commands.h"
#include "tools/pipec/version.h"

namespace pipec::driver {

const std::vector<Command>& commands() {
  static const std::vector<Command> all = {
      {"cache", "list, measure or prune the step cache", runCache},
      {"check", "report every problem in component and pipeline files",
       runCheck},
      {"compile", "print the IR or the environment of each step", runCompile},
      {"graph", "draw a pipeline as DOT, Mermaid or SVG", runGraph},
      {"fmt", "print the canonical layout of .pipe files", runFmt},
      {"internal-parallel-step", "run one parallel step (used by pipec run)",
       runInternalParallelStep, /*hidden=*/true},
      {"lsp", "serve the Language Server Protocol to an editor", runLsp},
      {"run", "run a pipeline or component on this machine", runRun},
  };
  return all;
}

namespace {

void printUsage(llvm::raw_ostream& os) {
  os << "pipec: a workflow compiler and runtime for machine-learning "
        "pipelines\n\n"
     << "USAGE: pipec COMMAND [options] [args]\n\nCOMMANDS:\n";
  for (const Command& c : commands()) {
    if (c.hidden) continue;
    std::string name = c.name;
    name.resize(12, ' ');
    os << "  " << name << c.summary << "\n";
  }
  os << "\n'pipec COMMAND --help' describes a command. 'pipec --version' "
        "prints "
        "the version.\n";
}

}  // namespace
}  // namespace pipec::driver

int main(int argc, char** argv) {
  using namespace pipec::driver;
  if (argc < 2) {
    printUsage(llvm::errs());
    return kExitUsage;
  }
  llvm::StringRef cmd = argv[1];
  if (cmd == "--help" || cmd == "-h" || cmd == "help") {
    printUsage(llvm::outs());
    return kExitOk;
  }
  if (cmd == "--version" || cmd == "version") {
    llvm::outs() << "pipec " << PIPEC_VERSION << "\n";
    return kExitOk;
  }
  Args args(argv + 2, argv + argc);
  for (const Command& c : commands())
    if (cmd == c.name) return c.run(args);
  std::vector<std::string> names;
  for (const Command& c : commands())
    if (!c.hidden) names.push_back(c.name);
  llvm::errs() << "pipec: error: unknown command '" << cmd << "'"
               << pipec::ir::didYouMean(cmd, names)
               << "\nTry 'pipec --help'.\n";
  return kExitUsage;
}
