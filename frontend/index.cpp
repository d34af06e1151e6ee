// Builds the symbol index of a checked file from its AST and IR.
#include "frontend/index.h"

#include <algorithm>

#include "frontend/ast.h"
#include "ir/ir.h"
#include "ir/mangle.h"
#include "ir/types.h"

namespace pipec::frontend {

namespace {

bool isRunnable(const ir::Component& c) {
  return c.kind != ir::ComponentKind::Pipeline;
}

std::string paramSignature(const ir::Param& p) {
  std::string s = "param " + p.name + ": " + ir::typeName(p.type).str();
  if (p.optional) s += "?";
  if (p.default_value) {
    std::string v = p.default_value->toText();
    if (p.type == ir::Type::String) v = "\"" + v + "\"";
    s += " = " + v;
  }
  if (p.min || p.max)
    s += " in " + ir::describeConstraint(p, ir::Violation::Range);
  if (!p.enum_values.empty())
    s += ", " + ir::describeConstraint(p, ir::Violation::Enum);
  return s;
}

std::string portSignature(const ir::Port& p, bool output) {
  std::string s =
      (output ? "out " : "in ") + p.name + ": " + ir::typeName(p.type).str();
  if (p.optional) s += "?";
  if (p.default_path) s += " = \"" + *p.default_path + "\"";
  return s;
}

std::string componentSignature(const ir::Component& c) {
  std::string s = c.kind == ir::ComponentKind::Pipeline ? "pipeline "
                  : c.kind == ir::ComponentKind::Parallel
                      ? "parallel component "
                      : "component ";
  s += c.name.empty() ? "<inline>" : c.name;
  if (!c.version.empty()) s += "@" + c.version;
  s += "(";
  const char* sep = "";
  for (const ir::Port& p : c.inputs) {
    s += sep + p.name + ": " + ir::typeName(p.type).str();
    sep = ", ";
  }
  for (const ir::Param& p : c.params) {
    s += sep + p.name + ": " + ir::typeName(p.type).str();
    if (p.default_value) s += " = " + p.default_value->toText();
    sep = ", ";
  }
  s += ")";
  if (!c.outputs.empty()) {
    s += " -> (";
    sep = "";
    for (const ir::Port& p : c.outputs) {
      s += sep + p.name + ": " + ir::typeName(p.type).str();
      sep = ", ";
    }
    s += ")";
  }
  return s;
}

llvm::StringRef textOf(llvm::SMRange r) {
  if (!r.isValid() || r.End.getPointer() < r.Start.getPointer()) return {};
  return llvm::StringRef(r.Start.getPointer(),
                         r.End.getPointer() - r.Start.getPointer());
}

}  // namespace

std::optional<Span> spanOf(const CheckResult& result, llvm::SMRange range) {
  if (!range.isValid()) return std::nullopt;
  auto a = result.locate(range.Start);
  if (!a) return std::nullopt;
  auto b = range.End.isValid() ? result.locate(range.End) : a;
  if (!b || b->path != a->path) b = a;
  Span s;
  s.path = a->path;
  s.start = {a->line - 1, a->column - 1, a->utf16};
  s.end = {b->line - 1, b->column - 1, b->utf16};
  return s;
}

/// Walks one file's AST beside its IR and fills a SymbolIndex.
class IndexBuilder {
 public:
  IndexBuilder(Session& s, const CheckResult& r, SymbolIndex& out)
      : session_(s), result_(r), out_(out) {}

  void run() {
    if (!result_.module) return;
    for (const auto& c : result_.module->components) summary(c.get());
    resolveSteps();
    const ast::File* file = session_.loadFile(out_.path_);
    if (!file) return;
    for (const auto& a : file->components) {
      const ir::Component* c = lowered(*a);
      if (c) component(*a, *c);
    }
    std::sort(out_.occurrences_.begin(), out_.occurrences_.end(),
              [](const Occurrence& a, const Occurrence& b) {
                return std::tie(a.span.start.line, a.span.start.utf16) <
                       std::tie(b.span.start.line, b.span.start.utf16);
              });
  }

 private:
  std::optional<Span> span(llvm::SMRange r) { return spanOf(result_, r); }

  const ir::Component* lowered(const ast::Component& a) {
    for (const auto& c : result_.module->components)
      if (c->range.Start == a.range.Start && c->source_file == a.file)
        return c.get();
    return nullptr;
  }

  std::size_t add(Symbol s) {
    auto it = out_.by_key_.find(s.key);
    if (it != out_.by_key_.end()) return it->second;
    out_.symbols_.push_back(std::move(s));
    std::size_t id = out_.symbols_.size() - 1;
    out_.by_key_[out_.symbols_[id].key] = id;
    const Symbol& added = out_.symbols_[id];
    if (added.decl.path == out_.path_ && !added.decl.path.empty() &&
        added.kind != Symbol::Kind::Component)
      out_.occurrences_.push_back({added.decl, id, true, ""});
    return id;
  }

  std::string ownerKey(const ir::Component& c) {
    return c.source_file + "#" +
           (c.name.empty() ? "@" + std::to_string(offsetOf(c.range.Start))
                           : c.name);
  }
  std::size_t offsetOf(llvm::SMLoc loc) {
    auto p = result_.locate(loc);
    return p ? (std::size_t(p->line) << 20) + p->column : 0;
  }

  std::size_t symbol(const ir::Component& c) {
    Symbol s;
    s.kind = Symbol::Kind::Component;
    s.name = c.name;
    s.key = "component:" + ownerKey(c);
    s.signature = componentSignature(c);
    s.description = c.description;
    if (auto sp = span(c.range)) {
      s.decl = *sp;
      s.decl.end = s.decl.start;
    } else {
      s.decl.path = c.source_file;
    }
    const ast::File* f = session_.loadFile(c.source_file);
    if (f)
      for (const auto& a : f->components)
        if (a->range.Start == c.range.Start && a->name)
          if (auto sp = span(a->name->range)) s.decl = *sp;
    return add(std::move(s));
  }

  std::size_t symbol(const ir::Component& c, const ir::Port& p, bool output) {
    Symbol s;
    s.kind = output ? Symbol::Kind::Output : Symbol::Kind::Input;
    s.name = p.name;
    s.container = c.name;
    s.key =
        std::string(output ? "output:" : "input:") + ownerKey(c) + "." + p.name;
    s.signature = portSignature(p, output);
    s.description = p.description;
    if (isRunnable(c))
      s.env_var = output ? ir::outputEnvVar(p.name) : ir::inputEnvVar(p.name);
    if (p.default_path) s.value = *p.default_path;
    if (auto sp = span(p.range)) s.decl = *sp;
    return add(std::move(s));
  }

  std::size_t symbol(const ir::Component& c, const ir::Param& p) {
    Symbol s;
    s.kind = Symbol::Kind::Param;
    s.name = p.name;
    s.container = c.name;
    s.key = "param:" + ownerKey(c) + "." + p.name;
    s.signature = paramSignature(p);
    s.description = p.description;
    if (isRunnable(c)) s.env_var = ir::hpsEnvVar(p.name);
    if (p.default_value) s.value = p.default_value->toText();
    for (const ir::Value& v : p.enum_values)
      s.enum_values.push_back(v.toText());
    if (auto sp = span(p.range)) s.decl = *sp;
    return add(std::move(s));
  }

  std::size_t symbol(const ir::Component& pipeline, const ir::Step& st) {
    Symbol s;
    s.kind = Symbol::Kind::Step;
    s.name = st.name;
    s.container = pipeline.name;
    s.key = "step:" + ownerKey(pipeline) + "." + st.name;
    s.signature = "step " + st.name;
    if (st.component) {
      s.signature += " = " + st.component->displayId();
      s.description = st.component->description;
    }
    if (auto sp = span(st.range)) s.decl = *sp;
    return add(std::move(s));
  }

  /// The symbol of input, output or parameter `name` of `c`, or npos.
  std::size_t member(const ir::Component& c, llvm::StringRef section,
                     llvm::StringRef name) {
    bool in = section == "inputs" || section == "parameters";
    if (in || section == "") {
      if (const ir::Port* p = c.findInput(name)) return symbol(c, *p, false);
      if (const ir::Param* p = c.findParam(name)) return symbol(c, *p);
    }
    if (section == "outputs" || section == "")
      if (const ir::Port* p = c.findOutput(name)) return symbol(c, *p, true);
    return SymbolIndex::npos;
  }

  /// Records a use of symbol `id` at `name` when the text there is the name
  /// (the DSL locates synthesized path parts at other tokens).
  void use(const ast::Name& name, std::size_t id, std::string value = "") {
    if (id == SymbolIndex::npos || textOf(name.range) != name.text) return;
    auto sp = span(name.range);
    if (!sp || sp->path != out_.path_) return;
    out_.occurrences_.push_back({*sp, id, false, std::move(value)});
  }

  /// A binding `ref` inside component `c`.
  void ref(const ast::Ref& r, const ir::Component& c) {
    const auto& p = r.path;
    if (p.size() == 2) {
      use(p[1], member(c, p[0].text, p[1].text));
      return;
    }
    if (p.size() < 3 || p[0].text != "parent") return;
    if (p[1].text == "inputs" || p[1].text == "outputs") {
      use(p[2], member(c, p[1].text, p[2].text));
      return;
    }
    if (p[1].text != "jobs" || !c.body) return;
    const ir::Step* st = c.body->findStep(p[2].text);
    if (!st) return;
    use(p[2], symbol(c, *st));
    if (p.size() >= 5 && st->component)
      use(p[4], member(*st->component, p[3].text, p[4].text));
  }

  void refs(const ast::TemplateString& t, const ir::Component& c) {
    for (const ast::TemplatePart& part : t.parts)
      if (part.kind == ast::TemplatePart::Kind::Ref) ref(part.ref, c);
  }

  std::string bindingText(const ir::Binding& b, const ir::Component& pipe) {
    switch (b.kind) {
      case ir::Binding::Kind::Literal:
        return b.literal ? b.literal->toText() : "";
      case ir::Binding::Kind::ParentInput: {
        std::string s = "parent.inputs." + b.name;
        if (const ir::Param* p = pipe.findParam(b.name))
          if (p->default_value)
            s += " (default " + p->default_value->toText() + ")";
        return s;
      }
      case ir::Binding::Kind::StepOutput:
        return "parent.jobs." + b.step + ".outputs." + b.name;
      case ir::Binding::Kind::Path:
        return b.path;
    }
    return "";
  }

  void component(const ast::Component& a, const ir::Component& c) {
    std::size_t self = symbol(c);
    if (a.name) use(*a.name, self);
    for (const ir::Port& p : c.inputs) symbol(c, p, false);
    for (const ir::Param& p : c.params) symbol(c, p);
    for (const ir::Port& p : c.outputs) symbol(c, p, true);
    if (a.command) refs(*a.command, c);
    if (a.parallel && a.parallel->program_arguments)
      refs(*a.parallel->program_arguments, c);
    if (!c.body) return;
    for (const ast::Job& j : a.jobs) {
      const ir::Step* st = c.body->findStep(j.name.text);
      if (!st) continue;
      symbol(c, *st);  // its declaration is the job's name
      const ir::Component* callee = st->component;
      if (callee && j.component.kind != ast::ComponentRef::Kind::Inline) {
        auto sp = span(j.component.spelling.range);
        if (sp && sp->path == out_.path_)
          out_.occurrences_.push_back({*sp, symbol(*callee), false, ""});
      }
      for (const auto& [key, value] : j.inputs) {
        if (callee) {
          std::string v;
          auto b = st->inputs.find(key.text);
          if (b != st->inputs.end()) v = bindingText(b->second, c);
          use(key, member(*callee, "inputs", key.text), v);
        }
        refs(value.tmpl, c);
      }
      for (const auto& [key, value] : j.outputs) {
        if (callee) use(key, member(*callee, "outputs", key.text));
        refs(value.tmpl, c);
      }
      if (j.component.inline_component && callee) {
        const ast::Component& ic = *j.component.inline_component;
        if (ic.command) refs(*ic.command, *callee);
      }
    }
  }

  void summary(const ir::Component* c) {
    ComponentSummary s;
    s.name = c->name;
    s.pipeline = c->kind == ir::ComponentKind::Pipeline;
    s.file = c->source_file;
    if (auto sp = span(c->range)) {
      s.first_line = sp->start.line;
      s.last_line = sp->end.line;
      // A YAML file's component is located at its first key only: it
      // spans the file.
      if (sp->start.line == sp->end.line && !c->is_inline) s.last_line = ~0u;
    }
    for (const ir::Port& p : c->inputs)
      s.inputs.push_back(symbol(*c, p, false));
    for (const ir::Param& p : c->params) s.params.push_back(symbol(*c, p));
    for (const ir::Port& p : c->outputs)
      s.outputs.push_back(symbol(*c, p, true));
    summary_of_[c] = out_.components_.size();
    out_.components_.push_back(std::move(s));
    if (!c->body) return;
    std::size_t me = out_.components_.size() - 1;
    for (const ir::Step& st : c->body->steps) {
      symbol(*c, st);
      out_.components_[me].steps.push_back({st.name, SymbolIndex::npos});
    }
    pending_.push_back(c);
  }

  void resolveSteps() {
    for (const ir::Component* c : pending_) {
      ComponentSummary& s = out_.components_[summary_of_[c]];
      for (std::size_t i = 0; i < c->body->steps.size(); ++i) {
        auto it = summary_of_.find(c->body->steps[i].component);
        if (it != summary_of_.end()) s.steps[i].second = it->second;
      }
    }
  }

  Session& session_;
  const CheckResult& result_;
  SymbolIndex& out_;
  std::map<const ir::Component*, std::size_t> summary_of_;
  std::vector<const ir::Component*> pending_;
};

SymbolIndex SymbolIndex::build(Session& session, const CheckResult& result,
                               llvm::StringRef path) {
  SymbolIndex index;
  index.path_ = path.str();
  IndexBuilder(session, result, index).run();
  return index;
}

const Occurrence* SymbolIndex::at(unsigned line, unsigned utf16) const {
  const Occurrence* best = nullptr;
  for (const Occurrence& o : occurrences_) {
    if (o.span.start.line > line) break;
    if (o.span.start.line != line || o.span.end.line != line) continue;
    if (o.span.start.utf16 <= utf16 && utf16 <= o.span.end.utf16) {
      // Prefer the occurrence the cursor is inside over one it only touches.
      if (!best || utf16 < o.span.end.utf16) best = &o;
    }
  }
  return best;
}

std::size_t SymbolIndex::find(llvm::StringRef key) const {
  auto it = by_key_.find(key.str());
  return it == by_key_.end() ? npos : it->second;
}

std::vector<const Occurrence*> SymbolIndex::uses(llvm::StringRef key) const {
  std::vector<const Occurrence*> out;
  std::size_t id = find(key);
  if (id == npos) return out;
  for (const Occurrence& o : occurrences_)
    if (o.symbol == id) out.push_back(&o);
  return out;
}

std::size_t SymbolIndex::component(llvm::StringRef name) const {
  for (std::size_t i = 0; i < components_.size(); ++i)
    if (components_[i].name == name) return i;
  return npos;
}

std::size_t SymbolIndex::componentAt(unsigned line) const {
  std::size_t best = npos;
  for (std::size_t i = 0; i < components_.size(); ++i) {
    const ComponentSummary& c = components_[i];
    if (c.file != path_ || line < c.first_line || line > c.last_line) continue;
    if (best == npos ||
        c.last_line - c.first_line <
            components_[best].last_line - components_[best].first_line)
      best = i;
  }
  return best;
}

}  // namespace pipec::frontend
