// Building the run plan from the flat pipeline, and laying out step folders.
#include "runtime/plan.h"

#include <algorithm>
#include <cstdio>

#include "ir/mangle.h"
#include "ir/yaml_reader.h"
#include "llvm/ADT/SmallString.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/JSON.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"
#include "lowering/shell.h"

namespace pipec::runtime {

namespace {

namespace diag = ir::diag;

class Hasher {
 public:
  void add(llvm::StringRef s) {
    for (char c : s) mix(std::uint8_t(c));
    mix(0xff);
  }
  void add(std::int64_t n) { add(std::to_string(n)); }
  std::uint64_t value() const { return h_; }

 private:
  void mix(std::uint8_t b) {
    h_ ^= b;
    h_ *= 1099511628211ull;
  }
  std::uint64_t h_ = 14695981039346656037ull;
};

}  // namespace

std::string venvDir(const RunPlan& plan, llvm::StringRef requirements) {
  Hasher h;
  h.add(plan.python);
  h.add(requirements);
  char hex[17];
  std::snprintf(hex, sizeof hex, "%016llx",
                static_cast<unsigned long long>(h.value()));
  return plan.run_dir + "/venvs/" + hex;
}

std::string gitCloneUrl(llvm::StringRef url) {
  url.consume_front("git+");
  return url.str();
}

namespace {

// The links of a step's data inputs; reports inputs this machine cannot
// give data to.
void linkInputs(const RunPlan& plan, const ir::FlatPipeline& flat,
                const PlanOptions& opts, bool root_unbound, FileSystem& fs,
                StepPlan& s, ir::DiagnosticEngine& diags) {
  for (const lowering::InputData& in : s.inputs) {
    const ir::DataSource& d = in.source;
    llvm::SMRange at = d.range.isValid() ? d.range : s.range;
    switch (d.kind) {
      case ir::DataSource::Kind::None:
        if (!in.optional && !root_unbound)
          diags.report(
              at, diag::RunInputUnbound,
              "required input '" + in.channel + "' of step '" + s.name + "'",
              "; pass --input " + s.name + "." + in.channel + "=PATH");
        break;
      case ir::DataSource::Kind::Path: {
        bool from_flag = false;
        for (const auto& [n, path] : opts.root_inputs)
          if (path == d.path) from_flag = true;
        if (d.is_uri) {
          diags.report(at, diag::RunUriInput, in.channel, s.name, d.path,
                       "; bind a local copy with --input " +
                           d.inputFlag(s.name, in.channel) + "=PATH");
          break;
        }
        if (!fs.exists(d.path)) {
          auto b = diags.report(from_flag ? llvm::SMRange() : at,
                                diag::RunPathMissing,
                                "input '" + in.channel + "'", s.name, d.path);
          if (from_flag) b.origin("--input");
          break;
        }
        InputLink l;
        l.channel = in.channel;
        l.target = d.path;
        l.single_file = in.single_file;
        s.links.push_back(std::move(l));
        break;
      }
      case ir::DataSource::Kind::StepOutput: {
        InputLink l;
        l.channel = in.channel;
        l.producer = d.step;
        l.producer_output = d.output;
        l.target = plan.run_dir + "/" + flat.steps[d.step].name +
                   "/ml/output/" + d.output;
        // An upstream file output: the channel folder holds a link to it.
        l.single_file = in.single_file;
        if (l.single_file)
          l.target += "/" + llvm::sys::path::filename(in.path).str();
        s.links.push_back(std::move(l));
        break;
      }
    }
  }
}

// The `pip:` entries of a conda file's `dependencies`, one a line; what
// is not a list of strings there is E1801 at its place in the file.
std::string condaPip(const ir::yaml::Node* root, const std::string& step,
                     ir::DiagnosticEngine& diags) {
  using ir::yaml::Node;
  std::string out;
  if (!root || root->isNull()) return out;
  if (!root->isMap()) {
    diags.report(root->range, diag::CondaFileBad, step,
                 std::string("expected a mapping with 'dependencies', not ") +
                     root->kindName());
    return out;
  }
  const Node* deps = root->get("dependencies");
  if (!deps || deps->isNull()) return out;
  if (!deps->isSeq()) {
    diags.report(
        deps->range, diag::CondaFileBad, step,
        std::string("'dependencies' must be a list, not ") + deps->kindName());
    return out;
  }
  for (const Node* d : deps->items) {
    if (!d->isMap()) continue;  // conda packages: not built by pipec
    const Node* pip = d->get("pip");
    if (!pip) continue;
    if (!pip->isSeq()) {
      diags.report(pip->range, diag::CondaFileBad, step,
                   std::string("'pip' must be a list of requirements, not ") +
                       pip->kindName());
      continue;
    }
    for (const Node* r : pip->items) {
      if (!r->isScalar() || llvm::StringRef(r->value).trim().empty() ||
          llvm::StringRef(r->value).contains('\n')) {
        diags.report(r->range, diag::CondaFileBad, step,
                     "a pip requirement must be one line of text");
        continue;
      }
      out += llvm::StringRef(r->value).trim().str() + "\n";
    }
  }
  return out;
}

// The step's `environment:` (the job's, else its component's): what pipec
// does not build is described in `not_built`; the pip list of a local
// conda file goes into the step's virtual environment.
void planEnvironment(const ir::Component& root, const ir::FlatStep& f,
                     FileSystem& fs, StepPlan& s, std::string& not_built,
                     ir::DiagnosticEngine& diags) {
  const llvm::json::Value* env = nullptr;
  std::string base;
  if (f.step)
    if ((env = f.step->extra.get("environment"))) base = root.source_file;
  if (!env) {
    env = f.component->extra.get("environment");
    base = f.component->source_file;
  }
  if (!env || env->kind() == llvm::json::Value::Null) return;
  if (auto ref = env->getAsString()) {
    not_built = ref->str();
    return;
  }
  const llvm::json::Object* o = env->getAsObject();
  if (!o) {
    not_built = "environment";
    return;
  }
  std::vector<std::string> parts;
  if (auto image = o->getString("image"))
    parts.push_back("image " + image->str());
  if (o->get("build")) parts.push_back("a Docker build context");
  auto conda = o->getString("conda_file");
  if (conda) parts.push_back("conda file " + conda->str());
  if (parts.empty()) parts.push_back("environment");
  not_built = llvm::join(parts, ", ");
  if (!conda || conda->contains("://") || conda->startswith("azureml:")) return;
  llvm::SmallString<256> path(*conda);
  if (!llvm::sys::path::is_absolute(path)) {
    path = llvm::sys::path::parent_path(base);
    llvm::sys::path::append(path, *conda);
  }
  llvm::sys::path::remove_dots(path, true);
  FileSystem::Kind kind = fs.kind(std::string(path));
  if (kind == FileSystem::Kind::Missing) {
    diags.report(s.range, diag::RunPathMissing, "conda file", s.name,
                 std::string(path));
    return;
  }
  if (kind != FileSystem::Kind::File) {
    diags.report(s.range, diag::CondaFileBad, s.name,
                 "'" + std::string(path) + "' is not a file");
    return;
  }
  auto text = fs.readFile(std::string(path));
  if (!text) {
    diags.report(s.range, diag::CondaFileBad, s.name,
                 "cannot read '" + std::string(path) +
                     "': " + llvm::toString(text.takeError()));
    return;
  }
  llvm::SourceMgr& sm = diags.sourceMgr();
  unsigned id = sm.AddNewSourceBuffer(
      llvm::MemoryBuffer::getMemBufferCopy(*text, path), llvm::SMLoc());
  unsigned errors = diags.errorCount();
  std::unique_ptr<ir::yaml::Document> doc = ir::yaml::parse(sm, id, diags);
  if (!doc || diags.errorCount() != errors) return;
  s.conda_pip = condaPip(doc->root(), s.name, diags);
  if (!s.conda_pip.empty()) s.conda_pip_file = s.dir + "/conda-pip.txt";
}

// The code folder, its requirements.txt and virtual environment.
void planCode(const RunPlan& plan, const ir::Component& c, FileSystem& fs,
              StepPlan& s, ir::DiagnosticEngine& diags) {
  if (s.code_is_url && llvm::StringRef(s.code).startswith("azureml:")) {
    diags.report(c.range, diag::RunCodeUnavailable, s.name, s.code,
                 "Azure ML assets are not reachable from a local run; "
                 "point 'code' at a local folder or a git URL");
  } else if (!s.code.empty() && !s.code_is_url) {
    if (fs.kind(s.code) != FileSystem::Kind::Directory) {
      diags.report(c.range, diag::RunPathMissing, "code folder", s.name,
                   s.code);
    } else if (fs.kind(s.code + "/requirements.txt") ==
               FileSystem::Kind::File) {
      auto text = fs.readFile(s.code + "/requirements.txt");
      if (text)
        s.requirements = *text;
      else
        llvm::consumeError(text.takeError());
    }
  }
  if (!s.requirements.empty() || !s.conda_pip.empty())
    s.venv_dir =
        venvDir(plan, s.conda_pip.empty()
                          ? s.requirements
                          : s.requirements + "\n# conda pip\n" + s.conda_pip);
}

// The engine's spec of a parallel step, and the command that runs it.
void planParallel(const RunPlan& plan, const PlanOptions& opts, StepPlan& s) {
  const lowering::ParallelTask& t = *s.task;
  ParallelStepSpec spec;
  spec.step_name = s.name;
  spec.location = s.location;
  spec.python = s.venv_dir.empty() ? plan.python : s.venv_dir + "/bin/python";
  spec.code_dir = s.work_dir;
  spec.entry_script = t.entry_script;
  spec.program_arguments = t.program_arguments;
  spec.settings = t.settings;
  spec.input_path = t.input_path;
  spec.input_type = t.input_type;
  spec.instance_count = t.instance_count;
  spec.append_row_to = t.append_row_to;
  spec.env = s.env;
  spec.logs_dir = s.logs_dir;
  spec.state_dir = s.dir + "/state";
  s.parallel_spec_path = s.dir + "/parallel_step.json";
  s.argv = {
      opts.parallel_engine.empty() ? plan.pipec_exe : opts.parallel_engine,
      "internal-parallel-step", s.parallel_spec_path};
  std::vector<std::string> quoted;
  for (const std::string& a : s.argv) quoted.push_back(lowering::shellQuote(a));
  s.command = llvm::join(quoted, " ");
  s.parallel = std::move(spec);
}

}  // namespace

std::optional<RunPlan> buildPlan(const ir::Component& root,
                                 const ir::FlatPipeline& flat,
                                 const PlanOptions& opts, FileSystem& fs,
                                 ir::DiagnosticEngine& diags) {
  unsigned errors = diags.errorCount();
  RunPlan plan;
  plan.run_id = opts.run_id;
  plan.run_dir = opts.run_dir;
  plan.python = opts.python;
  plan.pipec_exe = opts.pipec_exe;
  plan.gpus = opts.gpus;
  if (opts.python_explicit) plan.bin_dir = plan.run_dir + "/bin";

  // Pipeline inputs nobody gave data to.
  bool root_unbound = false;
  for (const ir::Port& p : root.inputs) {
    if (p.optional || p.default_path || opts.root_inputs.count(p.name))
      continue;
    root_unbound = true;
    diags.report(p.range, diag::RunInputUnbound,
                 "required input '" + p.name + "'",
                 "; pass --input " + p.name + "=PATH");
  }

  lowering::LoweringOptions lo;
  lo.is_file = [&](llvm::StringRef path) -> std::optional<bool> {
    FileSystem::Kind k = fs.kind(path);
    if (k == FileSystem::Kind::Missing) return std::nullopt;
    return k == FileSystem::Kind::File;
  };
  plan.steps.reserve(flat.steps.size());
  // Steps whose environment pipec does not build: one warning a run.
  std::vector<std::string> env_steps;
  llvm::SMRange env_at;
  for (std::size_t i = 0; i < flat.steps.size(); ++i) {
    const ir::FlatStep& f = flat.steps[i];
    StepPlan s;
    s.dir = plan.run_dir + "/" + f.name;
    static_cast<lowering::LoweredStep&>(s) =
        lowering::lowerStep(flat, i, s.dir + "/ml", lo, diags);
    s.logs_dir = s.dir + "/logs";
    linkInputs(plan, flat, opts, root_unbound, fs, s, diags);
    std::string not_built;
    planEnvironment(root, f, fs, s, not_built, diags);
    if (!not_built.empty()) {
      if (!env_at.isValid()) env_at = s.range;
      env_steps.push_back(s.name + " (" + not_built + ")");
    }
    planCode(plan, *f.component, fs, s, diags);
    if (s.task) planParallel(plan, opts, s);
    plan.steps.push_back(std::move(s));
    StepPlan& added = plan.steps.back();
    if (auto key = stepKey(plan, i, opts.content, &added.batch_key))
      added.key = *key;
    else
      diags.report(added.range, diag::CacheKeyFailed, added.name,
                   llvm::toString(key.takeError()));
  }
  if (!env_steps.empty()) {
    auto b = diags.report(env_at, diag::RunEnvironmentNotBuilt,
                          "conda packages, images, registered environments",
                          llvm::join(env_steps, ", "));
    b.note(llvm::SMRange(),
           "the pip list of a local conda file is installed into the "
           "step's virtual environment, as a requirements.txt is");
  }
  for (const auto& [name, where] : flat.outputs) {
    // A file output is the file; a folder output its folder.
    std::string path = plan.run_dir + "/" + flat.steps[where.first].name +
                       "/ml/output/" + where.second + "/";
    if (where.first < plan.steps.size())
      for (const lowering::OutputData& o : plan.steps[where.first].outputs)
        if (o.channel == where.second) path = o.path;
    plan.outputs.emplace_back(name, path);
  }
  if (diags.errorCount() != errors) return std::nullopt;
  return plan;
}

llvm::Error layoutStep(const RunPlan&, const StepPlan& s, FileSystem& fs) {
  using K = TreeEntry::Kind;
  // The lowering's layout (below the step's folder, as buildPlan named it),
  // then the config files; links that wait for the code come after its copy.
  std::vector<TreeEntry> tree;
  tree.reserve(s.layout.size() + 2);
  std::vector<const lowering::LayoutEntry*> after_code;
  const bool code = !s.code.empty() && !s.code_is_url;
  for (const lowering::LayoutEntry& e : s.layout) {
    if (e.kind == lowering::LayoutEntry::Kind::Dir) {
      tree.push_back({K::Dir, e.path, ""});
      continue;
    }
    if (e.after_code && code) {
      after_code.push_back(&e);
      continue;
    }
    if (e.make_target)
      if (llvm::Error err = fs.makeDirs(e.target)) return err;
    tree.push_back({K::Link, e.path, e.target});
  }
  const std::string config = s.ml_root + "/input/config";
  tree.push_back({K::File,
                  config.substr(s.dir.size() + 1) + "/hyperparameters.json",
                  s.hyperparameters_json});
  tree.push_back({K::File,
                  config.substr(s.dir.size() + 1) + "/training_job.json",
                  s.training_job_json});
  if (llvm::Error e = fs.makeTree(s.dir, tree)) return e;
  if (code) {
    if (llvm::Error e = fs.copyTree(s.code, s.work_dir)) return e;
    for (const lowering::LayoutEntry* e : after_code) {
      std::string link = s.dir + "/" + e->path;
      if (fs.kind(link) == FileSystem::Kind::Missing)
        if (llvm::Error err = fs.symlink(e->target, link)) return err;
    }
  }
  if (!s.conda_pip_file.empty())
    if (llvm::Error e = fs.writeFile(s.conda_pip_file, s.conda_pip)) return e;
  if (s.parallel) {
    std::string text = llvm::formatv("{0:2}", toJson(*s.parallel)).str() + "\n";
    if (llvm::Error e = fs.writeFile(s.parallel_spec_path, text)) return e;
  }
  return llvm::Error::success();
}

}  // namespace pipec::runtime
