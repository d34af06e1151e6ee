// The AST as deterministic JSON with source ranges.
#include "frontend/ast_json.h"

#include <fmt/format.h>

#include "ir/diagnostics.h"
#include "ir/settings.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/JSON.h"

namespace pipec::frontend {

namespace {

using llvm::json::Array;
using llvm::json::Object;
using llvm::json::Value;

class AstDumper {
 public:
  explicit AstDumper(const llvm::SourceMgr& sm) : lines_(sm) {}

  Value file(const ast::File& f, llvm::StringRef name) {
    Object o{{"file", name}};
    Array imports;
    for (const ast::Import& i : f.imports) {
      Object imp{{"alias", this->name(i.alias)}, {"target", scalar(i.target)}};
      if (i.stdlib) imp["stdlib"] = true;
      located(imp, i.range);
      imports.push_back(std::move(imp));
    }
    if (!imports.empty()) o["imports"] = std::move(imports);
    Array components;
    for (std::size_t k = 0; k < f.components.size(); ++k) {
      components.push_back(component(*f.components[k]));
      if (f.components[k] == f.main) o["main"] = std::int64_t(k);
    }
    o["components"] = std::move(components);
    return o;
  }

 private:
  // "LINE:COL-LINE:COL", or nothing when the range is not in the file.
  void located(Object& o, llvm::SMRange r) {
    ir::LineCol a = lines_.resolve(r.Start);
    if (a.file.empty()) return;
    ir::LineCol b = r.End.isValid() ? lines_.resolve(r.End) : a;
    if (b.file.empty()) b = a;
    o["range"] = fmt::format("{}:{}-{}:{}", a.line, a.column, b.line, b.column);
  }

  Value name(const ast::Name& n) {
    Object o{{"text", n.text}};
    located(o, n.range);
    return o;
  }

  Value scalar(const ast::Scalar& s) {
    Object o{{"text", s.text}};
    if (s.quoted) o["quoted"] = true;
    if (s.is_null) o["null"] = true;
    located(o, s.range);
    return o;
  }

  void put(Object& o, llvm::StringRef key,
           const std::optional<ast::Scalar>& s) {
    if (s) o[key] = scalar(*s);
  }
  void put(Object& o, llvm::StringRef key, const std::optional<ast::Name>& n) {
    if (n) o[key] = name(*n);
  }
  void put(Object& o, llvm::StringRef key, const std::string& text) {
    if (!text.empty()) o[key] = text;
  }
  void put(Object& o, llvm::StringRef key,
           const std::optional<ast::TemplateString>& t) {
    if (t) o[key] = templ(*t);
  }
  void put(Object& o, llvm::StringRef key, const llvm::json::Object& extra) {
    if (!extra.empty()) o[key] = Object(extra);
  }

  Value templ(const ast::TemplateString& t) {
    Object o{{"raw", t.raw}};
    Array parts;
    for (const ast::TemplatePart& p : t.parts) {
      Object part;
      if (p.kind == ast::TemplatePart::Kind::Text) {
        part["text"] = p.text;
      } else {
        part["ref"] = p.ref.spelling();
        if (p.ref.azure_form) part["azure"] = true;
        located(part, p.ref.range);
      }
      if (p.group >= 0) part["group"] = p.group;
      parts.push_back(std::move(part));
    }
    o["parts"] = std::move(parts);
    located(o, t.range);
    return o;
  }

  Value port(const ast::PortDecl& p) {
    Object o{{"name", name(p.name)}};
    put(o, "type", p.type);
    if (p.optional) o["optional"] = true;
    put(o, "default", p.default_value);
    put(o, "min", p.min);
    put(o, "max", p.max);
    if (!p.enum_values.empty()) {
      Array values;
      for (const ast::Scalar& v : p.enum_values) values.push_back(scalar(v));
      o["enum"] = std::move(values);
    }
    put(o, "description", p.description);
    put(o, "path", p.path);
    put(o, "mode", p.mode);
    if (p.inferred) o["inferred"] = true;
    located(o, p.range);
    return o;
  }

  Array ports(const std::vector<ast::PortDecl>& list) {
    Array a;
    for (const ast::PortDecl& p : list) a.push_back(port(p));
    return a;
  }

  Array variables(const std::vector<std::pair<ast::Name, ast::Scalar>>& vars) {
    Array a;
    for (const auto& [n, v] : vars)
      a.push_back(Object{{"name", name(n)}, {"value", scalar(v)}});
    return a;
  }

  // The settings of `sections` given, each under its name.
  void put(Object& o, const ast::Settings& given,
           std::initializer_list<ir::SettingSection> sections) {
    for (const ast::Setting& g : given.given)
      if (llvm::is_contained(sections, g.info->section))
        o[g.info->name] = scalar(g.value);
  }

  std::optional<Value> resources(const ast::ResourcesDecl& r,
                                 const ast::Settings& given) {
    Object o;
    put(o, given, {ir::SettingSection::Resources});
    if (o.empty()) return std::nullopt;
    located(o, r.range);
    return Value(std::move(o));
  }

  std::optional<Value> distribution(const ast::DistributionDecl& d,
                                    const ast::Settings& given) {
    Object o;
    put(o, "type", d.type);
    put(o, given, {ir::SettingSection::Distribution});
    if (o.empty()) return std::nullopt;
    located(o, d.range);
    return Value(std::move(o));
  }

  std::optional<Value> parallel(const ast::ParallelDecl* decl,
                                const ast::Settings& given) {
    if (!decl) return std::nullopt;
    const ast::ParallelDecl& p = *decl;
    Object o;
    put(o, "input_data", p.input_data);
    if (!p.partition_keys.empty()) {
      Array keys;
      for (const ast::Scalar& k : p.partition_keys) keys.push_back(scalar(k));
      o["partition_keys"] = std::move(keys);
    }
    put(o, "entry_script", p.entry_script);
    put(o, "task_code", p.task_code);
    put(o, "program_arguments", p.program_arguments);
    put(o, "append_row_to", p.append_row_to);
    put(o, given, {ir::SettingSection::Parallel, ir::SettingSection::Retry});
    return Value(std::move(o));
  }

  // Settings shared by components and jobs.
  void settings(Object& o, const ast::ResourcesDecl& r,
                const ast::DistributionDecl& d, const ast::ParallelDecl* p,
                const ast::Settings& given,
                const std::vector<std::pair<ast::Name, ast::Scalar>>& vars,
                const llvm::json::Object& extra) {
    if (auto v = resources(r, given)) o["resources"] = std::move(*v);
    if (auto v = distribution(d, given)) o["distribution"] = std::move(*v);
    if (auto v = parallel(p, given)) o["parallel"] = std::move(*v);
    if (!vars.empty()) o["environment_variables"] = variables(vars);
    put(o, "extra", extra);
  }

  Value value(const ast::JobValue& v) {
    static const char* const kKinds[] = {"empty", "scalar", "template", "data"};
    Object o{{"kind", kKinds[static_cast<int>(v.kind)]}};
    if (v.kind == ast::JobValue::Kind::Scalar) o["scalar"] = scalar(v.scalar);
    if (!v.tmpl.parts.empty() || !v.tmpl.raw.empty())
      o["template"] = templ(v.tmpl);
    put(o, "type", v.type);
    put(o, "path", v.path);
    put(o, "mode", v.mode);
    located(o, v.range);
    return o;
  }

  Value job(const ast::Job& j) {
    Object o{{"name", name(j.name)}};
    if (!j.type.empty()) o["type"] = name(j.type);
    static const char* const kRefKinds[] = {"none", "path", "registry", "named",
                                            "inline"};
    const ast::ComponentRef& ref = j.component;
    Object c{{"kind", kRefKinds[static_cast<int>(ref.kind)]}};
    if (ref.kind != ast::ComponentRef::Kind::None &&
        ref.kind != ast::ComponentRef::Kind::Inline)
      c["spelling"] = scalar(ref.spelling);
    if (ref.inline_component) c["component"] = component(*ref.inline_component);
    located(c, ref.range);
    o["component"] = std::move(c);
    auto bindings =
        [&](const std::vector<std::pair<ast::Name, ast::JobValue>>& list) {
          Array a;
          for (const auto& [n, v] : list)
            a.push_back(Object{{"name", name(n)}, {"value", value(v)}});
          return a;
        };
    if (!j.inputs.empty()) o["inputs"] = bindings(j.inputs);
    if (!j.outputs.empty()) o["outputs"] = bindings(j.outputs);
    settings(o, j.resources, j.distribution, j.parallel.get(), j.settings,
             j.environment_variables, j.extra);
    located(o, j.range);
    return o;
  }

  // Inline components nest as deep as the reader lets a file nest (the YAML
  // reader's and the DSL parser's limits), so this recursion is bounded.
  Value component(const ast::Component& c) {
    static const char* const kKinds[] = {"command", "parallel", "pipeline",
                                         "unsupported"};
    Object o{{"kind", kKinds[static_cast<int>(c.kind)]}};
    if (!c.kind_spelling.empty()) o["kind_spelling"] = name(c.kind_spelling);
    put(o, "name", c.name);
    put(o, "version", c.version);
    put(o, "display_name", c.display_name);
    put(o, "description", c.description);
    put(o, "job_type", c.job_type);
    put(o, "image", c.image);
    put(o, "code", c.code);
    put(o, "command", c.command);
    if (!c.inputs.empty()) o["inputs"] = ports(c.inputs);
    if (!c.outputs.empty()) o["outputs"] = ports(c.outputs);
    if (!c.params.empty()) o["parameters"] = ports(c.params);
    settings(o, c.resources, c.distribution, c.parallel.get(), c.settings,
             c.environment_variables, c.extra);
    if (!c.jobs.empty()) {
      Array jobs;
      for (const ast::Job& j : c.jobs) jobs.push_back(job(j));
      o["jobs"] = std::move(jobs);
    }
    if (c.is_inline) o["inline"] = true;
    located(o, c.range);
    return o;
  }

  ir::LineTable lines_;
};

}  // namespace

std::string dumpAst(const ast::File& file, llvm::StringRef name,
                    const llvm::SourceMgr& sm) {
  Value v = AstDumper(sm).file(file, name);
  return llvm::formatv("{0:2}", v).str() + "\n";
}

}  // namespace pipec::frontend
