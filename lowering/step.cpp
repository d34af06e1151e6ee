// Lowering a flat step: command, environment, config files, topology and
// parallel task.
#include "lowering/step.h"

#include <algorithm>
#include <charconv>
#include <set>
#include <unordered_map>

#include "ir/mltable.h"
#include "ir/program_arguments.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"
#include "lowering/env.h"
#include "lowering/json_text.h"

namespace pipec::lowering {

/// The text of training_job.json of the last step written, around its name,
/// and everything else it was made from: the steps of one component mostly
/// differ only in their names.
struct TrainingJobText {
  std::string key, next_key;
  std::string head, tail;
};

struct LoweringCache::Impl {
  std::unordered_map<std::string, CompiledCommand> commands;
  /// What every step of one component shares that has values for the same
  /// inputs and parameters (shapeKey()).
  struct Shape {
    /// The PAI_* names, sorted, each with the index of its value in the
    /// order paiEnvParts() makes them; empty until first asked for.
    std::vector<std::string> env;
    bool has_env = false;
    /// For each value in paiEnvParts()'s order, its index in `env`, or -1.
    std::vector<std::size_t> slots;
    /// The command lowered without its values (in `commands`), and where
    /// each of its values comes from; the user args' follow.
    const CompiledCommand* command = nullptr;
    std::vector<ValueSource> sources;
  };
  std::unordered_map<std::string, Shape> shapes;
  /// Resolves the steps' locations (made on first use).
  std::unique_ptr<ir::LineTable> lines;
  /// Scratch space reused from one step to the next.
  StepValues step_values;
  std::string key;
  std::vector<std::string> values;
  std::vector<std::pair<llvm::StringRef, llvm::StringRef>> pairs;
  std::vector<CommandProblem> problems;
  TrainingJobText training_job;
  /// The display id of the component of the last step lowered.
  const ir::Component* id_of = nullptr;
  std::string id;
};
LoweringCache::LoweringCache() : impl(std::make_unique<Impl>()) {}
LoweringCache::~LoweringCache() = default;

namespace {

namespace diag = ir::diag;

// training_job.json as JsonWriter lays it out (llvm::json, indent 2), with
// the keys in llvm::json's sorted order, written straight into one string.
// With `last`, the previous step's text is reused when all it is made of
// but the name is equal: a field written here goes into the key too.
void trainingJobJsonTo(
    const LoweredStep& s, const ir::Component& c,
    std::vector<std::pair<llvm::StringRef, llvm::StringRef>>& kv,
    TrainingJobText* last, std::string& out) {
  std::size_t name_at = 0, name_end = 0;
  if (last) {
    // What the text is made of but the name, as bytes.
    std::string& key = last->next_key;
    key.clear();
    auto part = [&key](llvm::StringRef t) {
      key.append(t.data(), t.size());
      key += '\0';
    };
    auto num = [&key](std::int64_t n) {
      key.append(reinterpret_cast<const char*>(&n), sizeof n);
    };
    part(s.component_id);
    num(std::int64_t(s.job_type));
    num(std::int64_t(c.kind));
    for (const InputData& in : s.inputs) {
      key += in.source.kind != ir::DataSource::Kind::None ? '1' : '0';
      part(in.channel);
      part(in.path);
    }
    key += '|';
    for (const OutputData& o : s.outputs) {
      part(o.channel);
      part(o.path);
    }
    num(s.resources.gpu_count);
    num(s.resources.instance_count);
    num(s.resources.process_count_per_instance);
    part(s.resources.instance_type);
    if (!last->head.empty() && key == last->key) {
      out.assign(last->head);
      appendJsonValue(out, s.name);
      out += last->tail;
      return;
    }
    std::swap(last->key, key);
  }

  std::size_t size = 320 + s.name.size() + s.component_id.size();
  for (const InputData& in : s.inputs)
    size += 12 + in.channel.size() + in.path.size();
  for (const OutputData& o : s.outputs)
    size += 12 + o.channel.size() + o.path.size();
  out.clear();
  out.reserve(size);
  // An object of channels and paths, sorted by channel.
  auto object = [&](auto& items, auto has) {
    kv.clear();
    for (const auto& item : items)
      if (has(item)) kv.emplace_back(item.channel, item.path);
    std::sort(kv.begin(), kv.end());
    if (kv.empty()) {
      out += "{}";
      return;
    }
    out += '{';
    bool first = true;
    for (const auto& [k, val] : kv) {
      out += first ? "\n    " : ",\n    ";
      first = false;
      appendJsonValue(out, k);
      out += ": ";
      appendJsonValue(out, val);
    }
    out += "\n  }";
  };
  auto number = [&](std::int64_t n) {
    char buf[24];
    auto r = std::to_chars(buf, buf + sizeof buf, n);
    out.append(buf, std::size_t(r.ptr - buf));
  };
  out += "{\n  \"component\": ";
  appendJsonValue(out, s.component_id);
  out += ",\n  \"inputs\": ";
  object(s.inputs, [](const InputData& in) {
    return in.source.kind != ir::DataSource::Kind::None;
  });
  out += ",\n  \"job_type\": ";
  appendJsonValue(out, ir::jobTypeName(s.job_type));
  out += ",\n  \"kind\": ";
  appendJsonValue(out, ir::componentKindName(c.kind));
  out += ",\n  \"name\": ";
  name_at = out.size();
  appendJsonValue(out, s.name);
  name_end = out.size();
  out += ",\n  \"outputs\": ";
  object(s.outputs, [](const OutputData&) { return true; });
  out += ",\n  \"resources\": {\n    \"gpu_count\": ";
  number(s.resources.gpu_count);
  out += ",\n    \"instance_count\": ";
  number(s.resources.instance_count);
  out += ",\n    \"instance_type\": ";
  appendJsonValue(out, s.resources.instance_type);
  out += ",\n    \"process_count_per_instance\": ";
  number(s.resources.process_count_per_instance);
  out += "\n  }\n}\n";
  if (last) {
    last->head.assign(out, 0, name_at);
    last->tail.assign(out, name_end);
  }
}

void reportCommandProblems(const std::vector<CommandProblem>& problems,
                           ir::DiagnosticEngine& diags) {
  for (const CommandProblem& p : problems) {
    switch (p.kind) {
      case CommandProblem::Kind::ArithmeticValue:
        diags.report(p.range, diag::CommandArithmeticValue, p.detail);
        break;
      case CommandProblem::Kind::HeredocDelimiter:
        diags.report(p.range, diag::CommandHeredocDelimiter);
        break;
      case CommandProblem::Kind::HeredocNeedsRewrite:
        diags.report(p.range, diag::CommandHeredocQuoted, p.detail);
        break;
    }
  }
}

ParallelTask lowerTask(const ir::FlatStep& f, const StepValues& v,
                       const LoweredStep& s, ir::DiagnosticEngine& diags) {
  const ir::Component& c = *f.component;
  ParallelTask t;
  t.settings = *f.parallel;
  t.entry_script = f.parallel->entry_script;
  const ir::Template& args = f.parallel->program_arguments;
  t.program_arguments = splitWords(templatePieces(args, v));
  for (const ir::ArgumentSetting& a :
       ir::findArgumentSettings(t.program_arguments)) {
    std::string need = ir::applyArgumentSetting(a, t.settings);
    if (!need.empty())
      diags.report(args.range, diag::ParallelBadArgument, "--" + a.flag,
                   need + (a.has_value ? ", not '" + a.value + "'" : ""));
  }
  if (const ir::Port* in = c.findInput(t.settings.input_data)) {
    t.input_path = inputPath(v, in->name);
    t.input_type = in->type;
  }
  // Bound to a file output, the rows go into that file (Azure: "aggregate
  // all returns ... into this file"); bound to a folder, into
  // parallel_run_step.txt inside it.
  if (!t.settings.append_row_to.empty()) {
    t.append_row_to = outputPath(v, t.settings.append_row_to);
    if (!v.output_files.count(t.settings.append_row_to))
      t.append_row_to += "parallel_run_step.txt";
  }
  t.instance_count = s.resources.instance_count;
  return t;
}

// The cache key of a command: its text and which variables its bindings
// name, and the flags of $PAI_USER_ARGS; the values are not part of it.
std::string commandKey(const std::vector<CommandPiece>& pieces,
                       const std::vector<UserArg>& user_args) {
  std::string key;
  std::size_t size = 0;
  for (const CommandPiece& p : pieces)
    size +=
        2 + (p.kind == CommandPiece::Kind::Text ? p.text : p.env_var).size();
  for (const UserArg& a : user_args) size += a.flag.size() + 1;
  key.reserve(size);
  for (const CommandPiece& p : pieces) {
    key += p.kind == CommandPiece::Kind::Text ? 'T' : 'V';
    key += p.kind == CommandPiece::Kind::Text ? p.text : p.env_var;
    key += '\0';
  }
  for (const UserArg& a : user_args) {
    key += a.flag;
    key += '\0';
  }
  return key;
}

LoweredCommand lowerStepCommand(const std::vector<CommandPiece>& pieces,
                                const std::vector<UserArg>& user_args,
                                LoweringCache* cache) {
  std::vector<std::string> values;
  for (const CommandPiece& p : pieces)
    if (p.kind == CommandPiece::Kind::Value) values.push_back(p.text);
  for (const UserArg& a : user_args) values.push_back(a.value);
  if (!cache)
    return instantiateCommand(compileCommand(pieces, user_args), values);
  auto [it, fresh] =
      cache->impl->commands.try_emplace(commandKey(pieces, user_args));
  if (fresh) it->second = compileCommand(pieces, user_args);
  return instantiateCommand(it->second, values);
}

// `out` = `parts` joined, its storage reused.
template <typename... T>
void assignCat(std::string& out, const T&... parts) {
  out.clear();
  out.reserve((llvm::StringRef(parts).size() + ...));
  (out.append(llvm::StringRef(parts).data(), llvm::StringRef(parts).size()),
   ...);
}

}  // namespace

void stepLayoutTo(const ir::FlatPipeline& flat, const LoweredStep& s,
                  std::vector<LayoutEntry>& out) {
  using K = LayoutEntry::Kind;
  std::size_t n = 0;
  auto next = [&](K kind) -> LayoutEntry& {
    if (n == out.size()) out.emplace_back();
    LayoutEntry& e = out[n++];
    e.kind = kind;
    e.target.clear();
    e.make_target = false;
    e.after_code = false;
    return e;
  };
  auto dir = [&](const auto&... path) {
    assignCat(next(K::Dir).path, path...);
  };
  // A link at the path `at` joined; its target is set by the caller.
  auto link = [&](const auto&... at) -> LayoutEntry& {
    LayoutEntry& e = next(K::Link);
    assignCat(e.path, at...);
    return e;
  };
  for (const char* d :
       {"logs", "ml", "ml/usercode", "ml/input", "ml/input/config"})
    dir(d);
  bool data = false;
  for (const InputData& in : s.inputs) {
    const ir::DataSource& d = in.source;
    if (d.kind == ir::DataSource::Kind::None ||
        (d.kind == ir::DataSource::Kind::Path && d.is_uri))
      continue;
    if (!data) dir("ml/input/data");
    data = true;
    if (d.kind == ir::DataSource::Kind::Path) {
      if (in.single_file) {
        // A single file: the channel folder holds a link named like it.
        dir("ml/input/data/", in.channel);
        link("ml/input/data/", in.channel, "/",
             llvm::sys::path::filename(d.path))
            .target = d.path;
      } else {
        link("ml/input/data/", in.channel).target = d.path;
      }
      continue;
    }
    // Another step's output, relative so that a run folder can move.
    const std::string& producer = flat.steps[d.step].name;
    if (in.single_file) {
      llvm::StringRef file = llvm::sys::path::filename(in.path);
      dir("ml/input/data/", in.channel);
      assignCat(link("ml/input/data/", in.channel, "/", file).target,
                "../../../../../", producer, "/ml/output/", d.output, "/",
                file);
    } else {
      assignCat(link("ml/input/data/", in.channel).target, "../../../../",
                producer, "/ml/output/", d.output);
    }
  }
  if (!s.outputs.empty()) {
    dir("ml/output");
    for (const OutputData& o : s.outputs) {
      if (o.target.empty()) {
        dir("ml/output/", o.channel);
      } else {
        LayoutEntry& e = link("ml/output/", o.channel);
        e.target = o.target;
        e.make_target = true;
      }
    }
  }
  // ./outputs and ./logs of a command step's working folder (Azure ML),
  // kept beside it so that its default outputs can name them; a folder of
  // the code's own of that name stays, and a git URL is cloned into an
  // empty folder, so has neither.
  if (s.kind == StepKind::Command && !s.code_is_url) {
    dir("ml/artifacts");
    dir("ml/artifacts/outputs");
    dir("ml/artifacts/logs");
    LayoutEntry& outputs = link("ml/usercode/outputs");
    outputs.target = "../artifacts/outputs";
    outputs.after_code = true;
    LayoutEntry& logs = link("ml/usercode/logs");
    logs.target = "../artifacts/logs";
    logs.after_code = true;
  }
  out.resize(n);
}

namespace {

/// The component, which of its inputs are unbound and which parameters
/// have values: what the names of a step's environment and the text of
/// its command depend on (not the values).
void shapeKeyTo(const ir::Component& c, const StepValues& v, std::string& key) {
  key.clear();
  auto ptr = [&](const void* p) {
    key.append(reinterpret_cast<const char*>(&p), sizeof p);
  };
  ptr(&c);
  for (const ir::Port& p : c.inputs)
    key +=
        !v.unbound_inputs.empty() && v.unbound_inputs.count(p.name) ? '0' : '1';
  for (const auto& [param, value] : v.params) {
    ptr(param);
    key += value ? '1' : '0';
  }
}

/// flatStepEnv() written over `env`, the names and their order taken from
/// `shape`.
void stepEnvTo(const ir::FlatStep& f, const StepValues& v,
               LoweringCache::Impl::Shape* shape, EnvList& env) {
  const auto& user = f.step ? f.step->environment_variables
                            : f.component->environment_variables;
  if (!shape || !user.empty()) {
    env = flatStepEnv(f, v);
    return;
  }
  if (!shape->has_env) {
    std::vector<std::string> names;
    paiEnvParts(*f.component, v, &names, nullptr);
    EnvList at;
    at.reserve(names.size());
    for (std::size_t i = 0; i < names.size(); ++i)
      at.emplace_back(std::move(names[i]), std::to_string(i));
    // Where each value goes; one that a later one of its name replaces
    // goes nowhere.
    shape->slots.assign(names.size(), std::size_t(-1));
    for (auto& [name, i] : sortedEnv(std::move(at))) {
      shape->slots[std::stoul(i)] = shape->env.size();
      shape->env.push_back(std::move(name));
    }
    shape->has_env = true;
  }
  env.resize(shape->env.size());
  for (std::size_t k = 0; k < env.size(); ++k)
    if (env[k].first != shape->env[k]) env[k].first = shape->env[k];
  std::size_t i = 0;
  std::string nowhere;
  paiEnvValuesTo(*f.component, v, [&]() -> std::string& {
    std::size_t k = shape->slots[i++];
    return k < env.size() ? env[k].second : nowhere;
  });
}

/// lowerStepCommand() of the component's command written over `s`'s
/// command, its pieces and compiled form taken from `shape`.
void stepCommandTo(const ir::Component& c, const StepValues& v,
                   LoweringCache& cache, LoweringCache::Impl::Shape& shape,
                   LoweredStep& s, std::vector<CommandProblem>& problems) {
  if (!shape.command) {
    std::vector<CommandPiece> pieces =
        templatePieces(c.command, v, &shape.sources);
    std::vector<UserArg> user_args = userArgList(v);
    auto [it, fresh] =
        cache.impl->commands.try_emplace(commandKey(pieces, user_args));
    if (fresh) it->second = compileCommand(pieces, user_args);
    shape.command = &it->second;
  }
  std::vector<std::string>& values = cache.impl->values;
  std::size_t n = shape.sources.size();
  for (const auto& param : v.params) n += param.second ? 1 : 0;
  values.resize(n);
  std::size_t k = 0;
  for (const ValueSource& src : shape.sources) src.valueTo(v, values[k++]);
  for (std::size_t i = 0; i < v.params.size(); ++i)
    if (v.params[i].second) v.textTo(i, values[k++]);
  instantiateCommandTo(*shape.command, values, s.command, s.argv, problems);
}

}  // namespace

void lowerStep(const ir::FlatPipeline& flat, std::size_t index,
               llvm::StringRef ml_root, const LoweringOptions& opts,
               ir::DiagnosticEngine& diags, LoweredStep& s) {
  const ir::FlatStep& f = flat.steps[index];
  const ir::Component& c = *f.component;
  // Scratch space kept across the steps lowered with one cache.
  std::optional<LoweringCache> local;
  if (!opts.cache) local.emplace();
  LoweringCache::Impl& x = opts.cache ? *opts.cache->impl : *local->impl;
  s.name = f.name;
  s.range = f.range;
  s.location.clear();
  if (f.range.isValid() && opts.locations) {
    if (!x.lines) x.lines = std::make_unique<ir::LineTable>(diags.sourceMgr());
    s.location = ir::formatLoc(x.lines->resolve(f.range.Start));
  }
  s.kind = c.kind == ir::ComponentKind::Parallel ? StepKind::Parallel
                                                 : StepKind::Command;
  s.job_type = f.job_type;
  s.resources = f.resources;
  if (x.id_of != &c) {
    x.id = c.displayId();
    x.id_of = &c;
  }
  s.component_id = x.id;
  s.image = c.image;
  s.cache = c.cache;
  s.code = c.code;
  s.code_is_url = c.code_is_url;
  s.deps.assign(f.deps.begin(), f.deps.end());
  StepValues& v = x.step_values;
  stepValuesTo(f, ml_root, opts.is_file, &flat, v);
  s.ml_root = v.ml_root;
  assignCat(s.work_dir, v.ml_root, "/usercode");

  for (const auto& [setting, value] : f.rejected_settings)
    diags.report(f.range, diag::RunBadSetting, s.name, setting, value);

  s.inputs.resize(c.inputs.size());
  for (std::size_t i = 0; i < c.inputs.size(); ++i) {
    const ir::Port& p = c.inputs[i];
    InputData& in = s.inputs[i];
    in.channel = p.name;
    in.type = p.type;
    in.optional = p.optional;
    if (auto it = f.inputs.find(p.name); it != f.inputs.end())
      in.source = it->second;
    else
      in.source = ir::DataSource();
    in.single_file = v.input_files.count(p.name) != 0;
    inputPathTo(v, p.name, in.path);
  }
  s.outputs.resize(c.outputs.size() + f.default_outputs.size());
  for (std::size_t i = 0; i < c.outputs.size(); ++i) {
    const ir::Port& p = c.outputs[i];
    OutputData& o = s.outputs[i];
    o.channel = p.name;
    o.type = p.type;
    outputPathTo(v, p.name, o.path);
    o.target.clear();
    o.own_tree = false;
    if (f.step && f.output_paths) {
      auto it = f.step->outputs.find(p.name);
      if (it != f.step->outputs.end() &&
          it->second.kind == ir::OutputBinding::Kind::Path &&
          !it->second.is_uri) {
        o.target = it->second.path;
        // A file output bound to a file path: the channel folder is the
        // file's folder.
        auto file = v.output_files.find(p.name);
        if (file != v.output_files.end() &&
            llvm::sys::path::filename(o.target) == file->second)
          o.target = llvm::sys::path::parent_path(o.target).str();
      }
    }
  }
  // Default outputs a later step reads (Azure's `artifacts` and `default`):
  // folders of the step's own tree that ./outputs and ./logs of its working
  // folder lead to; no variable names them.
  for (std::size_t i = 0; i < f.default_outputs.size(); ++i) {
    const std::string& d = f.default_outputs[i];
    OutputData& o = s.outputs[c.outputs.size() + i];
    o.channel = d;
    o.type = OutputData().type;
    assignCat(o.path, v.ml_root, "/output/", d, "/");
    o.target = defaultOutputDir(v.ml_root, d);
    o.own_tree = true;
  }

  LoweringCache::Impl::Shape* shape = nullptr;
  if (opts.cache) {
    shapeKeyTo(c, v, x.key);
    auto it = x.shapes.find(x.key);
    if (it == x.shapes.end()) it = x.shapes.try_emplace(x.key).first;
    shape = &it->second;
  }
  stepEnvTo(f, v, shape, s.env);
  // PAI_HPS holds the file's text (PAI_* win over environment_variables).
  auto hps =
      std::lower_bound(s.env.begin(), s.env.end(), llvm::StringRef("PAI_HPS"),
                       [](const auto& kv, llvm::StringRef k) {
                         return llvm::StringRef(kv.first) < k;
                       });
  if (hps != s.env.end() && hps->first == "PAI_HPS")
    s.hyperparameters_json = hps->second;
  else
    hpsJsonTo(v, s.hyperparameters_json);
  s.hyperparameters_json += '\n';
  if (s.kind == StepKind::Parallel && f.parallel) {
    s.task = lowerTask(f, v, s, diags);
    s.command.clear();
    s.argv.clear();
    s.processes.assign(1, ProcessSlot{"main", "", 0, "", {}, true});
  } else {
    s.task.reset();
    if (shape) {
      stepCommandTo(c, v, *opts.cache, *shape, s, x.problems);
      reportCommandProblems(x.problems, diags);
    } else {
      LoweredCommand cmd = lowerStepCommand(templatePieces(c.command, v),
                                            userArgList(v), opts.cache);
      reportCommandProblems(cmd.problems, diags);
      s.command = std::move(cmd.shell);
      s.argv = std::move(cmd.argv);
    }
    s.processes = processSlots(s.job_type, s.resources);
  }
  trainingJobJsonTo(s, c, x.pairs, opts.cache ? &x.training_job : nullptr,
                    s.training_job_json);
  if (opts.layout)
    stepLayoutTo(flat, s, s.layout);
  else
    s.layout.clear();
}

LoweredStep lowerStep(const ir::FlatPipeline& flat, std::size_t index,
                      std::string ml_root, const LoweringOptions& opts,
                      ir::DiagnosticEngine& diags) {
  LoweredStep s;
  lowerStep(flat, index, ml_root, opts, diags, s);
  return s;
}

void checkCommands(const ir::Module& m, ir::DiagnosticEngine& diags) {
  // Once per component, with the values of the first step that uses it
  // (its defaults when no step does), so that reading on after a problem
  // goes as a run would. Only what does not depend on the values is
  // reported.
  std::vector<std::pair<const ir::Component*, const ir::Step*>> todo;
  std::set<const ir::Component*> seen;
  for (const auto& c : m.components)
    if (c->kind == ir::ComponentKind::Pipeline && c->body)
      for (const ir::Step& st : c->body->steps)
        if (seen.insert(st.component).second)
          todo.emplace_back(st.component, &st);
  for (const auto& c : m.components)
    if (seen.insert(c.get()).second) todo.emplace_back(c.get(), nullptr);
  for (const auto& [c, step] : todo) {
    if (c->kind != ir::ComponentKind::Command || c->command.empty()) continue;
    StepValues v;
    v.params = ir::resolveParams(*c, step, {});
    for (auto& [param, value] : v.params)
      if (!value) value = ir::Value::makeString("");
    CompiledCommand cmd =
        compileCommand(templatePieces(c->command, v), userArgList(v));
    reportCommandProblems(cmd.problems, diags);
  }
}

std::vector<LoweredStep> lowerPipeline(const ir::FlatPipeline& flat,
                                       const LoweringOptions& opts,
                                       ir::DiagnosticEngine& diags) {
  LoweringCache cache;
  LoweringOptions with_cache = opts;
  if (!with_cache.cache) with_cache.cache = &cache;
  std::vector<LoweredStep> out;
  out.reserve(flat.steps.size());
  for (std::size_t i = 0; i < flat.steps.size(); ++i)
    out.push_back(lowerStep(flat, i, "/ml", with_cache, diags));
  return out;
}

bool checkSplitterMLTable(const LoweredStep& s, llvm::StringRef target,
                          ir::DiagnosticEngine& diags) {
  if (!s.task) return true;
  for (const InputData& in : s.inputs) {
    const ir::DataSource& d = in.source;
    if (in.channel != s.task->settings.input_data ||
        d.kind != ir::DataSource::Kind::Path || d.is_uri)
      continue;
    std::string file = d.path + "/MLTable";
    if (!llvm::sys::fs::is_regular_file(file)) return true;
    auto buf = llvm::MemoryBuffer::getFile(file, /*IsText=*/false,
                                           /*RequiresNullTerminator=*/false);
    if (!buf) return true;  // the pods and the script say what they cannot read
    unsigned id =
        diags.sourceMgr().AddNewSourceBuffer(std::move(*buf), llvm::SMLoc());
    auto [range, c] = ir::mltable::splitterUnreadable(diags.sourceMgr(), id);
    if (!range.isValid()) return true;
    const char* what = c == '&'   ? "an anchor"
                       : c == '!' ? "a tag"
                                  : "a block scalar";
    diags
        .report(range, ir::diag::SplitterYamlConstruct, s.name, what,
                std::string(1, c), target)
        .note(llvm::SMRange(),
              "write the value out in the MLTable file (an alias as a copy "
              "of what it names), or run the step with pipec run");
    return false;
  }
  return true;
}

}  // namespace pipec::lowering
