// Reads component and pipeline YAML into the AST, keeping every location.
#include "frontend/yaml_loader.h"

#include <array>

#include "frontend/template_lexer.h"
#include "ir/suggest.h"
#include "ir/types.h"
#include "llvm/ADT/StringSwitch.h"
#include "llvm/Support/MemoryBuffer.h"

namespace pipec::frontend {

namespace diag = ir::diag;
using yaml::Node;

namespace {

// Keys pipec knows but does not act on: kept in `extra` for the backends.
bool isKeptKey(llvm::StringRef k) {
  return llvm::StringSwitch<bool>(k)
      .Cases("$schema", "tags", "compute", "settings", "experiment_name", true)
      .Cases("is_deterministic", "additional_includes", "properties", true)
      .Cases("identity", "services", "queue_settings", "limits", "id", true)
      .Cases("creation_context", "environment", "display_name", true)
      .Case("code_configuration", true)
      .Default(false);
}

constexpr llvm::StringRef kComponentKeys[] = {"$schema",
                                              "name",
                                              "version",
                                              "display_name",
                                              "description",
                                              "type",
                                              "job_type",
                                              "image",
                                              "cache",
                                              "code",
                                              "command",
                                              "inputs",
                                              "outputs",
                                              "parameters",
                                              "resources",
                                              "environment",
                                              "environment_variables",
                                              "distribution",
                                              "jobs",
                                              "input_data",
                                              "partition_keys",
                                              "retry_settings",
                                              "task",
                                              "tags",
                                              "compute",
                                              "settings",
                                              "experiment_name",
                                              "is_deterministic",
                                              "additional_includes",
                                              "properties",
                                              "identity",
                                              "services",
                                              "queue_settings",
                                              "limits",
                                              "id",
                                              "creation_context"};

constexpr llvm::StringRef kJobKeys[] = {
    "type",           "component",       "inputs",
    "outputs",        "resources",       "environment_variables",
    "distribution",   "command",         "code",
    "cache",          "environment",     "compute",
    "display_name",   "description",     "tags",
    "name",           "experiment_name", "settings",
    "limits",         "services",        "identity",
    "queue_settings", "properties",      "is_deterministic",
    "input_data",     "partition_keys",  "retry_settings",
    "task",           "image",           "job_type"};

constexpr llvm::StringRef kInputKeys[] = {
    "type",        "optional", "default", "min",       "max",   "enum",
    "description", "path",     "mode",    "datastore", "range", "value"};
constexpr llvm::StringRef kOutputKeys[] = {
    "type",       "description",     "mode",      "path",
    "is_control", "early_available", "datastore", "name",
    "version",    "optional"};
constexpr llvm::StringRef kJobInputKeys[] = {
    "type", "path", "mode", "datastore", "value", "description", "optional"};
constexpr llvm::StringRef kJobOutputKeys[] = {
    "type",    "path",        "mode",       "datastore",      "name",
    "version", "description", "is_control", "early_available"};
// The keys of `resources:` that are not settings: kept for the backends.
constexpr llvm::StringRef kResourceKeys[] = {
    "shm_size", "properties", "docker_args", "locations", "max_instance_count"};
constexpr llvm::StringRef kDistributionKeys[] = {"type"};
constexpr llvm::StringRef kTaskKeys[] = {
    "type",          "code",        "entry_script", "program_arguments",
    "append_row_to", "environment", "model",        "fn"};

}  // namespace

std::optional<ir::SettingSection> settingSection(YamlSection section) {
  switch (section) {
    case YamlSection::Component:
    case YamlSection::Job:
      return ir::SettingSection::Parallel;
    case YamlSection::Resources:
      return ir::SettingSection::Resources;
    case YamlSection::Distribution:
      return ir::SettingSection::Distribution;
    case YamlSection::Retry:
      return ir::SettingSection::Retry;
    default:
      return std::nullopt;
  }
}

llvm::ArrayRef<llvm::StringRef> yamlKeys(YamlSection section) {
  // Each section's own keys, then the settings (ir/settings.h) it holds.
  static const auto kKeys = [] {
    std::array<std::vector<llvm::StringRef>, kYamlSections> keys;
    auto own = [&](YamlSection s, llvm::ArrayRef<llvm::StringRef> list) {
      keys[std::size_t(s)].assign(list.begin(), list.end());
    };
    own(YamlSection::Component, kComponentKeys);
    own(YamlSection::Job, kJobKeys);
    own(YamlSection::Input, kInputKeys);
    own(YamlSection::Output, kOutputKeys);
    own(YamlSection::JobInput, kJobInputKeys);
    own(YamlSection::JobOutput, kJobOutputKeys);
    own(YamlSection::Resources, kResourceKeys);
    own(YamlSection::Distribution, kDistributionKeys);
    own(YamlSection::Task, kTaskKeys);
    for (std::size_t s = 0; s < kYamlSections; ++s)
      if (auto sec = settingSection(YamlSection(s)))
        for (const ir::SettingInfo& info : ir::allSettings())
          if (info.section == *sec && info.yaml_key)
            keys[s].push_back(info.name);
    return keys;
  }();
  return kKeys[std::size_t(section)];
}

namespace {

class Loader {
 public:
  Loader(const llvm::SourceMgr& sm, unsigned buf, llvm::StringRef path,
         ir::DiagnosticEngine& diags)
      : sm_(sm), diags_(diags), path_(path.str()) {
    buffer_end_ = sm.getMemoryBuffer(buf)->getBufferEnd();
  }

  std::shared_ptr<ast::Component> component(const Node* root) {
    if (!root->isMap()) {
      diags_.report(root->range, diag::NotAComponent);
      return nullptr;
    }
    auto c = std::make_shared<ast::Component>();
    c->file = path_;
    c->range = root->range;
    readComponent(*c, root);
    return c;
  }

 private:
  // --- small readers
  // -----------------------------------------------------------
  ast::Name nameOf(const Node* key) {
    ast::Name n;
    n.text = key->value;
    n.range = key->range;
    return n;
  }

  // A scalar (or null) value; reports other shapes.
  std::optional<ast::Scalar> scalar(const Node* key, const Node* v) {
    if (v->isMap() || v->isSeq()) {
      diags_.report(v->range.Start.isValid() ? v->range : key->range,
                    diag::WrongNodeKind, key->value, "a scalar", v->kindName());
      return std::nullopt;
    }
    ast::Scalar s;
    s.range = v->range;
    if (v->isNull()) {
      s.is_null = true;
      s.range = key->range;
      return s;
    }
    s.text = v->value;
    s.quoted = !v->plain;
    return s;
  }

  std::string text(const Node* key, const Node* v) {
    auto s = scalar(key, v);
    return s ? std::move(s->text) : std::string();
  }

  std::optional<ast::Name> nameValue(const Node* key, const Node* v) {
    auto s = scalar(key, v);
    if (!s || s->is_null) return std::nullopt;
    return ast::Name{std::move(s->text), s->range};
  }

  bool expectMap(const Node* key, const Node* v,
                 const char* what = "a mapping") {
    if (v->isMap()) return true;
    if (v->isNull()) return false;  // `key:` with nothing: treated as empty
    diags_.report(v->range, diag::WrongNodeKind, key->value, what,
                  v->kindName());
    return false;
  }

  bool isKey(const Node* k) {
    if (k->isScalar()) return true;
    diags_.report(k->range, diag::NonScalarKey);
    return false;
  }

  ast::TemplateString templ(const Node* key, const Node* v) {
    ast::TemplateString t;
    auto s = scalar(key, v);
    if (!s || s->is_null) {
      t.range = s ? s->range : v->range;
      return t;
    }
    return lexTemplate(s->text, s->range, buffer_end_, diags_);
  }

  void unknown(const Node* key, llvm::StringRef context,
               llvm::ArrayRef<llvm::StringRef> known, llvm::json::Object* extra,
               const Node* value) {
    diags_.report(key->range, diag::UnknownKey, key->value, context,
                  ir::didYouMean(key->value, known));
    if (extra) keep(*extra, key, value);
  }

  void keep(llvm::json::Object& extra, const Node* key, const Node* value) {
    extra[key->value] = toJson(value, 0);
  }

  llvm::json::Value toJson(const Node* n, unsigned depth) {
    if (depth > 200) return nullptr;
    switch (n->kind) {
      case Node::Kind::Null:
        return nullptr;
      case Node::Kind::Scalar: {
        if (n->plain) {
          ir::Type t = ir::naturalType(n->value, false);
          ir::ConvertError err;
          if (t != ir::Type::String) {
            if (auto v = ir::convertLiteral(n->value, t, err))
              return v->toJson();
          }
        }
        return n->value;
      }
      case Node::Kind::Sequence: {
        llvm::json::Array a;
        for (const Node* i : n->items) a.push_back(toJson(i, depth + 1));
        return a;
      }
      case Node::Kind::Mapping: {
        llvm::json::Object o;
        for (const auto& [k, v] : n->entries)
          if (k->isScalar()) o[k->value] = toJson(v, depth + 1);
        return o;
      }
    }
    return nullptr;
  }

  // --- component
  // ---------------------------------------------------------------
  void readComponent(ast::Component& c, const Node* root) {
    const Node* type = root->get("type");
    const Node* schema = root->get("$schema");
    if (schema && schema->isScalar() &&
        llvm::StringRef(schema->value).contains_insensitive("promptflow")) {
      // A prompt flow (flow.dag.yaml, run.yml): not a component pipec runs.
      c.kind = ast::Component::Kind::Unsupported;
      c.kind_spelling = ast::Name{"flow", schema->range};
      for (const auto& [k, v] : root->entries)
        if (k->isScalar()) keep(c.extra, k, v);
      return;
    }
    if (type && type->isScalar()) {
      c.kind_spelling = ast::Name{type->value.str(), type->range};
      c.kind = kindOf(type->value);
    } else if (root->get("jobs")) {
      c.kind = ast::Component::Kind::Pipeline;
    } else if (root->get("task") || root->get("input_data")) {
      c.kind = ast::Component::Kind::Parallel;
    }
    for (const auto& [k, v] : root->entries) {
      if (!isKey(k)) continue;
      llvm::StringRef key = k->value;
      if (key == "name") {
        c.name = nameValue(k, v);
      } else if (key == "version") {
        c.version = scalar(k, v);
      } else if (key == "display_name") {
        c.display_name = text(k, v);
      } else if (key == "description") {
        c.description = text(k, v);
      } else if (key == "type") {
        if (!v->isScalar()) scalar(k, v);
      } else if (key == "job_type") {
        c.job_type = nameValue(k, v);
      } else if (key == "image") {
        c.image = scalar(k, v);
      } else if (key == "cache") {
        c.cache = scalar(k, v);
      } else if (key == "code") {
        c.code = scalar(k, v);
      } else if (key == "command") {
        c.command = templ(k, v);
      } else if (key == "inputs") {
        readDecls(c, k, v, ast::PortDecl::Section::Input);
      } else if (key == "outputs") {
        readDecls(c, k, v, ast::PortDecl::Section::Output);
      } else if (key == "parameters") {
        readDecls(c, k, v, ast::PortDecl::Section::Param);
      } else if (key == "resources") {
        readResources(c.resources, c.settings, c.extra, k, v);
      } else if (key == "environment_variables") {
        readEnvVars(c.environment_variables, k, v);
      } else if (key == "distribution") {
        readDistribution(c.distribution, c.settings, k, v);
      } else if (key == "jobs") {
        readJobs(c, k, v);
      } else if (key == "environment") {
        keep(c.extra, k, v);
        if (v->isMap())
          if (const Node* img = v->get("image");
              img && img->isScalar() && !root->get("image"))
            c.image =
                ast::Scalar{img->value.str(), !img->plain, false, img->range};
      } else if (readParallelKey(c.parallel, c.settings, c.extra, k, v)) {
        // parallel attribute
      } else if (isKeptKey(key)) {
        keep(c.extra, k, v);
      } else {
        unknown(k, "a component", yamlKeys(YamlSection::Component), &c.extra,
                v);
      }
    }
  }

  static ast::Component::Kind kindOf(llvm::StringRef t) {
    return llvm::StringSwitch<ast::Component::Kind>(t)
        .Case("command", ast::Component::Kind::Command)
        .Case("parallel", ast::Component::Kind::Parallel)
        .Case("pipeline", ast::Component::Kind::Pipeline)
        .Default(ast::Component::Kind::Unsupported);
  }

  void readDecls(ast::Component& c, const Node* k, const Node* v,
                 ast::PortDecl::Section section) {
    if (!expectMap(k, v)) return;
    auto& list = section == ast::PortDecl::Section::Input    ? c.inputs
                 : section == ast::PortDecl::Section::Output ? c.outputs
                                                             : c.params;
    for (const auto& [nk, nv] : v->entries) {
      if (!isKey(nk)) continue;
      ast::PortDecl d;
      d.section = section;
      d.name = nameOf(nk);
      d.range = nk->range;
      if (nv->isMap()) {
        readDeclBody(d, nv);
      } else if (nv->isNull()) {
        // `name:` alone: an output of the default type, or an input whose
        // type is inferred.
        if (section != ast::PortDecl::Section::Output) d.inferred = true;
      } else if (nv->isScalar()) {
        if (section == ast::PortDecl::Section::Output) {
          // `out: ${{parent.outputs.x}}` in a component is not meaningful;
          // a bare type name is a common shorthand.
          d.type = ast::Name{nv->value.str(), nv->range};
        } else {
          // A literal value: a pipeline input (`epochs: 10`).
          d.inferred = true;
          d.default_value = scalar(nk, nv);
        }
      } else {
        diags_.report(nv->range, diag::WrongNodeKind, nk->value,
                      "a mapping or a scalar", nv->kindName());
        continue;
      }
      list.push_back(std::move(d));
    }
  }

  void readDeclBody(ast::PortDecl& d, const Node* nv) {
    bool output = d.section == ast::PortDecl::Section::Output;
    for (const auto& [k, v] : nv->entries) {
      if (!isKey(k)) continue;
      llvm::StringRef key = k->value;
      if (key == "type") {
        d.type = nameValue(k, v);
      } else if (key == "description") {
        d.description = text(k, v);
      } else if (key == "mode") {
        d.mode = text(k, v);
      } else if (key == "path") {
        d.path = scalar(k, v);
      } else if (!output && (key == "default" || key == "value")) {
        d.default_value = scalar(k, v);
      } else if (key == "optional") {
        auto s = scalar(k, v);
        d.optional =
            s && !s->is_null && (s->text == "true" || s->text == "True");
        if (s && !s->is_null && !d.optional && s->text != "false" &&
            s->text != "False")
          diags_.report(s->range, diag::LiteralTypeMismatch, "key", "optional",
                        "bool", s->text, "a bool");
      } else if (!output && key == "min") {
        d.min = scalar(k, v);
      } else if (!output && key == "max") {
        d.max = scalar(k, v);
      } else if (!output && key == "range") {
        if (v->isSeq() && v->items.size() == 2) {
          d.min = scalar(k, v->items[0]);
          d.max = scalar(k, v->items[1]);
        } else {
          diags_.report(v->range, diag::WrongNodeKind, "range",
                        "a sequence [min, max]", v->kindName());
        }
      } else if (!output && key == "enum") {
        d.enum_range = v->range;
        if (v->isSeq()) {
          for (const Node* item : v->items)
            if (auto s = scalar(k, item)) d.enum_values.push_back(*s);
        } else {
          diags_.report(v->range, diag::WrongNodeKind, "enum", "a sequence",
                        v->kindName());
        }
      } else if (key == "datastore" || key == "is_control" ||
                 key == "early_available" || key == "name" ||
                 key == "version") {
        // Azure storage details: no local meaning.
      } else {
        unknown(k,
                output                                       ? "an output"
                : d.section == ast::PortDecl::Section::Param ? "a parameter"
                                                             : "an input",
                output ? llvm::ArrayRef<llvm::StringRef>(kOutputKeys)
                       : llvm::ArrayRef<llvm::StringRef>(kInputKeys),
                nullptr, v);
      }
    }
  }

  // A key of a section that names a setting (ir/settings.h): its value is
  // recorded in `out`. False when `k` names none.
  bool readSetting(ast::Settings& out, ir::SettingSection section,
                   const Node* k, const Node* v) {
    const ir::SettingInfo* info = ir::findSettingKey(k->value, section, true);
    if (!info) return false;
    if (auto s = scalar(k, v)) out.set(*info, std::move(*s), k->range);
    return true;
  }

  void readResources(ast::ResourcesDecl& r, ast::Settings& settings,
                     llvm::json::Object& extra, const Node* k, const Node* v) {
    r.range = k->range;
    if (!expectMap(k, v)) return;
    llvm::json::Object kept;
    for (const auto& [rk, rv] : v->entries) {
      if (!isKey(rk) ||
          readSetting(settings, ir::SettingSection::Resources, rk, rv))
        continue;
      if (llvm::is_contained(kResourceKeys, rk->value))
        keep(kept, rk, rv);
      else
        unknown(rk, "resources", yamlKeys(YamlSection::Resources), &kept, rv);
    }
    if (!kept.empty()) extra["resources"] = std::move(kept);
  }

  void readDistribution(ast::DistributionDecl& d, ast::Settings& settings,
                        const Node* k, const Node* v) {
    d.range = k->range;
    if (!expectMap(k, v)) return;
    for (const auto& [dk, dv] : v->entries) {
      if (!isKey(dk) ||
          readSetting(settings, ir::SettingSection::Distribution, dk, dv))
        continue;
      if (dk->value == "type")
        d.type = nameValue(dk, dv);
      else
        unknown(dk, "distribution", yamlKeys(YamlSection::Distribution),
                nullptr, dv);
    }
    if (!d.type)
      diags_.report(k->range, diag::MissingKey, "distribution", "type");
  }

  void readEnvVars(std::vector<std::pair<ast::Name, ast::Scalar>>& out,
                   const Node* k, const Node* v) {
    if (!expectMap(k, v)) return;
    for (const auto& [ek, ev] : v->entries) {
      if (!isKey(ek)) continue;
      if (auto s = scalar(ek, ev)) out.emplace_back(nameOf(ek), *s);
    }
  }

  // Parallel attributes at component or job level. Returns false when `k` is
  // not one.
  bool readParallelKey(std::shared_ptr<ast::ParallelDecl>& decl,
                       ast::Settings& settings, llvm::json::Object& extra,
                       const Node* k, const Node* v) {
    auto p = [&]() -> ast::ParallelDecl& { return ast::ensure(decl); };
    llvm::StringRef key = k->value;
    if (readSetting(settings, ir::SettingSection::Parallel, k, v)) {
    } else if (key == "input_data") {
      p().input_data = templ(k, v);
    } else if (key == "partition_keys") {
      p().partition_keys_range = v->range;
      if (v->isSeq()) {
        for (const Node* item : v->items)
          if (auto s = scalar(k, item)) p().partition_keys.push_back(*s);
      } else if (auto s = scalar(k, v); s && !s->is_null) {
        p().partition_keys.push_back(*s);
      }
    } else if (key == "retry_settings") {
      if (expectMap(k, v)) {
        for (const auto& [rk, rv] : v->entries)
          if (isKey(rk) &&
              !readSetting(settings, ir::SettingSection::Retry, rk, rv))
            unknown(rk, "retry_settings", yamlKeys(YamlSection::Retry), nullptr,
                    rv);
      }
    } else if (key == "task") {
      if (expectMap(k, v)) {
        for (const auto& [tk, tv] : v->entries) {
          if (!isKey(tk)) continue;
          llvm::StringRef tkey = tk->value;
          if (tkey == "code")
            p().task_code = scalar(tk, tv);
          else if (tkey == "entry_script")
            p().entry_script = scalar(tk, tv);
          else if (tkey == "program_arguments")
            p().program_arguments = templ(tk, tv);
          else if (tkey == "append_row_to")
            p().append_row_to = templ(tk, tv);
          else if (tkey == "type" || tkey == "environment" || tkey == "model" ||
                   tkey == "fn") {
            llvm::json::Object* task = extra.getObject("task");
            if (!task) {
              extra["task"] = llvm::json::Object();
              task = extra.getObject("task");
            }
            keep(*task, tk, tv);
          } else {
            unknown(tk, "task", kTaskKeys, nullptr, tv);
          }
        }
      }
    } else {
      return false;
    }
    p();
    return true;
  }

  // --- pipeline jobs
  // -------------------------------------------------------------
  void readJobs(ast::Component& c, const Node* k, const Node* v) {
    if (!expectMap(k, v)) return;
    c.jobs.reserve(v->entries.size());
    for (const auto& [jk, jv] : v->entries) {
      if (!isKey(jk)) continue;
      if (!jv->isMap()) {
        diags_.report(jv->isNull() ? jk->range : jv->range, diag::WrongNodeKind,
                      jk->value, "a mapping", jv->kindName());
        continue;
      }
      // Read in place: an ast::Job is large, and a pipeline has thousands.
      ast::Job& job = c.jobs.emplace_back();
      job.name = nameOf(jk);
      job.range = jk->range;
      readJob(job, jv);
    }
  }

  void readJob(ast::Job& job, const Node* m) {
    const Node* type = m->get("type");
    if (type && type->isScalar())
      job.type = ast::Name{type->value.str(), type->range};
    bool unsupported =
        !job.type.empty() &&
        kindOf(job.type.text) == ast::Component::Kind::Unsupported;
    // Inline jobs carry their own command and code.
    std::shared_ptr<ast::Component> inl;
    auto inlineComponent = [&]() -> ast::Component& {
      if (!inl) {
        inl = std::make_shared<ast::Component>();
        inl->file = path_;
        inl->is_inline = true;
        inl->range = job.range;
        inl->kind = job.type.text == "parallel" ? ast::Component::Kind::Parallel
                                                : ast::Component::Kind::Command;
        inl->kind_spelling = job.type;
      }
      return *inl;
    };
    for (const auto& [k, v] : m->entries) {
      if (!isKey(k)) continue;
      llvm::StringRef key = k->value;
      if (key == "type") {
        if (!v->isScalar()) scalar(k, v);
      } else if (key == "component") {
        job.component.range = v->range;
        if (v->isMap()) {
          job.component.kind = ast::ComponentRef::Kind::Inline;
          auto c = std::make_shared<ast::Component>();
          c->file = path_;
          c->range = v->range;
          c->is_inline = true;
          readComponent(*c, v);
          job.component.inline_component = std::move(c);
        } else if (auto s = scalar(k, v); s && !s->is_null) {
          job.component.spelling = *s;
          llvm::StringRef t = s->text;
          job.component.kind = t.startswith("azureml:")
                                   ? ast::ComponentRef::Kind::Registry
                                   : ast::ComponentRef::Kind::Path;
        }
      } else if (key == "inputs") {
        readJobValues(job.inputs, k, v, false);
      } else if (key == "outputs") {
        readJobValues(job.outputs, k, v, true);
      } else if (unsupported) {
        keep(job.extra, k, v);
      } else if (key == "resources") {
        readResources(job.resources, job.settings, job.extra, k, v);
      } else if (key == "environment_variables") {
        readEnvVars(job.environment_variables, k, v);
      } else if (key == "distribution") {
        readDistribution(job.distribution, job.settings, k, v);
      } else if (key == "command") {
        inlineComponent().command = templ(k, v);
      } else if (key == "code") {
        inlineComponent().code = scalar(k, v);
      } else if (key == "image") {
        inlineComponent().image = scalar(k, v);
      } else if (key == "cache") {
        inlineComponent().cache = scalar(k, v);
      } else if (key == "job_type") {
        inlineComponent().job_type = nameValue(k, v);
      } else if (key == "environment") {
        keep(job.extra, k, v);
        if (v->isMap())
          if (const Node* img = v->get("image"); img && img->isScalar())
            inlineComponent().image =
                ast::Scalar{img->value.str(), !img->plain, false, img->range};
      } else if (readParallelKey(job.parallel, job.settings, job.extra, k, v)) {
      } else if (isKeptKey(key) || key == "name" || key == "description") {
        keep(job.extra, k, v);
      } else {
        unknown(k, "a job", yamlKeys(YamlSection::Job), &job.extra, v);
      }
    }
    // An inline parallel job: its task and attributes make the component.
    if (!unsupported && job.component.kind == ast::ComponentRef::Kind::None &&
        (inl || job.type.text == "parallel")) {
      ast::Component& c = inlineComponent();
      c.distribution = job.distribution;
      c.resources = job.resources;
      bool parallel = job.type.text == "parallel";
      for (const ast::Setting& s : job.settings.given)
        if (parallel || !s.info->parallel()) c.settings.given.push_back(s);
      if (parallel) {
        c.kind = ast::Component::Kind::Parallel;
        c.parallel = job.parallel;
      }
      // The job's inputs and outputs declare the inline component's ports.
      for (const auto& [n, val] : job.inputs)
        c.inputs.push_back(inferredDecl(n, val, false));
      for (const auto& [n, val] : job.outputs)
        c.outputs.push_back(inferredDecl(n, val, true));
      job.component.kind = ast::ComponentRef::Kind::Inline;
      job.component.inline_component = std::move(inl);
      job.component.range = job.range;
    }
  }

  static ast::PortDecl inferredDecl(const ast::Name& n, const ast::JobValue& v,
                                    bool output) {
    ast::PortDecl d;
    d.section =
        output ? ast::PortDecl::Section::Output : ast::PortDecl::Section::Input;
    d.name = n;
    d.range = n.range;
    d.type = v.type;
    d.mode = v.mode;
    d.inferred = !v.type.has_value();
    return d;
  }

  void readJobValues(std::vector<std::pair<ast::Name, ast::JobValue>>& out,
                     const Node* k, const Node* v, bool outputs) {
    if (!expectMap(k, v)) return;
    out.reserve(v->entries.size());
    for (const auto& [nk, nv] : v->entries) {
      if (!isKey(nk)) continue;
      ast::JobValue jv;
      jv.range = nv->isNull() ? nk->range : nv->range;
      if (nv->isNull()) {
        jv.kind = ast::JobValue::Kind::Empty;
      } else if (nv->isScalar()) {
        ast::Scalar s = std::move(*scalar(nk, nv));
        // Plain and quoted scalars alike may hold bindings.
        if (mayHoldBindings(s.text)) {
          jv.kind = ast::JobValue::Kind::Template;
          jv.tmpl = lexTemplate(s.text, s.range, buffer_end_, diags_);
        }
        if (jv.kind != ast::JobValue::Kind::Template || !jv.tmpl.hasRefs()) {
          jv.kind = ast::JobValue::Kind::Scalar;
          jv.scalar = std::move(s);
        }
      } else if (nv->isMap()) {
        jv.kind = ast::JobValue::Kind::Data;
        for (const auto& [dk, dv] : nv->entries) {
          if (!isKey(dk)) continue;
          llvm::StringRef key = dk->value;
          if (key == "type") {
            jv.type = nameValue(dk, dv);
          } else if (key == "path") {
            auto s = scalar(dk, dv);
            if (s && !s->is_null) {
              if (mayHoldBindings(s->text)) {
                jv.tmpl = lexTemplate(s->text, s->range, buffer_end_, diags_);
                if (!jv.tmpl.hasRefs()) jv.path = std::move(s);
              } else {
                jv.path = std::move(s);
              }
            }
          } else if (key == "value" || key == "default") {
            auto s = scalar(dk, dv);
            if (s && !s->is_null) {
              jv.kind = ast::JobValue::Kind::Scalar;
              jv.scalar = std::move(*s);
            }
          } else if (key == "mode") {
            jv.mode = text(dk, dv);
          } else if (key == "datastore" || key == "name" || key == "version" ||
                     key == "description" || key == "optional" ||
                     key == "is_control" || key == "early_available") {
          } else {
            unknown(dk, outputs ? "a job output" : "a job input",
                    outputs ? llvm::ArrayRef<llvm::StringRef>(kJobOutputKeys)
                            : llvm::ArrayRef<llvm::StringRef>(kJobInputKeys),
                    nullptr, dv);
          }
        }
      } else {
        diags_.report(nv->range, diag::WrongNodeKind, nk->value,
                      "a scalar or a mapping", nv->kindName());
        continue;
      }
      out.emplace_back(nameOf(nk), std::move(jv));
    }
  }

  const llvm::SourceMgr& sm_;
  ir::DiagnosticEngine& diags_;
  std::string path_;
  const char* buffer_end_ = nullptr;
};

}  // namespace

std::unique_ptr<ast::File> loadYamlFile(const llvm::SourceMgr& sm,
                                        unsigned buffer_id,
                                        llvm::StringRef path,
                                        ir::DiagnosticEngine& diags,
                                        const yaml::Limits& limits) {
  auto doc = yaml::parse(sm, buffer_id, diags, limits);
  if (!doc) return nullptr;
  Loader loader(sm, buffer_id, path, diags);
  auto c = loader.component(doc->root());
  if (!c) return nullptr;
  auto file = std::make_unique<ast::File>();
  file->path = path.str();
  file->components.push_back(c);
  file->main = c;
  return file;
}

bool peekComponentId(llvm::StringRef path, std::string& name,
                     std::string& version) {
  auto buf = llvm::MemoryBuffer::getFile(path);
  if (!buf) return false;
  llvm::SourceMgr sm;
  unsigned id = sm.AddNewSourceBuffer(std::move(*buf), llvm::SMLoc());
  ir::StoringDiagnosticConsumer sink;
  ir::DiagnosticEngine quiet(sm, sink);
  auto doc = yaml::parse(sm, id, quiet);
  if (!doc || !doc->root()->isMap()) return false;
  const Node* n = doc->root()->get("name");
  if (!n || !n->isScalar()) return false;
  name = n->value;
  const Node* v = doc->root()->get("version");
  version = v && v->isScalar() ? v->value : "";
  return true;
}

}  // namespace pipec::frontend
