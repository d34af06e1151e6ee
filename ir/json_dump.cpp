// Writes the IR as canonical JSON.
#include "ir/json_dump.h"

#include "ir/diagnostics.h"
#include "ir/settings.h"
#include "llvm/ADT/SmallString.h"
#include "llvm/ADT/SmallVector.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/Path.h"

namespace pipec::ir {

using llvm::json::Array;
using llvm::json::Object;

std::string templateSource(const Template& t) {
  std::string out;
  int open_group = -1;
  for (const TemplatePiece& p : t.pieces) {
    if (p.group != open_group) {
      if (open_group >= 0) out += "]]";
      if (p.group >= 0) out += "$[[";
      open_group = p.group;
    }
    switch (p.kind) {
      case TemplatePiece::Kind::Text:
        out += p.text;
        break;
      case TemplatePiece::Kind::Input:
        out += "$<<inputs." + p.text + ">>";
        break;
      case TemplatePiece::Kind::Output:
        out += "$<<outputs." + p.text + ">>";
        break;
      case TemplatePiece::Kind::Param:
        out += "$<<parameters." + p.text + ">>";
        break;
      case TemplatePiece::Kind::RuntimeToken:
        out += "${{" + p.text + "}}";
        break;
    }
  }
  if (open_group >= 0) out += "]]";
  return out;
}

std::string relativePath(llvm::StringRef path, llvm::StringRef base) {
  if (base.empty() || !llvm::sys::path::is_absolute(path)) return path.str();
  llvm::SmallVector<llvm::StringRef, 16> p, b;
  for (auto it = llvm::sys::path::begin(path), e = llvm::sys::path::end(path);
       it != e; ++it)
    p.push_back(*it);
  for (auto it = llvm::sys::path::begin(base), e = llvm::sys::path::end(base);
       it != e; ++it)
    b.push_back(*it);
  std::size_t common = 0;
  while (common < p.size() && common < b.size() && p[common] == b[common])
    ++common;
  if (common <= 1) return path.str();  // only "/" in common: keep absolute
  llvm::SmallString<128> out;
  for (std::size_t i = common; i < b.size(); ++i)
    llvm::sys::path::append(out, "..");
  for (std::size_t i = common; i < p.size(); ++i)
    llvm::sys::path::append(out, p[i]);
  if (out.empty()) return ".";
  return std::string(out);
}

namespace {

class Dumper {
 public:
  Dumper(const Module& m, const DumpOptions& o) : m_(m), o_(o) {}

  llvm::json::Value module() {
    Object root;
    root["format"] = "pipec-ir/1";
    Array components;
    std::vector<const Component*> named;
    for (const auto& c : m_.components)
      if (!c->is_inline && c.get() != m_.root) named.push_back(c.get());
    std::sort(
        named.begin(), named.end(), [](const Component* a, const Component* b) {
          return std::tie(a->name, a->version) < std::tie(b->name, b->version);
        });
    for (const Component* c : named) components.push_back(component(*c));
    root["components"] = std::move(components);
    if (m_.root) root["root"] = component(*m_.root);
    return root;
  }

 private:
  void loc(Object& o, SMRange r) {
    if (o_.locations && o_.sm && r.Start.isValid())
      o["loc"] = formatLoc(*o_.sm, r.Start);
  }

  std::string path(const std::string& p) {
    return relativePath(p, m_.root_dir);
  }

  llvm::json::Value resources(const Resources& r) {
    Object o;
    o["instance_type"] = r.instance_type;
    o["instance_count"] = r.instance_count;
    o["multi_instance"] = r.multi_instance;
    o["multi_gpu"] = r.multi_gpu;
    o["gpu_count"] = r.gpu_count;
    o["process_count_per_instance"] = r.process_count_per_instance;
    if (r.mpi) o["mpi"] = true;
    if (r.tf_chief || r.tf_ps || r.tf_worker || r.tf_evaluator) {
      o["tf_roles"] = Object{{"chief", r.tf_chief},
                             {"ps", r.tf_ps},
                             {"worker", r.tf_worker},
                             {"evaluator", r.tf_evaluator}};
    }
    return o;
  }

  llvm::json::Value parallel(const ParallelSettings& p) {
    Object o = settingsJson(p);
    o["program_arguments"] = templateSource(p.program_arguments);
    return o;
  }

  llvm::json::Value envVars(
      const std::vector<std::pair<std::string, std::string>>& vars) {
    Object o;
    for (const auto& [k, v] : vars) o[k] = v;
    return o;
  }

  llvm::json::Value port(const Port& p) {
    Object o;
    o["name"] = p.name;
    o["type"] = typeName(p.type);
    o["optional"] = p.optional;
    if (!p.description.empty()) o["description"] = p.description;
    if (p.default_path) o["default_path"] = path(*p.default_path);
    if (!p.mode.empty()) o["mode"] = p.mode;
    loc(o, p.range);
    return o;
  }

  llvm::json::Value param(const Param& p) {
    Object o;
    o["name"] = p.name;
    o["type"] = typeName(p.type);
    o["optional"] = p.optional;
    if (p.default_value) o["default"] = p.default_value->toJson();
    if (p.min) o["min"] = *p.min;
    if (p.max) o["max"] = *p.max;
    if (!p.enum_values.empty()) {
      Array e;
      for (const Value& v : p.enum_values) e.push_back(v.toJson());
      o["enum"] = std::move(e);
    }
    if (!p.description.empty()) o["description"] = p.description;
    loc(o, p.range);
    return o;
  }

  llvm::json::Value binding(const Binding& b) {
    Object o;
    switch (b.kind) {
      case Binding::Kind::Literal:
        o["kind"] = "literal";
        if (b.literal) o["value"] = b.literal->toJson();
        break;
      case Binding::Kind::ParentInput:
        o["kind"] = "parent_input";
        o["name"] = b.name;
        break;
      case Binding::Kind::StepOutput:
        o["kind"] = "step_output";
        o["step"] = b.step;
        o["output"] = b.name;
        break;
      case Binding::Kind::Path:
        o["kind"] = b.is_uri ? "uri" : "path";
        o["path"] = b.is_uri ? b.path : path(b.path);
        break;
    }
    if (b.type) o["type"] = typeName(*b.type);
    if (!b.mode.empty()) o["mode"] = b.mode;
    loc(o, b.range);
    return o;
  }

  llvm::json::Value outputBinding(const OutputBinding& b) {
    Object o;
    switch (b.kind) {
      case OutputBinding::Kind::Default:
        o["kind"] = "default";
        break;
      case OutputBinding::Kind::ParentOutput:
        o["kind"] = "parent_output";
        o["name"] = b.name;
        break;
      case OutputBinding::Kind::Path:
        o["kind"] = b.is_uri ? "uri" : "path";
        o["path"] = b.is_uri ? b.path : path(b.path);
        break;
    }
    if (b.type) o["type"] = typeName(*b.type);
    if (!b.mode.empty()) o["mode"] = b.mode;
    loc(o, b.range);
    return o;
  }

  llvm::json::Value step(const Pipeline& pl, const Step& s) {
    Object o;
    o["name"] = s.name;
    if (s.component->is_inline)
      o["component"] = component(*s.component);
    else
      o["component"] = s.component->displayId();
    Object in;
    for (const auto& [k, b] : s.inputs) in[k] = binding(b);
    o["inputs"] = std::move(in);
    Object out;
    for (const auto& [k, b] : s.outputs) out[k] = outputBinding(b);
    o["outputs"] = std::move(out);
    o["job_type"] = jobTypeName(s.job_type);
    o["resources"] = resources(s.resources);
    if (s.parallel) o["parallel"] = parallel(*s.parallel);
    if (!s.environment_variables.empty())
      o["environment_variables"] = envVars(s.environment_variables);
    if (!s.extra.empty()) o["extra"] = Object(s.extra);
    if (!s.setting_bindings.empty()) {
      Object sb;
      for (const auto& [k, v] : s.setting_bindings) sb[k] = v;
      o["setting_bindings"] = std::move(sb);
    }
    Array deps;
    for (std::size_t d : s.deps) deps.push_back(pl.steps[d].name);
    o["deps"] = std::move(deps);
    loc(o, s.range);
    return o;
  }

  llvm::json::Value component(const Component& c) {
    Object o;
    o["name"] = c.name;
    o["version"] = c.version;
    if (!c.display_name.empty()) o["display_name"] = c.display_name;
    if (!c.description.empty()) o["description"] = c.description;
    o["kind"] = componentKindName(c.kind);
    if (c.kind != ComponentKind::Pipeline) {
      o["job_type"] = jobTypeName(c.job_type);
      o["image"] = c.image;
      if (!c.cache) o["cache"] = false;
      o["code"] = c.code_is_url ? c.code : path(c.code);
      o["command"] = templateSource(c.command);
      o["resources"] = resources(c.resources);
    }
    Array in, out, params;
    for (const Port& p : c.inputs) in.push_back(port(p));
    for (const Port& p : c.outputs) out.push_back(port(p));
    for (const Param& p : c.params) params.push_back(param(p));
    o["inputs"] = std::move(in);
    o["outputs"] = std::move(out);
    o["parameters"] = std::move(params);
    if (!c.environment_variables.empty())
      o["environment_variables"] = envVars(c.environment_variables);
    if (c.parallel) o["parallel"] = parallel(*c.parallel);
    if (c.body) {
      Array steps, order;
      for (const Step& s : c.body->steps) steps.push_back(step(*c.body, s));
      for (std::size_t i : c.body->topo_order)
        order.push_back(c.body->steps[i].name);
      o["steps"] = std::move(steps);
      o["order"] = std::move(order);
    }
    if (!c.extra.empty()) o["extra"] = Object(c.extra);
    loc(o, c.range);
    return o;
  }

  const Module& m_;
  const DumpOptions& o_;
};

}  // namespace

llvm::json::Value toJson(const Module& module, const DumpOptions& opts) {
  return Dumper(module, opts).module();
}

std::string dumpJson(const Module& module, const DumpOptions& opts) {
  std::string out = llvm::formatv("{0:2}", toJson(module, opts)).str();
  out.push_back('\n');
  return out;
}

}  // namespace pipec::ir
