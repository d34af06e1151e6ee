// Flattening of nested pipelines into leaf steps.
#include "ir/flatten.h"

#include <algorithm>

#include "ir/settings.h"
#include "llvm/ADT/CachedHashString.h"
#include "llvm/ADT/DenseMap.h"
#include "llvm/ADT/STLExtras.h"

namespace pipec::ir {

namespace {

// The binding of `name` in a step's bindings, or null. A step has a few
// bindings: comparing lengths first, a scan is cheaper than the tree's
// ordered comparisons.
const Binding* findBinding(const std::map<std::string, Binding>& bindings,
                           llvm::StringRef name) {
  if (bindings.size() > 16) {
    auto it = bindings.find(name.str());
    return it == bindings.end() ? nullptr : &it->second;
  }
  for (const auto& [n, b] : bindings)
    if (llvm::StringRef(n) == name) return &b;
  return nullptr;
}

using ByName = llvm::DenseMap<llvm::CachedHashStringRef, std::size_t>;

class Flattener {
 public:
  Flattener(const FlattenOptions& o, FlatPipeline& out) : o_(o), out_(out) {}

  // Scope of one pipeline level: values of its inputs and params as seen by
  // its steps, and where its steps' outputs live in the flat list.
  struct Scope {
    const ParamValues* params = nullptr;
    StringVecMap<DataSource> inputs;
    std::string prefix;
  };

  void root(const Component& c) {
    ParamValues params = resolveParams(c, nullptr, o_.root_params);
    Scope scope;
    scope.params = &params;
    for (const Port& p : c.inputs) {
      DataSource d;
      d.range = p.range;
      d.root_input = p.name;
      if (auto it = o_.root_inputs.find(p.name); it != o_.root_inputs.end()) {
        d.kind = DataSource::Kind::Path;
        d.path = it->second;
        d.is_uri = llvm::StringRef(d.path).contains("://");
      } else if (p.default_path) {
        d.kind = DataSource::Kind::Path;
        d.path = *p.default_path;
        d.is_uri = llvm::StringRef(d.path).contains("://") ||
                   llvm::StringRef(d.path).startswith("azureml:");
      }
      scope.inputs[p.name] = d;
    }
    if (c.kind != ComponentKind::Pipeline || !c.body) {
      FlatStep s;
      s.name = o_.lone_step_name.empty() ? (c.name.empty() ? "main" : c.name)
                                         : o_.lone_step_name;
      s.component = &c;
      s.params = params;
      s.inputs = scope.inputs;
      s.range = c.range;
      s.job_type = c.job_type;
      s.resources = c.resources;
      s.parallel = c.parallel;
      applyStepOverrides(s);
      out_.steps.push_back(std::move(s));
      return;
    }
    std::map<std::string, std::pair<std::size_t, std::string>> outputs;
    out_.steps.reserve(c.body->steps.size());
    pipeline(*c.body, scope, outputs);
    out_.outputs = std::move(outputs);
    markDefaultOutputs();
  }

 private:
  // The default outputs that are read, on their producers.
  void markDefaultOutputs() {
    auto mark = [&](std::size_t step, const std::string& output) {
      if (step >= out_.steps.size()) return;
      FlatStep& p = out_.steps[step];
      if (!llvm::is_contained(kDefaultOutputs, output) ||
          p.component->findOutput(output) ||
          llvm::is_contained(p.default_outputs, output))
        return;
      p.default_outputs.push_back(output);
      std::sort(p.default_outputs.begin(), p.default_outputs.end());
    };
    for (const FlatStep& s : out_.steps)
      for (const auto& [n, d] : s.inputs)
        if (d.kind == DataSource::Kind::StepOutput) mark(d.step, d.output);
    for (const auto& [n, where] : out_.outputs) mark(where.first, where.second);
  }

  void applyStepOverrides(FlatStep& s) {
    if (auto in = o_.step_inputs.find(s.name); in != o_.step_inputs.end())
      for (const auto& [name, path] : in->second) {
        DataSource& d = s.inputs[name];
        d.kind = DataSource::Kind::Path;
        d.path = path;
        d.is_uri = llvm::StringRef(path).contains("://");
        d.step = 0;
        d.output.clear();
        d.root_input.clear();
      }
    auto it = o_.step_params.find(s.name);
    if (it == o_.step_params.end()) return;
    for (auto& [p, v] : s.params)
      if (auto o = it->second.find(p->name); o != it->second.end())
        v = o->second;
  }

  // Lowers one pipeline level; `parent_outputs` receives where this level's
  // pipeline outputs are produced.
  void pipeline(const Pipeline& pl, const Scope& scope,
                std::map<std::string, std::pair<std::size_t, std::string>>&
                    parent_outputs) {
    // Where each step's outputs are, in flat terms: step index -> output ->
    // loc.
    std::vector<Produced> produced(pl.steps.size());
    // Steps by name: bindings name their producers. The names stay where
    // they are, in the pipeline.
    ByName by_name;
    by_name.reserve(pl.steps.size());
    for (std::size_t i = 0; i < pl.steps.size(); ++i)
      by_name.try_emplace(llvm::CachedHashStringRef(pl.steps[i].name), i);
    for (std::size_t idx : pl.topo_order) {
      const Step& st = pl.steps[idx];
      const Component& c = *st.component;
      std::string name = scope.prefix + st.name;
      // Inputs of this step as data sources.
      StringVecMap<DataSource> inputs;
      inputs.reserve(c.inputs.size());
      for (const Port& p : c.inputs) {
        DataSource d;
        if (const Binding* b = findBinding(st.inputs, p.name))
          d = source(*b, by_name, scope, produced);
        inputs[p.name] = std::move(d);
      }
      ParamValues params = resolveParams(c, &st, {}, scope.params);
      if (c.kind == ComponentKind::Pipeline && c.body) {
        auto owned = std::make_unique<ParamValues>(std::move(params));
        Scope inner;
        inner.params = owned.get();
        inner.inputs = std::move(inputs);
        inner.prefix = name + ".";
        keep_.push_back(std::move(owned));
        std::map<std::string, std::pair<std::size_t, std::string>> outs;
        pipeline(*c.body, inner, outs);
        produced[idx].outs = std::move(outs);
      } else {
        // Made where it stays.
        FlatStep& s = out_.steps.emplace_back();
        s.name = std::move(name);
        s.step = &st;
        s.component = &c;
        s.params = std::move(params);
        s.inputs = std::move(inputs);
        s.range = st.range;
        s.job_type = st.job_type;
        s.resources = st.resources;
        s.parallel = st.parallel;
        for (const auto& [o, b] : st.outputs)
          s.output_paths |= b.kind == OutputBinding::Kind::Path;
        applySettingBindings(s, st, scope);
        applyStepOverrides(s);
        for (const auto& [n, d] : s.inputs)
          if (d.kind == DataSource::Kind::StepOutput) s.deps.push_back(d.step);
        llvm::sort(s.deps);
        s.deps.erase(std::unique(s.deps.begin(), s.deps.end()), s.deps.end());
        produced[idx].leaf = &c;
        produced[idx].flat = out_.steps.size() - 1;
      }
      for (const auto& [o, b] : st.outputs)
        if (b.kind == OutputBinding::Kind::ParentOutput)
          if (auto where = produced[idx].find(o))
            parent_outputs[b.name] = {where->first, where->second.str()};
    }
  }

  // Settings bound to this level's inputs take the inputs' values.
  static void applySettingBindings(FlatStep& s, const Step& st,
                                   const Scope& scope) {
    if (st.setting_bindings.empty() || !scope.params) return;
    std::int64_t old_count = s.resources.instance_count;
    for (const auto& [setting, input] : st.setting_bindings)
      for (const auto& [param, value] : *scope.params)
        if (param->name == input && value &&
            !applySetting(setting, *value, s.resources, s.parallel.get(),
                          *s.component))
          s.rejected_settings.emplace_back(setting, value->toText());
    // TensorFlow workers default to instance_count.
    if (!st.setting_bindings.count("worker_count") &&
        s.resources.tf_worker == old_count)
      s.resources.tf_worker = s.resources.instance_count;
  }

  // Where one step's outputs are in flat terms. A leaf step's outputs are
  // its own (its component's outputs, and the default outputs of a command),
  // looked up on the component rather than copied per step; a pipeline
  // step's are where its body produces them.
  struct Produced {
    const Component* leaf = nullptr;
    std::size_t flat = 0;
    std::map<std::string, std::pair<std::size_t, std::string>> outs;

    std::optional<std::pair<std::size_t, llvm::StringRef>> find(
        llvm::StringRef output) const {
      if (leaf) {
        if (leaf->findOutput(output) ||
            (leaf->kind == ComponentKind::Command &&
             llvm::is_contained(kDefaultOutputs, output)))
          return std::make_pair(flat, output);
        return std::nullopt;
      }
      auto it = outs.find(output.str());
      if (it == outs.end()) return std::nullopt;
      return std::make_pair(it->second.first,
                            llvm::StringRef(it->second.second));
    }
  };

  DataSource source(const Binding& b, const ByName& by_name, const Scope& scope,
                    const std::vector<Produced>& produced) {
    DataSource d;
    d.range = b.range;
    switch (b.kind) {
      case Binding::Kind::Path:
        d.kind = DataSource::Kind::Path;
        d.path = b.path;
        d.is_uri = b.is_uri;
        break;
      case Binding::Kind::ParentInput: {
        auto it = scope.inputs.find(b.name);
        if (it != scope.inputs.end()) {
          d = it->second;
          if (d.kind == DataSource::Kind::None) d.range = b.range;
        }
        break;
      }
      case Binding::Kind::StepOutput: {
        // The producer is a sibling at this level; it ran earlier in
        // topological order, so its outputs are known.
        auto producer = by_name.find(llvm::CachedHashStringRef(b.step));
        if (producer == by_name.end()) break;
        std::size_t idx = producer->second;
        auto where = produced[idx].find(b.name);
        if (!where) break;
        d.kind = DataSource::Kind::StepOutput;
        d.step = where->first;
        d.output = where->second.str();
        break;
      }
      case Binding::Kind::Literal:
        break;
    }
    return d;
  }

  const FlattenOptions& o_;
  FlatPipeline& out_;
  std::vector<std::unique_ptr<ParamValues>> keep_;
};

}  // namespace

ParamValues resolveParams(const Component& c, const Step* step,
                          const std::map<std::string, Value>& overrides,
                          const ParamValues* parent) {
  ParamValues out;
  out.reserve(c.params.size());
  for (const Param& p : c.params) {
    // The value is found first and copied once.
    const Value* v = p.default_value ? &*p.default_value : nullptr;
    if (auto it = overrides.find(p.name); it != overrides.end()) {
      v = &it->second;
    } else if (step) {
      if (const Binding* b = findBinding(step->inputs, p.name)) {
        const Binding& bind = *b;
        if (bind.kind == Binding::Kind::Literal) {
          v = bind.literal ? &*bind.literal : nullptr;
        } else if (bind.kind == Binding::Kind::ParentInput && parent) {
          for (const auto& [pp, pv] : *parent)
            if (pp->name == bind.name) v = pv ? &*pv : nullptr;
        }
      }
    }
    // A value bound from elsewhere keeps the declared type of this parameter.
    if (v && p.type == Type::Float && v->kind() == Value::Kind::Int)
      out.emplace_back(&p, Value::makeFloat(v->asFloat()));
    else if (v && p.type == Type::String && v->kind() != Value::Kind::String)
      out.emplace_back(&p, Value::makeString(v->toText()));
    else if (v)
      out.emplace_back(&p, *v);
    else
      out.emplace_back(&p, std::nullopt);
  }
  return out;
}

FlatPipeline flatten(const Component& root, const FlattenOptions& opts) {
  FlatPipeline out;
  Flattener(opts, out).root(root);
  return out;
}

bool applySetting(llvm::StringRef setting, const Value& value, Resources& r,
                  ParallelSettings* par, const Component& c) {
  const SettingInfo* s = findSetting(setting);
  if (!s) return false;
  const Port* in = par ? c.findInput(par->input_data) : nullptr;
  return applySetting(*s, value.toText(), r, par, in && in->type == Type::Table)
      .empty();
}

}  // namespace pipec::ir
