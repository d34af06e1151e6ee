// Building the run plan from the flat pipeline, and laying out step folders.
#include "runtime/plan.h"

#include <algorithm>
#include <cstdio>

#include "ir/mangle.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/Path.h"
#include "runtime/json_text.h"
#include "runtime/shell_words.h"

namespace pipec::runtime {

namespace {

using ir::DiagKind;

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

std::string trainingJobJson(const ir::FlatStep& fs, const StepPlan& s,
                            const ir::StepValues& v) {
  // Keys in the sorted order of llvm::json.
  std::vector<std::pair<std::string, std::string>> inputs, outputs;
  for (const InputLink& l : s.inputs)
    inputs.emplace_back(l.channel, ir::inputPath(v, l.channel));
  for (const std::string& o : s.outputs)
    outputs.emplace_back(o, ir::outputPath(v, o));
  JsonWriter w;
  auto object = [&](std::vector<std::pair<std::string, std::string>>& kv) {
    std::sort(kv.begin(), kv.end());
    w.beginObject();
    for (const auto& [k, val] : kv) {
      w.key(k);
      w.value(val);
    }
    w.endObject();
  };
  w.beginObject();
  w.key("component");
  w.value(s.component_id);
  w.key("inputs");
  object(inputs);
  w.key("job_type");
  w.value(ir::jobTypeName(s.job_type));
  w.key("kind");
  w.value(ir::componentKindName(fs.component->kind));
  w.key("name");
  w.value(s.name);
  w.key("outputs");
  object(outputs);
  w.key("resources");
  w.beginObject();
  w.key("gpu_count");
  w.value(s.resources.gpu_count);
  w.key("instance_count");
  w.value(s.resources.instance_count);
  w.key("instance_type");
  w.value(s.resources.instance_type);
  w.key("process_count_per_instance");
  w.value(s.resources.process_count_per_instance);
  w.endObject();
  w.endObject();
  return w.take() + "\n";
}

// Settings that Azure passes as program arguments; a bound value is known
// only now, in the rendered words.
void readArgumentSettings(const std::vector<std::string>& words,
                          ir::ParallelSettings& p,
                          std::optional<ir::ParallelSettings>& holder,
                          ir::Resources& r, const ir::Component& c) {
  for (std::size_t i = 0; i + 1 < words.size(); ++i) {
    llvm::StringRef flag = words[i];
    if (!flag.consume_front("--")) continue;
    if (flag != "error_threshold" && flag != "allowed_failed_percent" &&
        flag != "task_overhead_timeout" && flag != "progress_update_timeout" &&
        flag != "first_task_creation_timeout" &&
        flag != "copy_logs_to_parent" && flag != "resource_monitor_interval")
      continue;
    ir::ConvertError err;
    llvm::StringRef text = words[i + 1];
    auto v = ir::convertLiteral(text, ir::naturalType(text, false), err);
    if (v) ir::applySetting(flag, *v, r, holder, c);
    ++i;
  }
  p = *holder;
}

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
  if (opts.python_explicit) plan.bin_dir = plan.run_dir + "/bin";
  const llvm::SourceMgr& sm = diags.sourceMgr();

  // Pipeline inputs nobody gave data to.
  bool root_unbound = false;
  for (const ir::Port& p : root.inputs) {
    if (p.optional || p.default_path || opts.root_inputs.count(p.name))
      continue;
    root_unbound = true;
    diags.report(p.range, DiagKind::RunInputUnbound,
                 "required input '" + p.name + "'",
                 "; pass --input " + p.name + "=PATH");
  }

  plan.steps.reserve(flat.steps.size());
  for (const ir::FlatStep& f : flat.steps) {
    const ir::Component& c = *f.component;
    StepPlan s;
    s.name = f.name;
    s.range = f.range;
    if (f.range.isValid()) s.location = ir::formatLoc(sm, f.range.Start);
    s.kind = c.kind == ir::ComponentKind::Parallel ? StepKind::Parallel
                                                   : StepKind::Command;
    s.job_type = f.job_type;
    s.resources = f.resources;
    s.component_id = c.displayId();
    s.dir = plan.run_dir + "/" + s.name;
    s.ml_root = s.dir + "/ml";
    s.logs_dir = s.dir + "/logs";
    s.work_dir = s.ml_root + "/usercode";
    s.deps = f.deps;
    ir::StepValues v = ir::stepValues(f, s.ml_root);

    for (const auto& [setting, value] : f.rejected_settings)
      diags.report(f.range, DiagKind::RunBadSetting, s.name, setting, value);

    for (const ir::Port& p : c.inputs) {
      auto it = f.inputs.find(p.name);
      ir::DataSource d = it == f.inputs.end() ? ir::DataSource() : it->second;
      llvm::SMRange at = d.range.isValid() ? d.range : f.range;
      switch (d.kind) {
        case ir::DataSource::Kind::None:
          if (!p.optional && !root_unbound)
            diags.report(
                at, DiagKind::RunInputUnbound,
                "required input '" + p.name + "' of step '" + s.name + "'", "");
          break;
        case ir::DataSource::Kind::Path: {
          bool from_flag = false;
          for (const auto& [n, path] : opts.root_inputs)
            if (path == d.path) from_flag = true;
          if (d.is_uri) {
            diags.report(at, DiagKind::RunUriInput, p.name, s.name, d.path,
                         "; bind a local copy with --input NAME=PATH");
            break;
          }
          if (!fs.exists(d.path)) {
            auto b = diags.report(from_flag ? llvm::SMRange() : at,
                                  DiagKind::RunPathMissing,
                                  "input '" + p.name + "'", s.name, d.path);
            if (from_flag) b.origin("--input");
            break;
          }
          InputLink l;
          l.channel = p.name;
          l.target = d.path;
          // Data given as one file (a CSV for a table input, a file for a
          // folder input) arrives inside the channel folder, and
          // PAI_INPUT_X names the file, whatever the declared type.
          l.single_file = fs.kind(d.path) == FileSystem::Kind::File;
          if (l.single_file)
            v.input_files[p.name] = llvm::sys::path::filename(d.path).str();
          s.inputs.push_back(std::move(l));
          break;
        }
        case ir::DataSource::Kind::StepOutput: {
          InputLink l;
          l.channel = p.name;
          l.producer = d.step;
          l.producer_output = d.output;
          l.target = plan.run_dir + "/" + flat.steps[d.step].name +
                     "/ml/output/" + d.output;
          s.inputs.push_back(std::move(l));
          break;
        }
      }
    }
    for (const ir::Port& o : c.outputs) {
      s.outputs.push_back(o.name);
      if (!f.step) continue;
      auto it = f.step->outputs.find(o.name);
      if (it != f.step->outputs.end() &&
          it->second.kind == ir::OutputBinding::Kind::Path &&
          !it->second.is_uri)
        s.output_targets[o.name] = it->second.path;
    }

    s.code = c.code;
    s.code_is_url = c.code_is_url;
    if (s.code_is_url && llvm::StringRef(s.code).startswith("azureml:")) {
      diags.report(c.range, DiagKind::RunCodeUnavailable, s.name, s.code,
                   "Azure ML assets are not reachable from a local run; "
                   "point 'code' at a local folder or a git URL");
    } else if (!s.code.empty() && !s.code_is_url) {
      if (fs.kind(s.code) != FileSystem::Kind::Directory) {
        diags.report(c.range, DiagKind::RunPathMissing, "code folder", s.name,
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
    if (!s.requirements.empty()) s.venv_dir = venvDir(plan, s.requirements);

    s.env = ir::flatStepEnv(f, v);
    s.hyperparameters_json = ir::hpsJson(v) + "\n";
    if (s.kind == StepKind::Parallel && f.parallel) {
      ParallelStepSpec spec;
      spec.step_name = s.name;
      spec.location = s.location;
      spec.python =
          s.venv_dir.empty() ? plan.python : s.venv_dir + "/bin/python";
      spec.code_dir = s.work_dir;
      spec.entry_script = f.parallel->entry_script;
      std::optional<ir::ParallelSettings> settings = f.parallel;
      ir::Resources r = s.resources;
      spec.program_arguments =
          splitCommand(
              ir::renderTemplate(f.parallel->program_arguments, c, v, true))
              .words;
      readArgumentSettings(spec.program_arguments, spec.settings, settings, r,
                           c);
      if (const ir::Port* in = c.findInput(spec.settings.input_data)) {
        spec.input_path = ir::inputPath(v, in->name);
        spec.input_type = in->type;
      }
      spec.instance_count = s.resources.instance_count;
      if (!spec.settings.append_row_to.empty())
        spec.append_row_to = ir::outputPath(v, spec.settings.append_row_to) +
                             "parallel_run_step.txt";
      spec.env = s.env;
      spec.logs_dir = s.logs_dir;
      spec.state_dir = s.dir + "/state";
      s.parallel_spec_path = s.dir + "/parallel_step.json";
      s.argv = {
          opts.parallel_engine.empty() ? plan.pipec_exe : opts.parallel_engine,
          "internal-parallel-step", s.parallel_spec_path};
      s.parallel = std::move(spec);
    } else {
      s.command = ir::renderTemplate(c.command, c, v, true);
      SplitCommand split = splitCommand(s.command);
      if (!split.needs_shell) s.argv = std::move(split.words);
    }
    if (s.command.empty() && !s.argv.empty()) {
      std::vector<std::string> quoted;
      for (const std::string& a : s.argv) quoted.push_back(ir::shellQuote(a));
      s.command = llvm::join(quoted, " ");
    }
    s.training_job_json = trainingJobJson(f, s, v);

    Hasher h;
    h.add(s.name);
    h.add(s.command);
    for (const auto& [k, val] : s.env) {
      h.add(k);
      h.add(val);
    }
    for (const InputLink& l : s.inputs) h.add(l.target);
    for (const std::string& o : s.outputs) h.add(o);
    h.add(s.code);
    h.add(s.requirements);
    h.add(ir::jobTypeName(s.job_type));
    h.add(s.resources.instance_count);
    h.add(s.resources.process_count_per_instance);
    h.add(s.resources.tf_chief + 10 * s.resources.tf_ps +
          100 * s.resources.tf_worker + 1000 * s.resources.tf_evaluator);
    if (s.parallel) h.add(llvm::formatv("{0}", toJson(*s.parallel)).str());
    s.hash = h.value();
    plan.steps.push_back(std::move(s));
  }
  for (const auto& [name, where] : flat.outputs)
    plan.outputs.emplace_back(name, plan.run_dir + "/" +
                                        flat.steps[where.first].name +
                                        "/ml/output/" + where.second + "/");
  if (diags.errorCount() != errors) return std::nullopt;
  return plan;
}

llvm::Error layoutStep(const RunPlan& plan, const StepPlan& s, FileSystem& fs) {
  using K = TreeEntry::Kind;
  std::vector<TreeEntry> tree;
  tree.reserve(12 + 2 * (s.inputs.size() + s.outputs.size()));
  // Paths below the step's folder, as buildPlan named them.
  auto below = [&](const std::string& path) {
    return path.substr(s.dir.size() + 1);
  };
  const std::string ml = below(s.ml_root), config = ml + "/input/config";
  for (const std::string& d :
       {below(s.logs_dir), ml, below(s.work_dir), ml + "/input", config})
    tree.push_back({K::Dir, d, ""});
  tree.push_back(
      {K::File, config + "/hyperparameters.json", s.hyperparameters_json});
  tree.push_back({K::File, config + "/training_job.json", s.training_job_json});
  if (!s.inputs.empty()) {
    tree.push_back({K::Dir, ml + "/input/data", ""});
    for (const InputLink& l : s.inputs) {
      std::string link = ml + "/input/data/" + l.channel;
      if (l.single_file) {
        tree.push_back({K::Dir, link, ""});
        tree.push_back({K::Link,
                        link + "/" + llvm::sys::path::filename(l.target).str(),
                        l.target});
      } else if (l.producer) {
        tree.push_back({K::Link, link,
                        "../../../../" + plan.steps[*l.producer].name +
                            "/ml/output/" + l.producer_output});
      } else {
        tree.push_back({K::Link, link, l.target});
      }
    }
  }
  if (!s.outputs.empty()) {
    tree.push_back({K::Dir, ml + "/output", ""});
    for (const std::string& o : s.outputs) {
      auto t = s.output_targets.find(o);
      if (t == s.output_targets.end()) {
        tree.push_back({K::Dir, ml + "/output/" + o, ""});
        continue;
      }
      if (llvm::Error e = fs.makeDirs(t->second)) return e;
      tree.push_back({K::Link, ml + "/output/" + o, t->second});
    }
  }
  if (llvm::Error e = fs.makeTree(s.dir, tree)) return e;
  if (!s.code.empty() && !s.code_is_url)
    if (llvm::Error e = fs.copyTree(s.code, s.work_dir)) return e;
  if (s.parallel) {
    std::string text = llvm::formatv("{0:2}", toJson(*s.parallel)).str() + "\n";
    if (llvm::Error e = fs.writeFile(s.parallel_spec_path, text)) return e;
  }
  return llvm::Error::success();
}

}  // namespace pipec::runtime
