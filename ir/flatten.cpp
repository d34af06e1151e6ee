// Flattening of nested pipelines into leaf steps.
#include "ir/flatten.h"

#include <set>

#include "llvm/Support/Path.h"

namespace pipec::ir {

namespace {

class Flattener {
 public:
  Flattener(const FlattenOptions& o, FlatPipeline& out) : o_(o), out_(out) {}

  // Scope of one pipeline level: values of its inputs and params as seen by
  // its steps, and where its steps' outputs live in the flat list.
  struct Scope {
    const ParamValues* params = nullptr;
    std::map<std::string, DataSource> inputs;
    std::string prefix;
  };

  void root(const Component& c) {
    ParamValues params = resolveParams(c, nullptr, o_.root_params);
    Scope scope;
    scope.params = &params;
    for (const Port& p : c.inputs) {
      DataSource d;
      d.range = p.range;
      if (auto it = o_.root_inputs.find(p.name); it != o_.root_inputs.end()) {
        d.kind = DataSource::Kind::Path;
        d.path = it->second;
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
      applyStepOverrides(s);
      out_.steps.push_back(std::move(s));
      return;
    }
    std::map<std::string, std::pair<std::size_t, std::string>> outputs;
    pipeline(*c.body, scope, outputs);
    out_.outputs = std::move(outputs);
  }

 private:
  void applyStepOverrides(FlatStep& s) {
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
    Produced produced(pl.steps.size());
    for (std::size_t idx : pl.topo_order) {
      const Step& st = pl.steps[idx];
      const Component& c = *st.component;
      std::string name = scope.prefix + st.name;
      // Inputs of this step as data sources.
      std::map<std::string, DataSource> inputs;
      for (const Port& p : c.inputs) {
        DataSource d;
        auto b = st.inputs.find(p.name);
        if (b != st.inputs.end()) d = source(b->second, pl, scope, produced);
        inputs[p.name] = d;
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
        produced[idx] = std::move(outs);
      } else {
        FlatStep s;
        s.name = name;
        s.step = &st;
        s.component = &c;
        s.params = std::move(params);
        s.inputs = std::move(inputs);
        s.range = st.range;
        std::set<std::size_t> deps;
        for (const auto& [n, d] : s.inputs)
          if (d.kind == DataSource::Kind::StepOutput) deps.insert(d.step);
        s.deps.assign(deps.begin(), deps.end());
        applyStepOverrides(s);
        std::size_t flat = out_.steps.size();
        for (const Port& o : c.outputs) produced[idx][o.name] = {flat, o.name};
        out_.steps.push_back(std::move(s));
      }
      for (const auto& [o, b] : st.outputs)
        if (b.kind == OutputBinding::Kind::ParentOutput) {
          auto it = produced[idx].find(o);
          if (it != produced[idx].end()) parent_outputs[b.name] = it->second;
        }
    }
  }

  using Produced =
      std::vector<std::map<std::string, std::pair<std::size_t, std::string>>>;

  DataSource source(const Binding& b, const Pipeline& pl, const Scope& scope,
                    const Produced& produced) {
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
        const Step* producer = pl.findStep(b.step);
        if (!producer) break;
        std::size_t idx = std::size_t(producer - pl.steps.data());
        auto it = produced[idx].find(b.name);
        if (it == produced[idx].end()) break;
        d.kind = DataSource::Kind::StepOutput;
        d.step = it->second.first;
        d.output = it->second.second;
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

FlatPipeline flatten(const Component& root, const FlattenOptions& opts) {
  FlatPipeline out;
  Flattener(opts, out).root(root);
  return out;
}

StepValues stepValues(const FlatStep& s, std::string ml_root) {
  StepValues v;
  v.ml_root = std::move(ml_root);
  v.params = s.params;
  for (const Port& p : s.component->inputs) {
    auto it = s.inputs.find(p.name);
    bool bound =
        it != s.inputs.end() && it->second.kind != DataSource::Kind::None;
    if (!bound && p.optional) v.unbound_inputs[p.name] = true;
    if (bound && p.type == Type::File &&
        it->second.kind == DataSource::Kind::Path && !it->second.is_uri)
      v.input_files[p.name] = llvm::sys::path::filename(it->second.path).str();
  }
  return v;
}

}  // namespace pipec::ir
