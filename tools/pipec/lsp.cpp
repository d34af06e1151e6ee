// `pipec lsp`: the language server on standard input and output.
#include <csignal>

#include "tools/lsp/server.h"
#include "tools/lsp/transport.h"
#include "tools/pipec/commands.h"
#include "tools/pipec/common.h"

namespace pipec::driver {

int runLsp(const Args& args) {
  ArgParser p("lsp", "pipec lsp [options]",
              "serve the Language Server Protocol on stdin/stdout");
  FrontendFlags flags;
  flags.addTo(p);
  std::string debounce = "2", docs_url;
  p.value("--debounce-ms", "MS",
          "quiet time after an edit before diagnostics (default 2)", &debounce);
  p.value("--docs-url", "URL",
          "link each diagnostic code to URL#CODE in the editor", &docs_url);
  std::string error;
  if (!p.parse(args, error, llvm::outs())) return usageError(p, error);
  if (p.helpRequested()) return kExitOk;
  if (std::string e = flags.validate(); !e.empty()) return usageError(p, e);
  unsigned ms = 0;
  if (llvm::StringRef(debounce).getAsInteger(10, ms) || ms > 10000)
    return usageError(p,
                      "--debounce-ms must be a number of milliseconds "
                      "from 0 to 10000, not '" +
                          debounce + "'");

  // A client that goes away must not kill the server in a write.
  std::signal(SIGPIPE, SIG_IGN);
  lsp::ServerOptions options;
  options.session.component_paths = flags.component_paths;
  options.session.project_root = flags.root;
  options.session.pedantic = flags.pedantic;
  options.debounce_ms = ms;
  options.docs_url = docs_url;
  lsp::Transport transport(0, 1);
  lsp::Server server(options,
                     [&transport](llvm::json::Value v) { transport.write(v); });
  bool exited = false;
  while (auto body = transport.read()) {
    if (!server.handle(*body)) {
      exited = true;
      break;
    }
  }
  server.stop();
  return exited ? server.exitCode() : kExitErrors;
}

}  // namespace pipec::driver
