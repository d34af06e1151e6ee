// `pipec compile`: the AST, the canonical IR, the environment of each
// process, the lowered plan, or a target's files (--target k8s: manifests;
// --target sh: a POSIX script; --target azureml: Azure ML CLI v2 YAML).
#include "backends/azureml/azureml.h"
#include "backends/k8s/k8s.h"
#include "backends/sh/script.h"
#include "frontend/ast_json.h"
#include "ir/json_dump.h"
#include "ir/mangle.h"
#include "ir/suggest.h"
#include "llvm/ADT/ScopeExit.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Path.h"
#include "lowering/plan_json.h"
#include "lowering/step.h"
#include "runtime/parallel/harness.h"
#include "tools/pipec/commands.h"
#include "tools/pipec/common.h"

namespace pipec::driver {

namespace {

void printEnv(llvm::raw_ostream& os, const ir::EnvList& env) {
  for (const auto& [k, v] : env) os << k << "=" << v << "\n";
}

// Finishes the diagnostics, then writes `text` to `output`.
int writeOutput(const std::string& output, const std::string& text,
                Frontend& fe) {
  fe.finish();
  return writeOutputFile("compile", output, text) ? kExitOk : kExitErrors;
}

// A target's text from `emit`, which writes it to the stream it is given
// and says whether it succeeded. To a regular file (or a new one) it streams
// into a new file beside `output` that replaces it once the whole text is
// written; when there is an error nothing is left. To standard output (or
// anything but a regular file) it goes once it is whole.
int writeStreamed(const std::string& output, Frontend& fe,
                  llvm::function_ref<bool(llvm::raw_ostream&)> emit) {
  llvm::sys::fs::file_status st;
  bool to_file =
      !output.empty() && output != "-" &&
      (llvm::sys::fs::status(output, st) || llvm::sys::fs::is_regular_file(st));
  if (!to_file) {
    std::string text;
    llvm::raw_string_ostream os(text);
    bool ok = emit(os);
    os.flush();
    if (!ok) {
      fe.finish();
      return kExitErrors;
    }
    return writeOutput(output, text, fe);
  }
  int fd = -1;
  llvm::SmallString<256> tmp;
  std::error_code ec = llvm::sys::fs::createUniqueFile(
      output + ".%%%%%%.tmp", fd, tmp, llvm::sys::fs::OF_None);
  if (ec) {
    fe.finish();
    llvm::errs() << "pipec compile: error: cannot write '" << output
                 << "': " << ec.message() << "\n";
    return kExitErrors;
  }
  bool ok;
  {
    llvm::raw_fd_ostream os(fd, /*shouldClose=*/true);
    os.SetBufferSize(1 << 17);
    ok = emit(os);
    os.close();
    if (os.has_error()) ec = os.error();
    os.clear_error();
  }
  fe.finish();
  if (ok && !ec) ec = llvm::sys::fs::rename(tmp, output);
  if (!ok || ec) llvm::sys::fs::remove(tmp);
  if (!ok) return kExitErrors;
  if (ec) {
    llvm::errs() << "pipec compile: error: cannot write '" << output
                 << "': " << ec.message() << "\n";
    return kExitErrors;
  }
  return kExitOk;
}

// --target sh: the script streams, a step at a time (writeStreamed()).
int writeScript(const ir::Component& root, const ir::FlatPipeline& flat,
                const backends::sh::ScriptOptions& so,
                const std::string& output, Frontend& fe) {
  return writeStreamed(output, fe, [&](llvm::raw_ostream& os) {
    return backends::sh::emitScript(root, flat, so, os, fe.diags());
  });
}

// For a target's files, written right before the process ends: the
// session, the IR and what was built from it are left to the operating
// system instead of being freed piece by piece (as `pipec check` leaves its
// session, Frontend::skipFreeAtExit()).
template <typename... T>
void leaveAtExit(Frontend& fe, std::unique_ptr<ir::Module> module,
                 T&&... built) {
  fe.skipFreeAtExit();
  fe.keep(std::move(module));
  ((void)new std::decay_t<T>(std::forward<T>(built)), ...);
}

// --target azureml: one file (stdout, -o FILE) with every component inline,
// or -o DIR/ with DIR/pipeline.yml and DIR/components/NAME.yml.
int writeAzure(const ir::Module& module, std::string output, Frontend& fe) {
  backends::azureml::Options opts;
  bool dir = !output.empty() && output != "-" &&
             (llvm::sys::fs::is_directory(output) ||
              llvm::StringRef(output).endswith("/"));
  opts.separate_components = dir;
  llvm::SmallString<256> base;
  if (output.empty() || output == "-")
    llvm::sys::fs::current_path(base);
  else
    base = dir ? llvm::StringRef(output) : llvm::sys::path::parent_path(output);
  llvm::sys::fs::make_absolute(base);
  llvm::sys::path::remove_dots(base, /*remove_dot_dot=*/true);
  opts.out_dir = std::string(base);
  backends::azureml::Files files;
  // The tree is written out right before the process ends: left to the
  // operating system, as the module is (runCompile()).
  auto leave = llvm::make_scope_exit(
      [&] { (void)new std::shared_ptr<void>(std::move(files.tree)); });
  if (!backends::azureml::emitAzure(module, opts, files, fe.diags())) {
    fe.finish();
    return kExitErrors;
  }
  fe.finish();
  bool to_stdout = output.empty() || output == "-";
  if (!to_stdout && !dir)
    if (std::error_code ec = llvm::sys::fs::create_directories(opts.out_dir)) {
      llvm::errs() << "pipec compile: error: cannot create '" << opts.out_dir
                   << "': " << ec.message() << "\n";
      return kExitErrors;
    }
  if (!dir)
    return writeOutputFile("compile", output, files.main) ? kExitOk
                                                          : kExitErrors;
  std::string folder =
      files.components.empty() ? opts.out_dir : opts.out_dir + "/components";
  if (std::error_code ec = llvm::sys::fs::create_directories(folder)) {
    llvm::errs() << "pipec compile: error: cannot create '" << folder
                 << "': " << ec.message() << "\n";
    return kExitErrors;
  }
  if (!writeOutputFile("compile", opts.out_dir + "/pipeline.yml", files.main))
    return kExitErrors;
  for (const auto& [path, text] : files.components)
    if (!writeOutputFile("compile", opts.out_dir + "/" + path, text))
      return kExitErrors;
  return kExitOk;
}

}  // namespace

int runCompile(const Args& args) {
  ArgParser p("compile",
              "pipec compile --emit=ast|ir|env|plan | --target k8s|sh|azureml "
              "[options] FILE",
              "lower a component or pipeline and print one stage, or write "
              "it for another target");
  FrontendFlags flags;
  flags.addTo(p);
  std::string emit, target, output, job, entry;
  std::vector<std::string> sets, inputs, files;
  bool locations = false;
  std::vector<std::string> images;
  backends::k8s::Options k8s;
  p.value("--emit", "ast|ir|env|plan",
          "ast: the file as parsed, with locations, as JSON; ir: the "
          "canonical IR as JSON; env: each step's environment; plan: "
          "each step lowered (command, environment, config files, "
          "processes) as JSON",
          &emit);
  p.value("--output", "FILE", "write to FILE instead of standard output",
          &output);
  p.alias("-o", "--output");
  p.value("--job", "NAME",
          "--emit=env|plan: only the step NAME (outer.inner when nested)",
          &job);
  p.list(
      "--set", "NAME=VALUE",
      "set a pipeline parameter, or STEP.NAME=VALUE for one step; repeatable",
      &sets);
  p.list("--input", "[STEP.]NAME=PATH",
         "bind a pipeline data input, or one step's; repeatable", &inputs);
  p.value("--entry", "NAME",
          "the component or pipeline of a .pipe file to compile", &entry);
  p.flag("--locations", "--emit=ir: add file:line:col to declarations",
         &locations);
  p.value("--target", "k8s|sh|azureml",
          "k8s: Kubernetes manifests (KubeDL jobs, batch/v1 Jobs, one Argo "
          "Workflow) as multi-document YAML; -o FILE, or -o DIR/ for "
          "DIR/NAME.yaml; sh: one POSIX script that runs the pipeline as "
          "'pipec run' does (sh run.sh [--workdir DIR] [--jobs N]); "
          "azureml: an Azure ML CLI v2 pipeline job for 'az ml job create', "
          "components inline (-o FILE), or -o DIR/ for DIR/pipeline.yml and "
          "DIR/components/NAME.yml",
          &target);
  p.value("--namespace", "NS", "--target k8s: the namespace of every object",
          &k8s.name_space);
  p.list("--image", "COMPONENT=IMAGE",
         "--target k8s: the image of a component's containers; repeatable",
         &images);
  p.value("--claim", "NAME",
          "--target k8s: the run's PersistentVolumeClaim (default "
          "NAME-data)",
          &k8s.claim);
  p.value("--claim-size", "SIZE", "--target k8s: its size (default 10Gi)",
          &k8s.claim_size);
  p.value("--storage-class", "CLASS",
          "--target k8s: its storage class (default: the cluster's)",
          &k8s.storage_class);
  p.value("--service-account", "NAME",
          "--target k8s: the service account of the Workflow and the pods",
          &k8s.service_account);
  p.flag("--single",
         "--target k8s: one component's job (the lone component, or the "
         "step --job), with its ConfigMaps and claim, no Workflow",
         &k8s.single);
  p.positional("FILE", "a component or pipeline file", &files, 1, 1);
  std::string error;
  if (!p.parse(args, error, llvm::outs())) return usageError(p, error);
  if (p.helpRequested()) return kExitOk;
  if (std::string e = flags.validate(); !e.empty()) return usageError(p, e);
  if (!target.empty() && !emit.empty())
    return usageError(p, "--target and --emit cannot be used together");
  if (target.empty() && emit.empty()) emit = "ir";
  if (!target.empty()) {
    if (target != "k8s" && target != "sh" && target != "azureml")
      return usageError(
          p, "--target must be 'k8s', 'sh' or 'azureml', not '" + target + "'");
    emit = target;
    for (const std::string& i : images) {
      auto [comp, image] = llvm::StringRef(i).split('=');
      if (comp.empty() || image.empty())
        return usageError(p, "--image needs COMPONENT=IMAGE, not '" + i + "'");
      k8s.images[comp.str()] = image.str();
    }
  }
  if (emit != "k8s" && (k8s.single || !images.empty()))
    return usageError(p, "--single and --image need --target k8s");
  if (emit == "sh" && (!job.empty() || locations))
    return usageError(p, "--target sh takes no --job or --locations");
  if (emit == "azureml" &&
      (!job.empty() || locations || !sets.empty() || !inputs.empty()))
    return usageError(p,
                      "--target azureml takes no --job, --set, --input or "
                      "--locations: it writes the pipeline with its inputs");
  if (emit != "ast" && emit != "ir" && emit != "env" && emit != "plan" &&
      emit != "k8s" && emit != "sh" && emit != "azureml")
    return usageError(
        p, "--emit must be 'ast', 'ir', 'env' or 'plan', not '" + emit + "'");
  if (!entry.empty() && emit == "ast")
    return usageError(p, "--entry needs --emit=ir, env or plan");
  // The IR is the pipeline before values are bound; the environment and the
  // plan have no declarations to locate.
  bool lowered =
      emit == "env" || emit == "plan" || emit == "k8s" || emit == "sh";
  if (!job.empty() && !lowered)
    return usageError(p, "--job needs --emit=env or --emit=plan");
  if (!sets.empty() && !lowered)
    return usageError(p, "--set needs --emit=env or --emit=plan");
  if (!inputs.empty() && !lowered)
    return usageError(p, "--input needs --emit=env or --emit=plan");
  if (locations && emit != "ir")
    return usageError(p, "--locations needs --emit=ir");

  Frontend fe(flags);
  std::string text;
  llvm::raw_string_ostream os(text);
  // The AST is the file as parsed: names, types and references unresolved.
  const ast::File* parsed = nullptr;
  if (emit == "ast") parsed = fe.session().loadFile(files[0]);
  auto module = emit == "ast" ? nullptr : fe.compile(files[0], entry);
  if (!(parsed || module) || fe.diags().hasErrors()) {
    fe.finish();
    return kExitErrors;
  }
  if (emit == "ast") {
    os << frontend::dumpAst(*parsed, llvm::sys::path::filename(files[0]),
                            fe.session().sourceMgr());
  } else if (emit == "azureml") {
    // As `pipec check`: the AST and IR are not freed piece by piece at exit.
    fe.skipFreeAtExit();
    int rc = writeAzure(*module, output, fe);
    fe.keep(std::move(module));
    return rc;
  } else if (emit == "ir") {
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
    if (emit == "sh") {
      backends::sh::ScriptOptions so;
      so.source = files[0];
      int status = writeScript(*module->root, flat, so, output, fe);
      leaveAtExit(fe, std::move(module), std::move(flat));
      return status;
    }
    // Steps of one component share their commands' lexing.
    lowering::LoweringCache cache;
    lowering::LoweringOptions lo;
    lo.cache = &cache;
    // Asked once per path: many steps read one input of the pipeline.
    std::map<std::string, std::optional<bool>, std::less<>> is_file;
    lo.is_file = [&is_file](llvm::StringRef path) -> std::optional<bool> {
      auto it = is_file.find(path);
      if (it != is_file.end()) return it->second;
      llvm::sys::fs::file_status st;
      std::optional<bool> file;
      if (!llvm::sys::fs::status(path, st))
        file = llvm::sys::fs::is_regular_file(st);
      return is_file.emplace(path.str(), file).first->second;
    };
    // Only the chosen step is lowered: another's problems are not its own.
    std::vector<std::size_t> indices;
    for (std::size_t i = 0; i < flat.steps.size(); ++i)
      if (job.empty() || flat.steps[i].name == job) indices.push_back(i);
    bool lone = module->root->kind != ir::ComponentKind::Pipeline;
    bool found = !indices.empty() || job.empty();
    if (emit == "k8s" && found) {
      if (lone) k8s.single = true;
      const char* usage = nullptr;
      if (k8s.single && indices.size() != 1)
        usage = "--single needs --job STEP for a pipeline";
      else if (!job.empty() && !k8s.single)
        usage = "--job with --target k8s needs --single";
      if (usage) {
        // What the lowering reports comes first, as for the other forms.
        for (std::size_t i : indices)
          lowering::lowerStep(flat, i, backends::k8s::kMlRoot, lo, fe.diags());
        fe.finish();
        return fe.diags().hasErrors() ? kExitErrors : usageError(p, usage);
      }
      k8s.harness = {
          {"pipec_harness.py", runtime::parallel::harnessSource().str()},
          {"pipec_tables.py", runtime::parallel::tablesSource().str()},
          {"pipec_split.py", runtime::parallel::splitSource().str()},
          {"pipec_elasticbatch.py",
           runtime::parallel::elasticBatchClientSource().str()},
          {"pipec_aimaster.py", runtime::parallel::aimasterSource().str()}};
      std::string name = module->root->name.empty() ? module->root->display_name
                                                    : module->root->name;
      // Each step is lowered as the manifests are written, and dropped.
      lo.locations = false;
      lo.layout = false;
      if (!output.empty() && (llvm::sys::fs::is_directory(output) ||
                              llvm::StringRef(output).endswith("/"))) {
        llvm::sys::fs::create_directories(output);
        output += "/" +
                  backends::k8s::dnsLabel(name.empty() ? "pipeline" : name) +
                  ".yaml";
      }
      // Streamed as the steps are lowered (writeStreamed()).
      int status = writeStreamed(output, fe, [&](llvm::raw_ostream& os) {
        // The emitter passes whole chunks: the stream's buffer would copy
        // every byte once more.
        os.SetUnbuffered();
        std::string yaml;
        return backends::k8s::emitManifests(
            name, flat, indices,
            [&](std::size_t k, lowering::LoweredStep& s) {
              lowering::lowerStep(flat, indices[k], backends::k8s::kMlRoot, lo,
                                  fe.diags(), s);
            },
            module->root_dir, k8s, fe.diags(), yaml, &os);
      });
      leaveAtExit(fe, std::move(module), std::move(flat));
      return status;
    }
    std::vector<lowering::LoweredStep> chosen;
    chosen.reserve(indices.size());
    for (std::size_t i : indices)
      chosen.push_back(lowering::lowerStep(flat, i, "/ml", lo, fe.diags()));
    if (fe.diags().hasErrors()) {
      fe.finish();
      return kExitErrors;
    }
    if (emit == "plan" && found) {
      os << lowering::dumpPlan(flat, chosen, module->root_dir);
    } else {
      for (const lowering::LoweredStep& s : chosen) {
        if (!lone && job.empty()) os << "# step: " << s.name << "\n";
        printEnv(os, s.env);
        if (!lone && job.empty() && &s != &chosen.back()) os << "\n";
      }
    }
    if (!found) {
      std::vector<std::string> names;
      for (const ir::FlatStep& s : flat.steps) names.push_back(s.name);
      fe.diags()
          .report(llvm::SMRange(), ir::diag::UnknownJob, job,
                  ir::didYouMean(job, names))
          .origin("--job");
      fe.finish();
      return kExitErrors;
    }
  }
  os.flush();
  return writeOutput(output, text, fe);
}

}  // namespace pipec::driver
