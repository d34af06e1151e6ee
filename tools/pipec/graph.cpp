// `pipec graph`: the picture of a pipeline as DOT, Mermaid, or SVG rendered
// by Graphviz's `dot`.
#include "backends/graph/graph.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Program.h"
#include "tools/pipec/commands.h"
#include "tools/pipec/common.h"

namespace pipec::driver {

llvm::Expected<std::string> renderSvg(llvm::StringRef dot_text) {
  auto dot = llvm::sys::findProgramByName("dot");
  if (!dot)
    return llvm::createStringError(dot.getError(), "Graphviz is not installed");
  llvm::SmallString<128> in, out;
  int fd;
  if (std::error_code ec =
          llvm::sys::fs::createTemporaryFile("pipec-graph", "dot", fd, in))
    return llvm::createStringError(ec, "cannot create a temporary file");
  {
    llvm::raw_fd_ostream os(fd, /*shouldClose=*/true);
    os << dot_text;
  }
  if (std::error_code ec =
          llvm::sys::fs::createTemporaryFile("pipec-graph", "svg", out)) {
    llvm::sys::fs::remove(in);
    return llvm::createStringError(ec, "cannot create a temporary file");
  }
  std::string message;
  llvm::Optional<llvm::StringRef> redirects[] = {
      llvm::StringRef(in), llvm::StringRef(out), llvm::None};
  int rc = llvm::sys::ExecuteAndWait(*dot, {"dot", "-Tsvg"}, llvm::None,
                                     redirects, 0, 0, &message);
  auto svg = llvm::MemoryBuffer::getFile(out);
  llvm::sys::fs::remove(in);
  llvm::sys::fs::remove(out);
  if (rc != 0 || !svg)
    return llvm::createStringError(
        std::make_error_code(std::errc::io_error), "dot -Tsvg failed%s%s",
        message.empty() ? "" : ": ", message.c_str());
  return (*svg)->getBuffer().str();
}

int runGraph(const Args& args) {
  ArgParser p("graph", "pipec graph [--format dot|mermaid|svg] [-o FILE] FILE",
              "draw a pipeline: steps, wires with channel names and types, "
              "pipeline inputs and outputs, nested pipelines as clusters");
  FrontendFlags flags;
  flags.addTo(p);
  std::string format = "dot", output, entry;
  std::vector<std::string> files;
  p.value("--format", "dot|mermaid|svg",
          "dot: Graphviz source; mermaid: a Mermaid flowchart; svg: rendered "
          "by Graphviz's 'dot'",
          &format);
  p.value("--output", "FILE", "write to FILE instead of standard output",
          &output);
  p.alias("-o", "--output");
  p.value("--entry", "NAME",
          "the component or pipeline of a .pipe file to draw", &entry);
  p.positional("FILE", "a component or pipeline file", &files, 1, 1);
  std::string error;
  if (!p.parse(args, error, llvm::outs())) return usageError(p, error);
  if (p.helpRequested()) return kExitOk;
  if (std::string e = flags.validate(); !e.empty()) return usageError(p, e);
  if (format != "dot" && format != "mermaid" && format != "svg")
    return usageError(
        p, "--format must be 'dot', 'mermaid' or 'svg', not '" + format + "'");
  Frontend fe(flags);
  auto module = fe.compile(files[0], entry);
  if (!module || fe.hasErrors()) {
    fe.finish();
    return kExitErrors;
  }
  using backends::graph::Format;
  std::string text = backends::graph::render(
      *module->root, format == "mermaid" ? Format::Mermaid : Format::Dot);
  if (format == "svg") {
    auto svg = renderSvg(text);
    if (!svg) {
      fe.diags().report(llvm::SMRange(), ir::diag::GraphNoSvg,
                        llvm::toString(svg.takeError()));
      fe.finish();
      return kExitErrors;
    }
    text = std::move(*svg);
  }
  fe.finish();
  return writeOutputFile("graph", output, text) ? kExitOk : kExitErrors;
}

}  // namespace pipec::driver
