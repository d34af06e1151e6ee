// The subcommands of the pipec binary.
#pragma once

#include <string>
#include <vector>

namespace pipec::driver {

using Args = std::vector<std::string>;

/// `pipec cache ls|du|prune`
int runCache(const Args& args);
/// `pipec check FILE...`
int runCheck(const Args& args);
/// `pipec compile --emit=ast|ir|env|plan FILE`
int runCompile(const Args& args);
/// `pipec fmt FILE...`
int runFmt(const Args& args);
/// `pipec graph FILE`
int runGraph(const Args& args);
/// `pipec internal-parallel-step SPEC.json` (hidden: started by `pipec run`)
int runInternalParallelStep(const Args& args);
/// `pipec lsp` (the language server on stdin/stdout)
int runLsp(const Args& args);
/// `pipec run FILE`
int runRun(const Args& args);

/// A subcommand: its name, a one-line summary, and its entry point.
struct Command {
  const char* name;
  const char* summary;
  int (*run)(const Args& args);
  bool hidden = false;  ///< not listed in `pipec --help`
};

/// Every subcommand, in help order.
const std::vector<Command>& commands();

}  // namespace pipec::driver
