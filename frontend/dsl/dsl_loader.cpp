// The .pipe parse tree into the shared AST, every node located at its tokens.
#include "frontend/dsl/dsl_loader.h"

#include <cstdint>
#include <map>
#include <set>
#include <typeinfo>
#include <unordered_map>

#include "frontend/dsl/parse.h"
#include "frontend/template_lexer.h"
#include "ir/settings.h"
#include "ir/suggest.h"
#include "ir/types.h"
#include "llvm/ADT/SmallVector.h"
#include "stdlib/stdlib.h"

namespace pipec::frontend {

namespace diag = ir::diag;
using P = pipec_dsl_gen::PipeParser;

namespace {

// The attributes and settings each place accepts.
constexpr llvm::StringRef kCommonAttrs[] = {
    "version",      "description", "display_name",     "job",       "image",
    "cache",        "code",        "command",          "resources", "env",
    "distribution", "tags",        "is_deterministic", "properties"};
// The attributes of a parallel component or step that are not settings; its
// settings are the table's (ir/settings.h) of the Parallel section.
constexpr llvm::StringRef kParallelAttrs[] = {
    "input_data",        "append_row_to",  "entry_script",
    "program_arguments", "partition_keys", "retry"};
constexpr llvm::StringRef kPipelineAttrs[] = {
    "version",  "description",     "display_name", "tags",
    "settings", "experiment_name", "compute",      "properties"};
// The keys of `resources` that are not settings: kept for the backends.
constexpr llvm::StringRef kResourceKeys[] = {
    "shm_size", "docker_args", "properties", "locations", "max_instance_count"};
// `gpu` and `cpu` alone set instance_type; a true/false setting of the
// resources alone (`multi_gpu`) is true.
constexpr llvm::StringRef kInstanceFlags[] = {"gpu", "cpu"};
constexpr llvm::StringRef kStepKeys[] = {
    "resources",        "env",         "distribution",
    "outputs",          "compute",     "tags",
    "display_name",     "description", "experiment_name",
    "is_deterministic", "properties"};

template <std::size_t N>
bool among(llvm::StringRef k, const llvm::StringRef (&list)[N]) {
  for (llvm::StringRef s : list)
    if (s == k) return true;
  return false;
}

// The setting `k` names in `section` of a .pipe file, or null.
const ir::SettingInfo* settingKey(llvm::StringRef k, ir::SettingSection s) {
  return ir::findSettingKey(k, s, /*yaml=*/false);
}

bool isParallelKey(llvm::StringRef k) {
  return among(k, kParallelAttrs) ||
         settingKey(k, ir::SettingSection::Parallel);
}

// The names of the table's settings of `section`, for did-you-mean.
void appendSettings(std::vector<llvm::StringRef>& to, ir::SettingSection s) {
  for (const ir::SettingInfo& info : ir::allSettings())
    if (info.section == s) to.push_back(info.name);
}

// The content of a `"..."` token, escapes resolved.
std::string unescape(llvm::StringRef tok) {
  llvm::StringRef s = tok.drop_front().drop_back();
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '\\' || i + 1 == s.size()) {
      out.push_back(s[i]);
      continue;
    }
    char c = s[++i];
    switch (c) {
      case 'n':
        out.push_back('\n');
        break;
      case 't':
        out.push_back('\t');
        break;
      case 'r':
        out.push_back('\r');
        break;
      case '"':
      case '\\':
        out.push_back(c);
        break;
      default:
        out.push_back('\\');
        out.push_back(c);
    }
  }
  return out;
}

// The content of a `"""..."""` block: the first line break dropped, the
// common indentation removed, the closing line's indentation dropped.
std::string textBlock(llvm::StringRef tok) {
  llvm::StringRef s = tok.drop_front(3).drop_back(3);
  if (s.startswith("\r\n"))
    s = s.drop_front(2);
  else if (s.startswith("\n"))
    s = s.drop_front();
  llvm::SmallVector<llvm::StringRef, 32> lines;
  s.split(lines, '\n');
  if (!lines.empty() && lines.back().trim(" \t").empty() && lines.size() > 1)
    lines.back() = "";
  std::size_t indent = std::string::npos;
  for (llvm::StringRef l : lines) {
    if (l.trim(" \t\r").empty()) continue;
    indent = std::min(indent, l.find_first_not_of(" \t"));
  }
  if (indent == std::string::npos) indent = 0;
  std::string out;
  for (std::size_t i = 0; i < lines.size(); ++i) {
    llvm::StringRef l = lines[i];
    if (i) out.push_back('\n');
    out +=
        l.size() >= indent ? l.drop_front(indent).str() : l.ltrim(" \t").str();
  }
  return out;
}

/// What building one clean chunk of declarations (no import among them)
/// produced, and what it read of the file's state: replayed, shifted to
/// where the same text now is, when the text and the state are the same.
struct BuiltDecl {
  std::vector<ir::Diagnostic> diags;  ///< reported while building it
  /// May be null. Shared with the AST of the file that uses it (nothing
  /// changes an AST once read); moved in place to where the next version
  /// has it only when no file holds it any more, else copied.
  std::shared_ptr<ast::Component> comp;
  const char* comp_base = nullptr;        ///< where `comp`'s chunk is located
  std::vector<ast::Import> implicit;      ///< `std.NAME` imports it added
  std::vector<std::string> used_imports;  ///< aliases it used
  bool quiet_unused = false;              ///< it named an unknown import
};
struct BuiltChunk {
  const char* base = nullptr;  ///< where the text was when it was built
  std::string imports;         ///< the file's imports before it, in short
  std::vector<BuiltDecl> decls;
};

class Builder {
 public:
  Builder(const dsl::Parse& p, llvm::StringRef path,
          ir::DiagnosticEngine& diags)
      : p_(&p), path_(path.str()), diags_(diags) {}

  /// Builds the AST of `tree` without the top-level declarations in `skip`
  /// (those with syntax errors): then unused imports are not reported, as
  /// a skipped declaration may be what used them.
  std::unique_ptr<ast::File> build(
      P::FileContext* tree,
      const std::set<antlr4::tree::ParseTree*>& skip = {}) {
    auto file = begin();
    if (!skip.empty()) quiet_unused_ = true;
    for (auto* child : tree->children) {
      if (skip.count(child)) continue;
      declaration(child);
    }
    return finish(std::move(file));
  }

  std::unique_ptr<ast::File> begin() {
    auto file = std::make_unique<ast::File>();
    file_ = file.get();
    file->path = path_;
    return file;
  }

  void quietUnused() { quiet_unused_ = true; }

  /// Switches to the parse of the next chunk of the file.
  void setParse(const dsl::Parse& p) { p_ = &p; }

  void declaration(antlr4::tree::ParseTree* child) {
    if (auto* i = dynamic_cast<P::ImportDeclContext*>(child))
      import(i);
    else if (auto* c = dynamic_cast<P::ComponentDeclContext*>(child))
      addComponent(component(c));
    else if (auto* pl = dynamic_cast<P::PipelineDeclContext*>(child))
      addComponent(pipeline(pl));
  }

  /// The file's imports so far, in short: what a chunk's AST depends on.
  std::string importsKey() const {
    std::string key;
    for (const ast::Import& i : file_->imports)
      key += i.alias.text + '\0' + i.target.text + (i.stdlib ? "\1\n" : "\n");
    return key;
  }

  /// Builds a chunk's declarations (components and pipelines only) and
  /// records what it did into `out`; `diags` holds what was reported.
  void declaration(antlr4::tree::ParseTree* child, BuiltDecl& out,
                   std::vector<ir::Diagnostic>& reported) {
    std::size_t imports = file_->imports.size();
    recording_ = &out;
    std::shared_ptr<ast::Component> c;
    if (auto* d = dynamic_cast<P::ComponentDeclContext*>(child))
      c = component(d);
    else if (auto* pl = dynamic_cast<P::PipelineDeclContext*>(child))
      c = pipeline(pl);
    recording_ = nullptr;
    out.diags = std::move(reported);
    reported.clear();
    out.comp = c;
    out.implicit.assign(file_->imports.begin() + long(imports),
                        file_->imports.end());
    addComponent(std::move(c));
    reported.clear();
  }

  /// Replays a recorded declaration (already shifted to its place).
  void replay(BuiltDecl d) {
    for (ir::Diagnostic& diag : d.diags) diags_.emit(std::move(diag));
    for (ast::Import& i : d.implicit) {
      implicit_imports_.insert(i.alias.text);
      file_->imports.push_back(std::move(i));
    }
    for (const std::string& u : d.used_imports) used_imports_.insert(u);
    if (d.quiet_unused) quiet_unused_ = true;
    addComponent(std::move(d.comp));
  }

  std::unique_ptr<ast::File> finish(std::unique_ptr<ast::File> file) {
    std::shared_ptr<ast::Component> last_pipeline;
    for (const auto& c : file->components)
      if (c->kind == ast::Component::Kind::Pipeline) last_pipeline = c;
    file->main = last_pipeline              ? last_pipeline
                 : file->components.empty() ? nullptr
                                            : file->components.back();
    for (const ast::Import& i : file->imports)
      if (!quiet_unused_ && !used_imports_.count(i.alias.text) &&
          !i.alias.text.empty() && !implicit_imports_.count(i.alias.text))
        diags_.report(i.range, diag::DslUnusedImport, i.alias.text);
    return file;
  }

 private:
  // --- children -------------------------------------------------------------
  // The generated accessors (`ctx->name()`, `ctx->PARALLEL()`) dynamic_cast
  // every child on every call. A rule context derives from ParseTree without
  // a virtual base, so a typeid test and a static_cast tell it from a token.
  static antlr4::ParserRuleContext* asRule(antlr4::tree::ParseTree* t) {
    const std::type_info& ti = typeid(*t);
    if (ti == typeid(antlr4::tree::TerminalNodeImpl) ||
        ti == typeid(antlr4::tree::ErrorNodeImpl))
      return nullptr;
    return static_cast<antlr4::ParserRuleContext*>(t);
  }

  // The first child of rule `rule`, as the generated accessor finds it.
  template <class T>
  static T* child(antlr4::ParserRuleContext* c, std::size_t rule) {
    for (antlr4::tree::ParseTree* ch : c->children)
      if (auto* r = asRule(ch); r && r->getRuleIndex() == rule)
        return static_cast<T*>(r);
    return nullptr;
  }

  // `v` as the labeled alternative T (generated alternatives have no
  // subclasses, so the exact type decides).
  template <class T>
  static T* alternative(P::ValueContext* v) {
    return typeid(*v) == typeid(T) ? static_cast<T*>(v) : nullptr;
  }

  // The token of a child that is no rule context (null for one that is).
  static antlr4::Token* childToken(antlr4::tree::ParseTree* t) {
    if (asRule(t)) return nullptr;
    auto* n = dynamic_cast<antlr4::tree::TerminalNode*>(t);
    return n ? n->getSymbol() : nullptr;
  }

  // --- locations and tokens -------------------------------------------------
  llvm::SMRange range(antlr4::Token* t) { return dsl::tokenRange(*p_, t); }
  llvm::SMRange range(antlr4::ParserRuleContext* c) {
    return dsl::spanRange(*p_, c->getStart(), c->getStop());
  }
  llvm::SMRange range(antlr4::tree::TerminalNode* n) {
    return range(n->getSymbol());
  }
  llvm::StringRef text(antlr4::Token* t) { return dsl::tokenText(*p_, t); }
  llvm::StringRef text(antlr4::tree::TerminalNode* n) {
    return text(n->getSymbol());
  }

  ast::Name name(antlr4::ParserRuleContext* n) {
    return ast::Name{text(n->getStart()).str(), range(n)};
  }

  // --- literals -------------------------------------------------------------
  std::string stringText(antlr4::Token* t) {
    llvm::StringRef s = text(t);
    return t->getType() == P::TEXT_BLOCK ? textBlock(s) : unescape(s);
  }

  ast::Scalar strings(P::StringsContext* s) {
    ast::Scalar out;
    out.quoted = true;
    out.range = range(s);
    for (auto* t : s->children)
      if (auto* term = dynamic_cast<antlr4::tree::TerminalNode*>(t))
        out.text += stringText(term->getSymbol());
    return out;
  }

  ast::Scalar scalarToken(antlr4::Token* t) {
    ast::Scalar out;
    out.range = range(t);
    if (t->getType() == P::STRING || t->getType() == P::TEXT_BLOCK) {
      out.text = stringText(t);
      out.quoted = true;
    } else {
      out.text = text(t).str();
    }
    return out;
  }

  ast::Scalar literal(P::LiteralContext* l) {
    return scalarToken(l->getStart());
  }

  // Strings with bindings: each piece is lexed at its own token so that
  // binding columns are exact; the pieces are joined.
  ast::TemplateString templ(P::StringsContext* s) {
    ast::TemplateString out;
    out.range = range(s);
    for (auto* child : s->children) {
      auto* term = dynamic_cast<antlr4::tree::TerminalNode*>(child);
      if (!term) continue;
      antlr4::Token* t = term->getSymbol();
      ast::TemplateString piece = lexTemplate(
          stringText(t), range(t), range(t).End.getPointer(), diags_);
      int offset = int(out.groups.size());
      for (ast::TemplatePart& part : piece.parts) {
        if (part.group >= 0) part.group += offset;
        out.parts.push_back(std::move(part));
      }
      for (llvm::SMRange g : piece.groups) out.groups.push_back(g);
      out.raw += text(t).str();
    }
    return out;
  }

  static const char* valueKind(P::ValueContext* v) {
    if (dynamic_cast<P::StringValueContext*>(v)) return "a string";
    if (dynamic_cast<P::ScalarValueContext*>(v)) return "a literal";
    if (dynamic_cast<P::ListValueContext*>(v)) return "a list";
    if (dynamic_cast<P::DataValueContext*>(v)) return "a data value";
    if (auto* n = dynamic_cast<P::NameValueContext*>(v))
      return n->name().size() > 1 ? "a step output" : "a name";
    return "a value";
  }

  void wrongKind(P::ValueContext* v, llvm::StringRef key, const char* want) {
    diags_.report(range(v), diag::DslWrongValueKind, key, want, valueKind(v));
  }

  // A scalar setting: a string, a literal or a word (`gpu`, `INFO`). A word
  // that names an input of the enclosing pipeline binds the setting to it.
  std::optional<ast::Scalar> scalar(P::ValueContext* v, llvm::StringRef key) {
    if (auto* s = alternative<P::StringValueContext>(v))
      return strings(s->strings());
    if (auto* s = alternative<P::ScalarValueContext>(v))
      return scalarToken(s->getStart());
    if (auto* n = alternative<P::NameValueContext>(v);
        n && n->name().size() == 1) {
      ast::Scalar out;
      out.range = range(v);
      std::string word = text(n->getStart()).str();
      if (pipeline_inputs_.count(word))
        out.text = "${{parent.inputs." + word + "}}";
      else
        out.text = word;
      return out;
    }
    wrongKind(v, key, "a single value");
    return std::nullopt;
  }

  // A value into JSON for keys kept in `extra`.
  llvm::json::Value json(P::ValueContext* v) {
    if (auto* l = dynamic_cast<P::ListValueContext*>(v)) {
      llvm::json::Array a;
      for (auto* item : l->value()) a.push_back(json(item));
      return a;
    }
    auto s = scalar(v, "value");
    if (!s) return nullptr;
    if (!s->quoted) {
      ir::Type t = ir::naturalType(s->text, false);
      ir::ConvertError err;
      if (t != ir::Type::String)
        if (auto val = ir::convertLiteral(s->text, t, err))
          return val->toJson();
    }
    return s->text;
  }

  llvm::json::Value json(P::BlockContext* b) {
    llvm::json::Object o;
    for (auto* s : b->setting()) {
      if (auto* vs = dynamic_cast<P::ValueSettingContext*>(s))
        o[text(vs->name()->getStart()).str()] = json(vs->value());
      else if (auto* bs = dynamic_cast<P::BlockSettingContext*>(s))
        o[text(bs->name()->getStart()).str()] = json(bs->block());
      else if (auto* fs = dynamic_cast<P::FlagSettingContext*>(s))
        o[text(fs->name()->getStart()).str()] = true;
    }
    return o;
  }

  // --- blocks ---------------------------------------------------------------
  // One entry of a block or an attribute: its key and either a value, a
  // nested block, or nothing (a flag).
  struct Entry {
    ast::Name key;
    P::ValueContext* value = nullptr;
    P::BlockContext* block = nullptr;
  };

  llvm::json::Value json(const Entry& e) {
    if (e.block) return json(e.block);
    if (e.value) return json(e.value);
    return true;
  }

  std::vector<Entry> entries(P::BlockContext* b) {
    std::vector<Entry> out;
    for (auto* s : b->setting()) {
      Entry e;
      if (auto* vs = dynamic_cast<P::ValueSettingContext*>(s)) {
        e.key = name(vs->name());
        e.value = vs->value();
      } else if (auto* bs = dynamic_cast<P::BlockSettingContext*>(s)) {
        e.key = name(bs->name());
        e.block = bs->block();
      } else if (auto* fs = dynamic_cast<P::FlagSettingContext*>(s)) {
        e.key = name(fs->name());
      } else {
        continue;
      }
      out.push_back(e);
    }
    return out;
  }

  // Reports a key given twice within one place.
  class Seen {
   public:
    Seen(Builder& b, std::string where) : b_(b), where_(std::move(where)) {}
    bool first(const ast::Name& k) {
      auto [it, inserted] = seen_.try_emplace(k.text, k.range);
      if (inserted) return true;
      b_.diags_.report(k.range, diag::DslDuplicateSetting, k.text, where_)
          .note(it->second, "first given here");
      return false;
    }

   private:
    Builder& b_;
    std::string where_;
    std::map<std::string, llvm::SMRange> seen_;
  };

  void unknownKey(const ast::Name& k, llvm::StringRef what,
                  llvm::StringRef where,
                  std::vector<llvm::StringRef> candidates) {
    auto d = diags_.report(k.range, diag::DslUnknownSetting, what, k.text,
                           where, ir::didYouMean(k.text, candidates));
    if (auto m = ir::closestMatch(k.text, candidates)) d.fixit(k.range, *m);
  }

  template <std::size_t N>
  static void append(std::vector<llvm::StringRef>& to,
                     const llvm::StringRef (&list)[N]) {
    to.insert(to.end(), std::begin(list), std::end(list));
  }

  std::optional<ast::Scalar> needValue(const Entry& e, llvm::StringRef what) {
    if (e.value) return scalar(e.value, e.key.text);
    diags_.report(e.block ? range(e.block) : e.key.range,
                  diag::DslWrongValueKind, e.key.text, what,
                  e.block ? "a block" : "nothing");
    return std::nullopt;
  }

  bool needBlock(const Entry& e) {
    if (e.block) return true;
    if (e.value)
      wrongKind(e.value, e.key.text, "a block { ... }");
    else
      diags_.report(e.key.range, diag::DslWrongValueKind, e.key.text,
                    "a block { ... }", "nothing");
    return false;
  }

  // A setting of `section` (ir/settings.h): its value is recorded in `out`.
  // False when `e` names none.
  bool settingEntry(const Entry& e, ir::SettingSection section,
                    ast::Settings& out, Seen& seen) {
    const ir::SettingInfo* info = settingKey(e.key.text, section);
    if (!info) return false;
    if (!seen.first(e.key)) return true;
    if (auto s = needValue(e, "a value")) out.set(*info, *s, e.key.range);
    return true;
  }

  // Returns false when `e` is not a resource key.
  bool resourceEntry(const Entry& e, ast::ResourcesDecl& r,
                     ast::Settings& settings, llvm::json::Object& extra,
                     Seen& seen) {
    llvm::StringRef k = e.key.text;
    const ir::SettingInfo* info = settingKey(k, ir::SettingSection::Resources);
    if (!e.value && !e.block &&
        (among(k, kInstanceFlags) ||
         (info && info->kind == ir::SettingKind::Bool))) {
      if (!seen.first(e.key)) return true;
      ast::Scalar s;
      s.range = e.key.range;
      s.text = info ? "true" : k.str();
      if (!info) info = ir::findSetting("instance_type");
      settings.set(*info, s, e.key.range);
      return true;
    }
    if (!info && !among(k, kResourceKeys)) return false;
    if (r.range.Start.isValid() == false) r.range = e.key.range;
    if (info)
      return settingEntry(e, ir::SettingSection::Resources, settings, seen);
    if (!seen.first(e.key)) return true;
    llvm::json::Object* kept = extra.getObject("resources");
    if (!kept) {
      extra["resources"] = llvm::json::Object();
      kept = extra.getObject("resources");
    }
    (*kept)[k.str()] = json(e);
    return true;
  }

  // `resources { }`, `env { }` and `distribution { }`, shared by
  // components and steps. False when `e` is none of them.
  bool nestedBlock(const Entry& e, ast::ResourcesDecl& r,
                   ast::Settings& settings, llvm::json::Object& extra,
                   std::vector<std::pair<ast::Name, ast::Scalar>>& env,
                   ast::DistributionDecl& d) {
    llvm::StringRef k = e.key.text;
    if (k != "resources" && k != "env" && k != "distribution") return false;
    if (!needBlock(e)) return true;
    if (k == "env") {
      environment(e.block, env);
    } else if (k == "distribution") {
      distribution(e.block, e.key, d, settings);
    } else {
      r.range = e.key.range;
      Seen inner(*this, "resources");
      for (const Entry& x : entries(e.block))
        if (!resourceEntry(x, r, settings, extra, inner))
          unknownKey(x.key, "setting", "resources", resourceKeys());
    }
    return true;
  }

  // What a parallel component or step takes, for did-you-mean.
  static void appendParallelKeys(std::vector<llvm::StringRef>& to) {
    append(to, kParallelAttrs);
    appendSettings(to, ir::SettingSection::Parallel);
  }

  // What `resources` takes, for did-you-mean.
  static std::vector<llvm::StringRef> resourceKeys() {
    std::vector<llvm::StringRef> known;
    appendSettings(known, ir::SettingSection::Resources);
    append(known, kResourceKeys);
    append(known, kInstanceFlags);
    return known;
  }

  void environment(P::BlockContext* b,
                   std::vector<std::pair<ast::Name, ast::Scalar>>& out) {
    Seen seen(*this, "env");
    for (const Entry& e : entries(b)) {
      if (!seen.first(e.key)) continue;
      if (auto s = needValue(e, "a value")) out.emplace_back(e.key, *s);
    }
  }

  void distribution(P::BlockContext* b, const ast::Name& key,
                    ast::DistributionDecl& d, ast::Settings& settings) {
    d.range = key.range;
    Seen seen(*this, "distribution");
    for (const Entry& e : entries(b)) {
      if (settingEntry(e, ir::SettingSection::Distribution, settings, seen))
        continue;
      if (e.key.text != "type") {
        std::vector<llvm::StringRef> known{"type"};
        appendSettings(known, ir::SettingSection::Distribution);
        unknownKey(e.key, "setting", "distribution", known);
        continue;
      }
      if (!seen.first(e.key)) continue;
      if (auto s = needValue(e, "a value"))
        d.type = ast::Name{s->text, s->range};
    }
    if (!d.type)
      diags_.report(key.range, diag::MissingKey, "distribution", "type");
  }

  // `input_data data` names an input, `append_row_to rows` an output: the
  // AST holds them as `${{inputs.data}}` bindings located at the name.
  std::optional<ast::TemplateString> portRef(const Entry& e,
                                             llvm::StringRef section) {
    if (!e.value) {
      needValue(e, "the name of an input or output");
      return std::nullopt;
    }
    auto* n = dynamic_cast<P::NameValueContext*>(e.value);
    if (!n || n->name().size() != 1) {
      if (auto* s = dynamic_cast<P::StringValueContext*>(e.value))
        return templ(s->strings());  // `"${{inputs.data}}"`, as in YAML
      wrongKind(e.value, e.key.text,
                section == "inputs" ? "the name of an input"
                                    : "the name of an output");
      return std::nullopt;
    }
    ast::Name port = name(n->name()[0]);
    return refTemplate({ast::Name{section.str(), port.range}, port},
                       port.range);
  }

  static ast::TemplateString refTemplate(std::vector<ast::Name> path,
                                         llvm::SMRange at) {
    ast::TemplateString t;
    ast::TemplatePart part;
    part.kind = ast::TemplatePart::Kind::Ref;
    part.ref.path = std::move(path);
    part.ref.range = at;
    part.ref.azure_form = true;
    t.raw = "${{" + part.ref.spelling() + "}}";
    t.parts.push_back(std::move(part));
    t.range = at;
    return t;
  }

  // Parallel settings shared by parallel components and steps. Returns
  // false when `e` is not one.
  bool parallelEntry(const Entry& e, std::shared_ptr<ast::ParallelDecl>& decl,
                     ast::Settings& settings, Seen& seen) {
    llvm::StringRef k = e.key.text;
    if (settingEntry(e, ir::SettingSection::Parallel, settings, seen)) {
      ast::ensure(decl);
      return true;
    }
    if (!among(k, kParallelAttrs)) return false;
    if (!seen.first(e.key)) return true;
    ast::ParallelDecl& p = ast::ensure(decl);
    if (k == "input_data") {
      p.input_data = portRef(e, "inputs");
    } else if (k == "append_row_to") {
      p.append_row_to = portRef(e, "outputs");
    } else if (k == "program_arguments") {
      if (auto* s =
              e.value ? dynamic_cast<P::StringValueContext*>(e.value) : nullptr)
        p.program_arguments = templ(s->strings());
      else if (e.value)
        wrongKind(e.value, k, "a string");
      else
        needValue(e, "a string");
    } else if (k == "partition_keys") {
      if (auto* l =
              e.value ? dynamic_cast<P::ListValueContext*>(e.value) : nullptr) {
        p.partition_keys_range = range(l);
        for (auto* item : l->value())
          if (auto s = scalar(item, k)) p.partition_keys.push_back(*s);
      } else if (auto s = needValue(e, "a list of column names")) {
        p.partition_keys_range = s->range;
        p.partition_keys.push_back(*s);
      }
    } else if (k == "retry") {
      if (!needBlock(e)) return true;
      Seen inner(*this, "retry");
      for (const Entry& r : entries(e.block))
        if (!settingEntry(r, ir::SettingSection::Retry, settings, inner)) {
          std::vector<llvm::StringRef> known;
          appendSettings(known, ir::SettingSection::Retry);
          unknownKey(r.key, "setting", "retry", known);
        }
    } else if (auto s = needValue(e, "a value")) {
      p.entry_script = s;  // the one other attribute with a plain value
    }
    return true;
  }

  // --- imports --------------------------------------------------------------
  void import(P::ImportDeclContext* i) {
    ast::Import imp;
    imp.range = range(i);
    if (auto* ip = dynamic_cast<P::ImportPathContext*>(i)) {
      imp.alias = name(ip->alias);
      imp.target = scalarToken(ip->target);
    } else if (auto* is = dynamic_cast<P::ImportStdContext*>(i)) {
      auto parts = is->dotted()->name();
      if (parts.size() != 2 || text(parts[0]->getStart()) != "std") {
        diags_.report(range(is->dotted()), diag::DslBadDeclaration, "import",
                      is->dotted()->getText(),
                      "write 'import std.NAME' for a standard component, or "
                      "'import \"PATH\" as NAME' for a file");
        return;
      }
      ast::Name comp = name(parts[1]);
      if (!stdlibKnown(comp)) return;
      imp.stdlib = true;
      imp.target = ast::Scalar{"std." + comp.text, false, false, comp.range};
      imp.alias = is->alias ? name(is->alias) : comp;
    } else {
      return;
    }
    declareName(imp.alias);
    file_->imports.push_back(std::move(imp));
  }

  bool stdlibKnown(const ast::Name& comp) {
    if (stdlib::source(comp.text)) return true;
    auto names = stdlib::names();
    auto d =
        diags_.report(comp.range, diag::DslUnknownStdlib, "std." + comp.text,
                      ir::didYouMean(comp.text, names));
    if (auto m = ir::closestMatch(comp.text, names)) d.fixit(comp.range, *m);
    return false;
  }

  // Components and import aliases share one namespace per file.
  bool declareName(const ast::Name& n) {
    auto [it, inserted] = top_names_.try_emplace(n.text, n.range);
    if (inserted) return true;
    diags_.report(n.range, diag::DuplicateName, "name", n.text)
        .note(it->second, "previous declaration is here");
    return false;
  }

  void addComponent(std::shared_ptr<ast::Component> c) {
    if (!c || !c->name) return;
    if (!declareName(*c->name)) return;
    file_->components.push_back(std::move(c));
  }

  // --- components -----------------------------------------------------------
  std::shared_ptr<ast::Component> newComponent(antlr4::Token* first,
                                               P::NameContext* n) {
    auto c = std::make_shared<ast::Component>();
    c->file = path_;
    c->name = name(n);
    c->range = dsl::spanRange(*p_, first, n->getStop());
    return c;
  }

  std::shared_ptr<ast::Component> component(P::ComponentDeclContext* d) {
    auto c = newComponent(d->getStart(), d->name());
    bool parallel = d->PARALLEL() != nullptr;
    c->kind = parallel ? ast::Component::Kind::Parallel
                       : ast::Component::Kind::Command;
    c->kind_spelling =
        ast::Name{parallel ? "parallel" : "command", range(d->getStart())};
    std::string where = "component '" + c->name->text + "'";
    Seen seen(*this, where);
    for (auto* item : d->componentItem()) {
      if (auto* port = item->portDecl()) {
        portDecl(*c, port);
        continue;
      }
      auto* a = item->attribute();
      if (!a) continue;
      Entry e{name(a->word()), a->value(), a->block()};
      componentAttribute(*c, e, seen, parallel, where);
    }
    return c;
  }

  void componentAttribute(ast::Component& c, const Entry& e, Seen& seen,
                          bool parallel, const std::string& where) {
    llvm::StringRef k = e.key.text;
    if (isParallelKey(k)) {
      if (!parallel) {
        diags_.report(e.key.range, diag::DslParallelSettingOnCommand, k);
        return;
      }
      parallelEntry(e, c.parallel, c.settings, seen);
      return;
    }
    if (!among(k, kCommonAttrs)) {
      std::vector<llvm::StringRef> known;
      append(known, kCommonAttrs);
      if (parallel) appendParallelKeys(known);
      unknownKey(e.key, "attribute", where, known);
      return;
    }
    if (!seen.first(e.key)) return;
    if (nestedBlock(e, c.resources, c.settings, c.extra,
                    c.environment_variables, c.distribution)) {
    } else if (k == "tags" || k == "properties" || k == "is_deterministic") {
      c.extra[k.str()] = json(e);
    } else if (k == "command") {
      auto* s =
          e.value ? dynamic_cast<P::StringValueContext*>(e.value) : nullptr;
      if (s)
        c.command = templ(s->strings());
      else if (e.value)
        wrongKind(e.value, k, "a string");
      else
        needValue(e, "a string");
    } else {
      auto s = needValue(e, "a value");
      if (!s) return;
      if (k == "version") c.version = s;
      if (k == "description") c.description = s->text;
      if (k == "display_name") c.display_name = s->text;
      if (k == "job") c.job_type = ast::Name{s->text, s->range};
      if (k == "image") c.image = s;
      if (k == "cache") c.cache = s;
      if (k == "code") c.code = s;
    }
  }

  void portDecl(ast::Component& c, P::PortDeclContext* d) {
    ast::PortDecl port;
    size_t kind = d->kind->getType();
    port.section = kind == P::IN    ? ast::PortDecl::Section::Input
                   : kind == P::OUT ? ast::PortDecl::Section::Output
                                    : ast::PortDecl::Section::Param;
    port.name = name(d->name());
    port.range = port.name.range;
    typeRef(d->typeRef(), port);
    bool output = port.section == ast::PortDecl::Section::Output;
    if (output && (d->defaultValue || d->constraint())) {
      antlr4::ParserRuleContext* at =
          d->defaultValue
              ? static_cast<antlr4::ParserRuleContext*>(d->defaultValue)
              : d->constraint();
      diags_.report(range(at), diag::DslBadDeclaration, "output",
                    port.name.text,
                    "an output cannot have a default or a constraint");
    } else {
      if (d->defaultValue) setDefault(port, literal(d->defaultValue));
      if (d->constraint()) constraint(d->constraint(), port);
    }
    if (d->description) port.description = strings(d->description).text;
    auto& list = port.section == ast::PortDecl::Section::Input ? c.inputs
                 : output                                      ? c.outputs
                                                               : c.params;
    list.push_back(std::move(port));
  }

  void typeRef(P::TypeRefContext* t, ast::PortDecl& port) {
    if (!t) return;
    port.type = name(t->name());
    port.optional = t->optional != nullptr;
  }

  // A default of an artifact input is its data (a path); of a scalar, its
  // value.
  static void setDefault(ast::PortDecl& port, ast::Scalar value) {
    std::optional<ir::Type> t =
        port.type ? ir::parseType(port.type->text) : std::nullopt;
    if (t && ir::isArtifact(*t))
      port.path = std::move(value);
    else
      port.default_value = std::move(value);
  }

  void constraint(P::ConstraintContext* c, ast::PortDecl& port) {
    if (auto* r = dynamic_cast<P::RangeConstraintContext*>(c)) {
      auto* b = r->rangeBounds();
      if (b->lo) port.min = scalarToken(b->lo->getStart());
      if (b->hi) port.max = scalarToken(b->hi->getStart());
    } else if (auto* e = dynamic_cast<P::EnumConstraintContext*>(c)) {
      port.enum_range = range(e);
      for (auto* l : e->literal()) port.enum_values.push_back(literal(l));
    }
  }

  // --- pipelines ------------------------------------------------------------
  std::shared_ptr<ast::Component> pipeline(P::PipelineDeclContext* d) {
    auto c = newComponent(d->getStart(), d->name());
    c->kind = ast::Component::Kind::Pipeline;
    c->kind_spelling = ast::Name{"pipeline", range(d->getStart())};
    pipeline_inputs_.clear();
    std::vector<P::PipelineInputContext*> inputs;
    std::vector<P::PipelineOutputContext*> outputs_decl;
    std::vector<P::PipelineItemContext*> items;
    for (antlr4::tree::ParseTree* ch : d->children) {
      antlr4::ParserRuleContext* r = asRule(ch);
      if (!r) continue;
      switch (r->getRuleIndex()) {
        case P::RulePipelineInput:
          inputs.push_back(static_cast<P::PipelineInputContext*>(r));
          break;
        case P::RulePipelineOutput:
          outputs_decl.push_back(static_cast<P::PipelineOutputContext*>(r));
          break;
        case P::RulePipelineItem:
          items.push_back(static_cast<P::PipelineItemContext*>(r));
          break;
        default:
          break;
      }
    }
    for (auto* in : inputs) {
      ast::PortDecl port;
      port.section = ast::PortDecl::Section::Input;
      port.name = name(in->name());
      port.range = port.name.range;
      typeRef(in->typeRef(), port);
      if (in->defaultValue) setDefault(port, literal(in->defaultValue));
      if (in->constraint()) constraint(in->constraint(), port);
      if (in->description) port.description = strings(in->description).text;
      if (!port.type && !in->defaultValue)
        diags_.report(port.name.range, diag::DslBadDeclaration,
                      "pipeline input", port.name.text,
                      "it needs a type (NAME: TYPE) or a default value");
      pipeline_inputs_.insert(port.name.text);
      c->inputs.push_back(std::move(port));
    }
    for (auto* out : outputs_decl) {
      ast::PortDecl port;
      port.section = ast::PortDecl::Section::Output;
      port.name = name(out->name());
      port.range = port.name.range;
      typeRef(out->typeRef(), port);
      if (out->description) port.description = strings(out->description).text;
      c->outputs.push_back(std::move(port));
    }
    std::string where = "pipeline '" + c->name->text + "'";
    // Step names first: values may name steps declared further down.
    // Each item is a step or an attribute.
    std::vector<std::pair<P::StepContext*, P::AttributeContext*>> item_kinds;
    item_kinds.reserve(items.size());
    std::map<std::string, std::size_t> steps;
    for (auto* item : items) {
      auto* s = child<P::StepContext>(item, P::RuleStep);
      item_kinds.emplace_back(
          s, child<P::AttributeContext>(item, P::RuleAttribute));
      if (s && s->call)
        steps.try_emplace(text(s->target->getStart()).str(), steps.size());
    }
    step_names_.clear();
    for (const auto& [n, i] : steps) step_names_.insert(n);

    Seen seen(*this, where);
    std::vector<P::StepContext*> assignments;
    // ast::Job copies (it is not nothrow-movable): grow the vector once.
    c->jobs.reserve(steps.size());
    for (auto [s, a] : item_kinds) {
      if (a) {
        Entry e{name(a->word()), a->value(), a->block()};
        pipelineAttribute(*c, e, seen, where);
      } else if (s) {
        if (!s->call)
          assignments.push_back(s);
        else if (auto j = job(s))
          c->jobs.push_back(std::move(*j));
      }
    }
    Seen outputs(*this, where);
    for (auto* s : assignments) outputAssignment(*c, s, outputs);
    pipeline_inputs_.clear();
    step_names_.clear();
    return c;
  }

  void pipelineAttribute(ast::Component& c, const Entry& e, Seen& seen,
                         const std::string& where) {
    llvm::StringRef k = e.key.text;
    if (!among(k, kPipelineAttrs)) {
      unknownKey(e.key, "attribute", where,
                 {std::begin(kPipelineAttrs), std::end(kPipelineAttrs)});
      return;
    }
    if (!seen.first(e.key)) return;
    if (k == "version" || k == "description" || k == "display_name") {
      auto s = needValue(e, "a value");
      if (!s) return;
      if (k == "version") c.version = s;
      if (k == "description") c.description = s->text;
      if (k == "display_name") c.display_name = s->text;
      return;
    }
    c.extra[k.str()] = json(e);
  }

  // A step; nothing when its callee was reported (sema would only add "names
  // no component").
  std::optional<ast::Job> job(P::StepContext* s) {
    ast::Job j;
    j.name = name(s->target);
    j.range = j.name.range;
    // One walk over the children: the first PARALLEL, OVER and block, the
    // arguments in order.
    antlr4::Token* parallel = nullptr;
    antlr4::Token* over = nullptr;
    P::BlockContext* block = nullptr;
    llvm::SmallVector<P::ArgumentContext*, 8> arguments;
    for (antlr4::tree::ParseTree* ch : s->children) {
      if (antlr4::ParserRuleContext* r = asRule(ch)) {
        if (r->getRuleIndex() == P::RuleArgument)
          arguments.push_back(static_cast<P::ArgumentContext*>(r));
        else if (r->getRuleIndex() == P::RuleBlock && !block)
          block = static_cast<P::BlockContext*>(r);
      } else if (antlr4::Token* t = childToken(ch)) {
        if (t->getType() == P::PARALLEL && !parallel) parallel = t;
        if (t->getType() == P::OVER && !over) over = t;
      }
    }
    if (parallel) j.type = ast::Name{"parallel", range(parallel)};
    if (!callee(s->callee, j.component)) return std::nullopt;
    std::string where = "step '" + j.name.text + "'";
    Seen args(*this, "the arguments of " + where);
    j.inputs.reserve(arguments.size() + (over ? 1 : 0));
    for (auto* a : arguments) {
      ast::Name n = name(child<P::NameContext>(a, P::RuleName));
      if (!args.first(n)) continue;
      // A value already reported still counts as given: no "not bound".
      auto v = jobValue(child<P::ValueContext>(a, P::RuleValue), n.text);
      j.inputs.emplace_back(n, v ? std::move(*v) : ast::JobValue{});
    }
    if (over) {
      ast::Name n = name(s->over);
      if (args.first(n))
        if (auto v = jobValue(s->overValue, n.text))
          j.inputs.emplace_back(n, std::move(*v));
      ast::ensure(j.parallel).input_data =
          refTemplate({ast::Name{"inputs", n.range}, n}, n.range);
      if (j.type.empty()) j.type = ast::Name{"parallel", range(over)};
    }
    if (block) stepSettings(j, block, where);
    return j;
  }

  bool callee(P::DottedContext* d, ast::ComponentRef& ref) {
    llvm::SmallVector<P::NameContext*, 2> parts;
    for (antlr4::tree::ParseTree* ch : d->children)
      if (auto* r = asRule(ch); r && r->getRuleIndex() == P::RuleName)
        parts.push_back(static_cast<P::NameContext*>(r));
    ref.range = range(d);
    ref.spelling.range = ref.range;
    if (parts.size() == 1) {
      ref.kind = ast::ComponentRef::Kind::Named;
      ref.spelling.text = text(parts[0]->getStart()).str();
      useImport(ref.spelling.text);
      return true;
    }
    std::string head = text(parts[0]->getStart()).str();
    std::string tail = text(parts[1]->getStart()).str();
    if (parts.size() > 2) {
      diags_.report(ref.range, diag::DslBadDeclaration, "component name",
                    d->getText(),
                    "a component is named NAME, ALIAS.NAME or std.NAME");
      return false;
    }
    if (head == "std") {
      ast::Name comp = name(parts[1]);
      if (!stdlibKnown(comp)) return false;
      std::string alias = "std." + tail;
      if (!implicit_imports_.count(alias)) {
        implicit_imports_.insert(alias);
        ast::Import imp;
        imp.alias = ast::Name{alias, ref.range};
        imp.target = ast::Scalar{alias, false, false, comp.range};
        imp.stdlib = true;
        imp.range = ref.range;
        file_->imports.push_back(std::move(imp));
      }
      ref.kind = ast::ComponentRef::Kind::Named;
      ref.spelling.text = alias;
      return true;
    }
    for (const ast::Import& imp : file_->imports) {
      if (imp.alias.text != head || imp.stdlib) continue;
      useImport(head);
      ref.kind = ast::ComponentRef::Kind::Path;
      ref.spelling.text = imp.target.text + "#" + tail;
      return true;
    }
    std::vector<std::string> aliases;
    for (const ast::Import& imp : file_->imports)
      if (!imp.stdlib) aliases.push_back(imp.alias.text);
    diags_.report(range(parts[0]), diag::DslUnknownImport, head,
                  ir::didYouMean(head, aliases));
    // The import meant here is likely unused only through the typo.
    quiet_unused_ = true;
    if (recording_) recording_->quiet_unused = true;
    return false;
  }

  // An argument: a literal, a pipeline input (`epochs`), a step output
  // (`t.model`), or data (`file("./x.csv")`).
  std::optional<ast::JobValue> jobValue(P::ValueContext* v,
                                        llvm::StringRef key) {
    ast::JobValue out;
    out.range = range(v);
    if (alternative<P::NameValueContext>(v)) {
      llvm::SmallVector<P::NameContext*, 2> names;
      for (antlr4::tree::ParseTree* ch : v->children)
        if (auto* r = asRule(ch); r && r->getRuleIndex() == P::RuleName)
          names.push_back(static_cast<P::NameContext*>(r));
      ast::Name first = name(names[0]);
      if (names.size() == 1) {
        if (!pipeline_inputs_.count(first.text) &&
            step_names_.count(first.text)) {
          diags_.report(first.range, diag::DslStepWithoutOutput, first.text);
          return std::nullopt;
        }
        out.kind = ast::JobValue::Kind::Template;
        out.tmpl = refTemplate({ast::Name{"parent", first.range},
                                ast::Name{"inputs", first.range}, first},
                               out.range);
        return out;
      }
      ast::Name second = name(names[1]);
      out.kind = ast::JobValue::Kind::Template;
      out.tmpl = refTemplate(
          {ast::Name{"parent", first.range}, ast::Name{"jobs", first.range},
           first, ast::Name{"outputs", second.range}, second},
          out.range);
      return out;
    }
    if (auto* d = alternative<P::DataValueContext>(v)) {
      out.kind = ast::JobValue::Kind::Data;
      out.type = name(d->name());
      out.path = strings(d->strings());
      return out;
    }
    if (alternative<P::ListValueContext>(v)) {
      wrongKind(v, key, "a single value");
      return std::nullopt;
    }
    auto s = scalar(v, key);
    if (!s) return std::nullopt;
    out.kind = ast::JobValue::Kind::Scalar;
    out.scalar = *s;
    return out;
  }

  void stepSettings(ast::Job& j, P::BlockContext* b, const std::string& where) {
    Seen seen(*this, where);
    for (const Entry& e : entries(b)) {
      llvm::StringRef k = e.key.text;
      if (resourceEntry(e, j.resources, j.settings, j.extra, seen)) {
        if (!j.resources.range.Start.isValid()) j.resources.range = e.key.range;
        continue;
      }
      if (parallelEntry(e, j.parallel, j.settings, seen)) continue;
      if (!among(k, kStepKeys)) {
        std::vector<llvm::StringRef> known;
        append(known, kStepKeys);
        std::vector<llvm::StringRef> resources = resourceKeys();
        known.insert(known.end(), resources.begin(), resources.end());
        appendParallelKeys(known);
        unknownKey(e.key, "setting", where, known);
        continue;
      }
      if (!seen.first(e.key)) continue;
      if (nestedBlock(e, j.resources, j.settings, j.extra,
                      j.environment_variables, j.distribution)) {
      } else if (k == "outputs") {
        if (!needBlock(e)) continue;
        Seen outs(*this, "outputs");
        for (const Entry& o : entries(e.block)) {
          if (!outs.first(o.key)) continue;
          if (!o.value) {
            needValue(o, "a path or TYPE(\"PATH\")");
            continue;
          }
          if (auto v = jobValue(o.value, o.key.text))
            j.outputs.emplace_back(o.key, std::move(*v));
        }
      } else {
        j.extra[k.str()] = json(e);
      }
    }
  }

  // `model = t.model`: step `t` writes its output `model` to the pipeline
  // output `model`.
  void outputAssignment(ast::Component& c, P::StepContext* s, Seen& seen) {
    ast::Name target = name(s->target);
    if (!seen.first(target)) return;
    if (s->PARALLEL() || s->OVER() || s->block()) {
      diags_.report(range(s), diag::DslBadOutputAssignment, target.text,
                    "; a step call needs an argument list: NAME(...)");
      return;
    }
    auto parts = s->callee->name();
    if (parts.size() != 2) {
      diags_.report(range(s->callee), diag::DslBadOutputAssignment, target.text,
                    parts.size() == 1 &&
                            step_names_.count(text(parts[0]->getStart()).str())
                        ? "; name one of the step's outputs"
                        : "");
      return;
    }
    ast::Name step = name(parts[0]);
    ast::Name output = name(parts[1]);
    for (ast::Job& j : c.jobs) {
      if (j.name.text != step.text) continue;
      ast::JobValue v;
      v.kind = ast::JobValue::Kind::Template;
      v.range = target.range;
      v.tmpl = refTemplate({ast::Name{"parent", target.range},
                            ast::Name{"outputs", target.range}, target},
                           target.range);
      j.outputs.emplace_back(output, std::move(v));
      return;
    }
    std::vector<std::string> names(step_names_.begin(), step_names_.end());
    auto d = diags_.report(step.range, diag::DslUnknownStep, step.text,
                           c.name->text, ir::didYouMean(step.text, names));
    if (auto m = ir::closestMatch(step.text, names)) d.fixit(step.range, *m);
  }

  void useImport(const std::string& alias) {
    used_imports_.insert(alias);
    if (recording_) recording_->used_imports.push_back(alias);
  }

  const dsl::Parse* p_;
  std::string path_;
  ir::DiagnosticEngine& diags_;
  BuiltDecl* recording_ = nullptr;
  ast::File* file_ = nullptr;
  std::map<std::string, llvm::SMRange> top_names_;
  std::set<std::string> used_imports_, implicit_imports_;
  std::set<std::string> pipeline_inputs_, step_names_;
  bool quiet_unused_ = false;
};

/// Forwards every diagnostic and records where the errors are.
class ErrorLocations : public ir::DiagnosticConsumer {
 public:
  explicit ErrorLocations(ir::DiagnosticConsumer& next) : next_(next) {}
  void handle(const ir::Diagnostic& d) override {
    if (d.severity == ir::Severity::Error)
      at.push_back(d.range.Start.getPointer());
    next_.handle(d);
  }
  ir::DiagnosticConsumer& next() { return next_; }
  std::vector<const char*> at;  ///< null for an error without a location

 private:
  ir::DiagnosticConsumer& next_;
};

bool hasErrorNode(antlr4::tree::ParseTree* t) {
  if (dynamic_cast<antlr4::tree::ErrorNode*>(t)) return true;
  if (auto* c = dynamic_cast<antlr4::ParserRuleContext*>(t))
    if (c->exception) return true;
  for (auto* child : t->children)
    if (hasErrorNode(child)) return true;
  return false;
}

/// The top-level declarations of a file with errors that must not be
/// built: those that hold an error node or an error's location, and the
/// pipelines that name one of those (their steps would be reported as
/// unknown). Nothing when an import is broken or an error has no location:
/// then the whole file is dropped (`all` is set).
std::set<antlr4::tree::ParseTree*> brokenDeclarations(
    const dsl::Parse& p, const std::vector<const char*>& errors, bool& all) {
  std::set<antlr4::tree::ParseTree*> broken;
  std::set<std::string> broken_names;
  all = false;
  for (const char* e : errors)
    if (!e) all = true;
  auto span = [&](antlr4::ParserRuleContext* c) {
    const char* a = p.base + c->getStart()->getStartIndex();
    const char* b = p.base + c->getStop()->getStopIndex() + 1;
    return std::make_pair(a, std::max(a, b));
  };
  for (auto* child : p.tree->children) {
    auto* c = dynamic_cast<antlr4::ParserRuleContext*>(child);
    if (!c || !c->getStart() || !c->getStop()) continue;
    auto [a, b] = span(c);
    bool bad = hasErrorNode(c);
    for (const char* e : errors)
      if (e >= a && e <= b) bad = true;
    if (!bad) continue;
    if (dynamic_cast<P::ImportDeclContext*>(c)) all = true;
    broken.insert(child);
    P::NameContext* n = nullptr;
    if (auto* comp = dynamic_cast<P::ComponentDeclContext*>(c))
      n = comp->name();
    if (auto* pipe = dynamic_cast<P::PipelineDeclContext*>(c)) n = pipe->name();
    if (n && n->getStart()) broken_names.insert(n->getStart()->getText());
  }
  if (all) return broken;
  for (auto* child : p.tree->children) {
    auto* c = dynamic_cast<P::PipelineDeclContext*>(child);
    if (!c || broken.count(child) || !c->getStart() || !c->getStop()) continue;
    for (std::size_t i = c->getStart()->getTokenIndex();
         i <= c->getStop()->getTokenIndex(); ++i)
      if (broken_names.count(p.tokens->get(i)->getText())) {
        broken.insert(child);
        break;
      }
  }
  return broken;
}

/// A parse with syntax errors: `skip` gets its declarations that are left
/// out (brokenDeclarations()). True when nothing may be built: an import is
/// broken, an error has no location, or no component or pipeline is left
/// (`kept_before`: one is declared before the parsed text).
bool nothingKept(const dsl::Parse& p, const std::vector<const char*>& errors,
                 bool kept_before, std::set<antlr4::tree::ParseTree*>& skip) {
  bool all = false;
  skip = brokenDeclarations(p, errors, all);
  bool kept = kept_before;
  for (auto* child : p.tree->children)
    if (!skip.count(child) && (dynamic_cast<P::ComponentDeclContext*>(child) ||
                               dynamic_cast<P::PipelineDeclContext*>(child)))
      kept = true;
  return all || skip.empty() || !kept;
}

// --- reusing declarations across versions of a file --------------------------

// Moves every location of a reused piece by the distance its text moved, and
// checks on the way that each lies inside its chunk (a piece located
// elsewhere is not reused).
struct Mover {
  std::uintptr_t lo = 0, hi = 0;  ///< the chunk, end included; 0: no check
  std::intptr_t delta = 0;
  bool ok = true;
  void operator()(llvm::SMRange& r) {
    at(r.Start);
    at(r.End);
  }
  void at(llvm::SMLoc& l) {
    auto p = reinterpret_cast<std::uintptr_t>(l.getPointer());
    if (!p) return;
    if (hi && (p < lo || p > hi)) ok = false;
    l = llvm::SMLoc::getFromPointer(
        reinterpret_cast<const char*>(p + std::uintptr_t(delta)));
  }
};

void move(ast::Name& n, Mover& m) { m(n.range); }
void move(ast::Scalar& s, Mover& m) { m(s.range); }
template <typename T>
void move(std::optional<T>& o, Mover& m) {
  if (o) move(*o, m);
}
template <typename T>
void move(std::vector<T>& v, Mover& m) {
  for (T& x : v) move(x, m);
}
template <typename A, typename B>
void move(std::pair<A, B>& p, Mover& m) {
  move(p.first, m);
  move(p.second, m);
}
void move(ast::Ref& r, Mover& m) {
  move(r.path, m);
  m(r.range);
}
void move(ast::TemplatePart& p, Mover& m) { move(p.ref, m); }
void move(ast::TemplateString& t, Mover& m) {
  move(t.parts, m);
  m(t.range);
  for (llvm::SMRange& g : t.groups) m(g);
}
void move(ast::PortDecl& p, Mover& m) {
  move(p.name, m);
  move(p.type, m);
  move(p.default_value, m);
  move(p.min, m);
  move(p.max, m);
  move(p.enum_values, m);
  m(p.enum_range);
  move(p.path, m);
  m(p.range);
}
void move(ast::ResourcesDecl& r, Mover& m) { m(r.range); }
void move(ast::DistributionDecl& d, Mover& m) {
  move(d.type, m);
  m(d.range);
}
void move(ast::Setting& g, Mover& m) {
  move(g.value, m);
  m(g.key);
}
void move(ast::Settings& s, Mover& m) { move(s.given, m); }
void move(ast::ParallelDecl& p, Mover& m) {
  move(p.input_data, m);
  move(p.partition_keys, m);
  m(p.partition_keys_range);
  move(p.entry_script, m);
  move(p.task_code, m);
  move(p.program_arguments, m);
  move(p.append_row_to, m);
}
// A copied component shares its ParallelDecl with the original: the copy
// gets its own before its ranges move.
void move(std::shared_ptr<ast::ParallelDecl>& p, Mover& m) {
  if (!p) return;
  if (p.use_count() != 1) p = std::make_shared<ast::ParallelDecl>(*p);
  move(*p, m);
}
void move(ast::JobValue& v, Mover& m) {
  move(v.scalar, m);
  move(v.tmpl, m);
  move(v.type, m);
  move(v.path, m);
  m(v.range);
}
void move(ast::ComponentRef& r, Mover& m) {
  move(r.spelling, m);
  // The DSL writes no inline component; one would be shared, not moved.
  if (r.inline_component) m.ok = false;
  m(r.range);
}
void move(ast::Job& j, Mover& m) {
  move(j.name, m);
  move(j.type, m);
  move(j.component, m);
  move(j.inputs, m);
  move(j.outputs, m);
  move(j.resources, m);
  move(j.distribution, m);
  move(j.parallel, m);
  move(j.settings, m);
  move(j.environment_variables, m);
  m(j.range);
}
void move(ast::Component& c, Mover& m) {
  move(c.kind_spelling, m);
  move(c.name, m);
  move(c.version, m);
  move(c.job_type, m);
  move(c.image, m);
  move(c.cache, m);
  move(c.code, m);
  move(c.command, m);
  move(c.inputs, m);
  move(c.outputs, m);
  move(c.params, m);
  move(c.environment_variables, m);
  move(c.resources, m);
  move(c.distribution, m);
  move(c.parallel, m);
  move(c.settings, m);
  move(c.jobs, m);
  m(c.range);
}
void move(ast::Import& i, Mover& m) {
  move(i.alias, m);
  move(i.target, m);
  m(i.range);
}
void move(ir::Diagnostic& d, Mover& m) {
  m(d.range);
  for (ir::DiagNote& n : d.notes) m(n.range);
  for (ir::DiagFixIt& f : d.fixits) m(f.range);
}

std::intptr_t distance(const char* from, const char* to) {
  return std::intptr_t(reinterpret_cast<std::uintptr_t>(to) -
                       reinterpret_cast<std::uintptr_t>(from));
}

// A recorded declaration (built in a chunk at `base`) as it reads where its
// chunk now starts (`at`).
BuiltDecl moved(BuiltDecl& d, const char* base, const char* at) {
  BuiltDecl out;
  out.diags = d.diags;
  out.implicit = d.implicit;
  out.used_imports = d.used_imports;
  out.quiet_unused = d.quiet_unused;
  Mover m;
  m.delta = distance(base, at);
  move(out.diags, m);
  move(out.implicit, m);
  if (d.comp) {
    // The file that used it last is gone when only the memo holds it.
    if (d.comp.use_count() != 1)
      d.comp = std::make_shared<ast::Component>(*d.comp);
    Mover c;
    c.delta = distance(d.comp_base, at);
    move(*d.comp, c);
    d.comp_base = at;
    out.comp = d.comp;
  }
  return out;
}

/// Forwards every diagnostic and keeps a copy.
class Capture : public ir::DiagnosticConsumer {
 public:
  explicit Capture(ir::DiagnosticConsumer& next) : next_(next) {}
  void handle(const ir::Diagnostic& d) override {
    seen.push_back(d);
    next_.handle(d);
  }
  ir::DiagnosticConsumer& next() { return next_; }
  std::vector<ir::Diagnostic> seen;

 private:
  ir::DiagnosticConsumer& next_;
};

/// Discards every diagnostic (the probe parses report nothing).
class Discard : public ir::DiagnosticConsumer {
 public:
  void handle(const ir::Diagnostic&) override {}
};

}  // namespace

struct DslMemo::Impl {
  /// By the text of the chunk.
  std::unordered_map<std::string, std::shared_ptr<BuiltChunk>> chunks;
};

DslMemo::DslMemo() : impl(std::make_unique<Impl>()) {}
DslMemo::~DslMemo() = default;

std::vector<std::size_t> dslDeclarationStarts(llvm::StringRef text) {
  std::vector<std::size_t> starts;
  const std::size_t n = text.size();
  auto word = [&](std::size_t i, llvm::StringRef w) {
    return text.substr(i).startswith(w) && i + w.size() < n &&
           (text[i + w.size()] == ' ' || text[i + w.size()] == '\t');
  };
  bool line_start = false;
  for (std::size_t i = 0; i < n;) {
    char c = text[i];
    if (line_start) {
      line_start = false;
      std::size_t k = i;
      while (k < n && (text[k] == ' ' || text[k] == '\t')) ++k;
      if (word(k, "import") || word(k, "component") || word(k, "parallel") ||
          word(k, "pipeline"))
        starts.push_back(i);
    }
    if (c == '\n') {
      line_start = true;
      ++i;
    } else if (c == '/' && i + 1 < n && text[i + 1] == '/') {
      while (i < n && text[i] != '\n' && text[i] != '\r') ++i;
    } else if (c == '/' && i + 1 < n && text[i + 1] == '*') {
      // Unterminated, the lexer reads `/` as a bad character.
      std::size_t e = text.find("*/", i + 2);
      i = e == llvm::StringRef::npos ? i + 1 : e + 2;
    } else if (text.substr(i).startswith("\"\"\"") &&
               text.find("\"\"\"", i + 3) != llvm::StringRef::npos) {
      i = text.find("\"\"\"", i + 3) + 3;
    } else if (c == '"') {
      // Escapes may hide a line break; an unterminated string ends at one.
      ++i;
      while (i < n && text[i] != '"' && text[i] != '\n' && text[i] != '\r')
        i += text[i] == '\\' && i + 1 < n ? 2 : 1;
      if (i < n && text[i] == '"') ++i;
    } else {
      ++i;
    }
  }
  return starts;
}

namespace {

// The incremental reading: the text cut at dslDeclarationStarts() into
// chunks, each parsed on its own. When every chunk parses cleanly, the file
// is exactly their concatenation (a declaration starts with a keyword that
// can neither continue nor end the one before, and a chunk that ends inside
// a comment or string does not lex cleanly), so each chunk's declarations
// are built from its own parse, or reused from the last version when its
// text and the imports declared before it are the same. From the first
// chunk that does not parse cleanly to the end, the text is parsed as one
// (below). Nothing (and nothing reported) when only a fresh read of the
// whole text gives the same result: a pipeline before the broken chunk, or
// a parser that gave up.
std::optional<std::unique_ptr<ast::File>> loadChunks(
    llvm::StringRef text, llvm::StringRef path, ir::DiagnosticEngine& diags,
    DslMemo::Impl& memo) {
  std::vector<llvm::StringRef> chunks;
  std::size_t from = 0;
  for (std::size_t s : dslDeclarationStarts(text)) {
    chunks.push_back(text.slice(from, s));
    from = s;
  }
  chunks.push_back(text.slice(from, text.size()));

  llvm::SourceMgr quiet_sm;
  Discard discard;
  ir::DiagnosticEngine quiet(quiet_sm, discard);
  auto probe = [&](llvm::StringRef chunk) {
    auto p = dsl::parse(chunk, quiet, /*tree_wanted=*/true, /*probe=*/true);
    if (p->errors || !p->tree) p.reset();
    return p;
  };
  std::vector<std::unique_ptr<dsl::Parse>> parses(chunks.size());
  std::vector<std::shared_ptr<BuiltChunk>> known(chunks.size());
  std::size_t broken = chunks.size();  // the first chunk that does not parse
  for (std::size_t i = 0; i < chunks.size(); ++i) {
    if (auto it = memo.chunks.find(chunks[i].str()); it != memo.chunks.end()) {
      known[i] = it->second;
      continue;
    }
    if (broken < i) continue;
    parses[i] = probe(chunks[i]);
    if (!parses[i]) broken = i;
  }

  // From the first chunk that does not parse to the end, the text is parsed
  // as one, as a fresh read parses the whole file: the chunks before it
  // parse cleanly, so the parser reaches it in the same state, and reports
  // and recovers from there alike. Its problems come first, as they would.
  std::unique_ptr<dsl::Parse> rest;
  std::set<antlr4::tree::ParseTree*> skip;
  bool keep_nothing = false;
  if (broken < chunks.size()) {
    bool prefix_decls = false;
    for (std::size_t i = 0; i < broken; ++i) {
      // A pipeline before it may name a broken declaration (and is left out
      // then): only a fresh read's token scan tells.
      if (known[i]) {
        for (const BuiltDecl& d : known[i]->decls)
          if (!d.comp || d.comp->kind == ast::Component::Kind::Pipeline)
            return std::nullopt;
        prefix_decls |= !known[i]->decls.empty();
      } else {
        for (auto* child : parses[i]->tree->children) {
          if (dynamic_cast<P::PipelineDeclContext*>(child)) return std::nullopt;
          prefix_decls |=
              dynamic_cast<P::ComponentDeclContext*>(child) != nullptr;
        }
      }
    }
    llvm::StringRef tail(chunks[broken].data(),
                         std::size_t(text.end() - chunks[broken].data()));
    Capture held(discard);
    ir::DiagnosticEngine hold(quiet_sm, held);
    rest = dsl::parse(tail, hold);
    if (!rest->tree) return std::nullopt;
    ErrorLocations errors(diags.consumer());
    diags.setConsumer(errors);
    for (ir::Diagnostic& d : held.seen) diags.emit(std::move(d));
    diags.setConsumer(errors.next());
    if (rest->errors)
      keep_nothing = nothingKept(*rest, errors.at, prefix_decls, skip);
  }
  if (keep_nothing) {
    // Nothing is built: the chunks that parsed are kept for the fix.
    std::unordered_map<std::string, std::shared_ptr<BuiltChunk>> kept;
    for (std::size_t i = 0; i < chunks.size(); ++i)
      if (known[i]) kept[chunks[i].str()] = known[i];
    memo.chunks = std::move(kept);
    return std::unique_ptr<ast::File>();
  }

  Capture capture(diags.consumer());
  diags.setConsumer(capture);
  std::unordered_map<std::string, std::shared_ptr<BuiltChunk>> next;
  // Chunks after the broken one that parsed in an earlier version.
  for (std::size_t i = broken; i < chunks.size(); ++i)
    if (known[i]) next[chunks[i].str()] = known[i];
  std::unique_ptr<Builder> b;
  std::unique_ptr<ast::File> file;
  for (std::size_t i = 0; i < broken; ++i) {
    llvm::StringRef chunk = chunks[i];
    std::string imports = b ? b->importsKey() : "";
    if (known[i] && known[i]->imports == imports) {
      if (!b) {
        // The first chunk is reused: a builder still needs a parse.
        parses[i] = probe(chunk);
        b = std::make_unique<Builder>(*parses[i], path, diags);
        file = b->begin();
      }
      for (BuiltDecl& d : known[i]->decls)
        b->replay(moved(d, known[i]->base, chunk.data()));
      next[chunk.str()] = known[i];
      continue;
    }
    // Parsed cleanly once already (the memo holds only such chunks).
    if (!parses[i]) parses[i] = probe(chunk);
    if (!parses[i]) continue;
    if (!b) {
      b = std::make_unique<Builder>(*parses[i], path, diags);
      file = b->begin();
    }
    b->setParse(*parses[i]);
    auto* tree = parses[i]->tree;
    bool has_import = false;
    for (auto* child : tree->children)
      if (dynamic_cast<P::ImportDeclContext*>(child)) has_import = true;
    if (has_import) {
      for (auto* child : tree->children) b->declaration(child);
      capture.seen.clear();
      continue;
    }
    auto built = std::make_shared<BuiltChunk>();
    built->base = chunk.data();
    built->imports = imports;
    bool reusable = true;
    for (auto* child : tree->children) {
      if (!dynamic_cast<P::ComponentDeclContext*>(child) &&
          !dynamic_cast<P::PipelineDeclContext*>(child))
        continue;
      unsigned errors = diags.errorCount();
      capture.seen.clear();
      BuiltDecl d;
      d.comp_base = chunk.data();
      b->declaration(child, d, capture.seen);
      capture.seen.clear();
      // Checked as they would be moved: every location inside the chunk,
      // and nothing the error limit held back.
      Mover m;
      m.lo = reinterpret_cast<std::uintptr_t>(chunk.begin());
      m.hi = reinterpret_cast<std::uintptr_t>(chunk.end());
      if (d.comp) move(*d.comp, m);
      move(d.diags, m);
      move(d.implicit, m);
      unsigned reported = 0;
      for (const ir::Diagnostic& diag : d.diags)
        if (diag.severity == ir::Severity::Error) ++reported;
      if (!m.ok || diags.errorCount() - errors != reported) reusable = false;
      built->decls.push_back(std::move(d));
    }
    if (reusable) next[chunk.str()] = std::move(built);
  }
  if (rest) {
    if (!b) {
      b = std::make_unique<Builder>(*rest, path, diags);
      file = b->begin();
    }
    // Unused imports are not reported around a broken declaration.
    if (!skip.empty()) b->quietUnused();
    b->setParse(*rest);
    for (auto* child : rest->tree->children)
      if (!skip.count(child)) b->declaration(child);
  }
  diags.setConsumer(capture.next());
  memo.chunks = std::move(next);
  if (!b) return std::nullopt;
  return b->finish(std::move(file));
}

}  // namespace

std::unique_ptr<ast::File> loadDslBuffer(const llvm::SourceMgr& sm,
                                         unsigned buffer_id,
                                         llvm::StringRef path,
                                         ir::DiagnosticEngine& diags,
                                         DslMemo* memo,
                                         std::shared_ptr<const void>* hold) {
  const llvm::MemoryBuffer* buf = sm.getMemoryBuffer(buffer_id);
  llvm::StringRef text = buf->getBuffer();
  if (!dsl::checkBytes(text, diags)) return nullptr;
  if (memo)
    if (auto file = loadChunks(text, path, diags, *memo->impl))
      return std::move(*file);
  ErrorLocations errors(diags.consumer());
  diags.setConsumer(errors);
  auto parsed = dsl::parse(text, diags);
  diags.setConsumer(errors.next());
  if (!parsed->tree) return nullptr;
  // With syntax errors, the declarations that parsed cleanly are still
  // built (an editor keeps its semantic checks while another part is being
  // typed); building a clean subtree reports every problem as a diagnostic
  // and throws nothing a user could cause.
  std::set<antlr4::tree::ParseTree*> skip;
  if (parsed->errors && nothingKept(*parsed, errors.at, false, skip))
    return nullptr;
  Builder b(*parsed, path, diags);
  auto file = b.build(parsed->tree, skip);
  if (hold) *hold = std::shared_ptr<const void>(std::move(parsed));
  return file;
}

}  // namespace pipec::frontend
