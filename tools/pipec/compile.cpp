// `pipec compile`: the canonical IR or the environment of each process.
#include "ir/env.h"
#include "ir/json_dump.h"
#include "ir/mangle.h"
#include "llvm/Support/FileSystem.h"
#include "tools/pipec/commands.h"
#include "tools/pipec/common.h"

namespace pipec::driver {

namespace {

void printEnv(llvm::raw_ostream& os, const ir::EnvList& env) {
  for (const auto& [k, v] : env) os << k << "=" << v << "\n";
}

}  // namespace

int runCompile(const Args& args) {
  ArgParser p("compile", "pipec compile --emit=ir|env [options] FILE",
              "lower a component or pipeline and print one stage");
  FrontendFlags flags;
  flags.addTo(p);
  std::string emit = "ir", output, job, entry;
  std::vector<std::string> sets, inputs, files;
  bool locations = false;
  p.value("--emit", "ir|env",
          "ir: the canonical IR as JSON; env: each step's environment", &emit);
  p.value("--output", "FILE", "write to FILE instead of standard output",
          &output);
  p.alias("-o", "--output");
  p.value("--job", "NAME",
          "--emit=env: only the step NAME (outer.inner when nested)", &job);
  p.list(
      "--set", "NAME=VALUE",
      "set a pipeline parameter, or STEP.NAME=VALUE for one step; repeatable",
      &sets);
  p.list("--input", "NAME=PATH", "bind a pipeline data input; repeatable",
         &inputs);
  p.value("--entry", "NAME",
          "the component or pipeline of a .pipe file to compile", &entry);
  p.flag("--locations", "--emit=ir: add file:line:col to declarations",
         &locations);
  p.positional("FILE", "a component or pipeline file", &files, 1, 1);
  std::string error;
  if (!p.parse(args, error, llvm::outs())) return usageError(p, error);
  if (p.helpRequested()) return kExitOk;
  if (std::string e = flags.validate(); !e.empty()) return usageError(p, e);
  if (emit != "ir" && emit != "env")
    return usageError(p, "--emit must be 'ir' or 'env', not '" + emit + "'");
  // The IR is the pipeline before values are bound; the environment has no
  // declarations to locate.
  if (!job.empty() && emit != "env")
    return usageError(p, "--job needs --emit=env");
  if (!sets.empty() && emit != "env")
    return usageError(p, "--set needs --emit=env");
  if (!inputs.empty() && emit != "env")
    return usageError(p, "--input needs --emit=env");
  if (locations && emit != "ir")
    return usageError(p, "--locations needs --emit=ir");

  Frontend fe(flags);
  auto module = fe.session().compile(files[0], entry);
  if (!module || fe.diags().hasErrors()) {
    fe.finish();
    return kExitErrors;
  }
  std::string text;
  llvm::raw_string_ostream os(text);
  if (emit == "ir") {
    ir::DumpOptions opts;
    opts.locations = locations;
    opts.sm = &fe.session().sourceMgr();
    os << ir::dumpJson(*module, opts);
  } else {
    ir::FlattenOptions fo;
    if (!parseOverrides(*module->root, sets, inputs, fo, fe.diags())) {
      fe.finish();
      return kExitErrors;
    }
    ir::FlatPipeline flat = ir::flatten(*module->root, fo);
    bool lone = module->root->kind != ir::ComponentKind::Pipeline;
    bool found = job.empty();
    for (const ir::FlatStep& s : flat.steps) {
      if (!job.empty() && s.name != job) continue;
      found = true;
      if (!lone && job.empty()) os << "# step: " << s.name << "\n";
      printEnv(os, ir::flatStepEnv(s, ir::stepValues(s, "/ml")));
      if (!lone && job.empty() && &s != &flat.steps.back()) os << "\n";
    }
    if (!found) {
      std::vector<std::string> names;
      for (const ir::FlatStep& s : flat.steps) names.push_back(s.name);
      std::string dym;
      unsigned best = 3;
      for (const std::string& n : names) {
        unsigned d = llvm::StringRef(job).edit_distance(n, true, 3);
        if (d < best) {
          best = d;
          dym = "; did you mean '" + n + "'?";
        }
      }
      fe.diags()
          .report(llvm::SMRange(), ir::DiagKind::UnknownJob, job, dym)
          .origin("--job");
      fe.finish();
      return kExitErrors;
    }
  }
  os.flush();
  fe.finish();
  if (output.empty() || output == "-") {
    llvm::outs() << text;
    return kExitOk;
  }
  std::error_code ec;
  llvm::raw_fd_ostream file(output, ec, llvm::sys::fs::OF_Text);
  if (ec) {
    llvm::errs() << "pipec compile: error: cannot write '" << output
                 << "': " << ec.message() << "\n";
    return kExitErrors;
  }
  file << text;
  return kExitOk;
}

}  // namespace pipec::driver
