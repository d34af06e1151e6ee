// Azure ML CLI v2 YAML for a pipeline: the pipeline job, its jobs with
// bindings, and each component inline or as a file of its own.
#include "backends/azureml/azureml.h"

#include <cmath>
#include <functional>
#include <map>
#include <optional>
#include <set>

#include "backends/azureml/yaml_out.h"
#include "ir/json_dump.h"
#include "ir/program_arguments.h"
#include "ir/settings.h"
#include "llvm/ADT/SmallString.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Path.h"

namespace pipec::backends::azureml {

namespace {

namespace diag = ir::diag;
using ir::Component;
using ir::ComponentKind;
using ir::JobType;
using ir::ParallelSettings;
using ir::Type;

constexpr const char* kSchemaBase =
    "https://azuremlschemas.azureedge.net/latest/";
/// The environment of a component that names none: Azure ML needs one.
constexpr const char* kDefaultEnvironment =
    "azureml://registries/azureml/environments/sklearn-1.5/labels/latest";

llvm::StringRef azureType(Type t) {
  switch (t) {
    case Type::Int:
      return "integer";
    case Type::Float:
      return "number";
    case Type::String:
      return "string";
    case Type::Bool:
      return "boolean";
    case Type::File:
      return "uri_file";
    case Type::Folder:
      return "uri_folder";
    case Type::Table:
      return "mltable";
    case Type::Model:
      return "custom_model";
  }
  return "string";
}

YNode valueNode(const ir::Value& v) {
  switch (v.kind()) {
    case ir::Value::Kind::Int:
      return YNode::plain(std::to_string(v.asInt()));
    case ir::Value::Kind::Float:
      return YNode::number(v.asFloat());
    case ir::Value::Kind::Bool:
      return YNode::plain(v.asBool() ? "true" : "false");
    case ir::Value::Kind::String:
      return YNode::str(v.asString());
  }
  return YNode::str(v.toText());
}

/// A bound of a parameter's range: whole for integers and string lengths.
YNode boundNode(double v, Type t) {
  if (t != Type::Float && std::floor(v) == v && std::fabs(v) < 9e15)
    return YNode::plain(std::to_string(std::int64_t(v)));
  return YNode::number(v);
}

YNode jsonNode(const llvm::json::Value& v) {
  switch (v.kind()) {
    case llvm::json::Value::Null:
      return YNode::plain("null");
    case llvm::json::Value::Boolean:
      return YNode::plain(*v.getAsBoolean() ? "true" : "false");
    case llvm::json::Value::Number:
      if (auto i = v.getAsInteger()) return YNode::plain(std::to_string(*i));
      return YNode::number(*v.getAsNumber());
    case llvm::json::Value::String:
      return YNode::str(v.getAsString()->str());
    case llvm::json::Value::Array: {
      YNode s = YNode::seq();
      for (const llvm::json::Value& i : *v.getAsArray()) s.push(jsonNode(i));
      return s;
    }
    case llvm::json::Value::Object: {
      const llvm::json::Object& o = *v.getAsObject();
      std::vector<std::string> keys;
      for (const auto& kv : o) keys.push_back(kv.first.str());
      std::sort(keys.begin(), keys.end());
      YNode m = YNode::map();
      for (const std::string& k : keys) m.set(k, jsonNode(*o.get(k)));
      return m;
    }
  }
  return YNode::plain("null");
}

/// A template in Azure's spelling: `${{inputs.x}}` for inputs and
/// parameters alike, `${{outputs.x}}`, `$[[...]]` around optional parts.
std::string azureTemplate(const ir::Template& t) {
  std::string out;
  int open_group = -1;
  for (const ir::TemplatePiece& p : t.pieces) {
    if (p.group != open_group) {
      if (open_group >= 0) out += "]]";
      if (p.group >= 0) out += "$[[";
      open_group = p.group;
    }
    switch (p.kind) {
      case ir::TemplatePiece::Kind::Text:
        out += p.text;
        break;
      case ir::TemplatePiece::Kind::Input:
      case ir::TemplatePiece::Kind::Param:
        out += "${{inputs." + p.text + "}}";
        break;
      case ir::TemplatePiece::Kind::Output:
        out += "${{outputs." + p.text + "}}";
        break;
      case ir::TemplatePiece::Kind::RuntimeToken:
        out += "${{" + p.text + "}}";
        break;
    }
  }
  if (open_group >= 0) out += "]]";
  return out;
}

/// Seconds for a duration, or "Nms" when it is not whole seconds.
std::string durationText(std::uint64_t ms) {
  if (ms % 1000 == 0) return std::to_string(ms / 1000);
  return std::to_string(ms) + "ms";
}

/// `mini_batch_size` as text that reads back as `p` says.
std::string batchSizeText(const ParallelSettings& p, bool table) {
  bool bytes =
      p.batch_by == ParallelSettings::BatchBy::Size ||
      (p.batch_by == ParallelSettings::BatchBy::PartitionKeys && table);
  if (!bytes) return std::to_string(p.mini_batch_size);
  std::uint64_t n = p.mini_batch_size;
  constexpr std::uint64_t kKb = 1024, kMb = kKb * 1024, kGb = kMb * 1024;
  if (n % kGb == 0) return std::to_string(n / kGb) + "gb";
  if (n % kMb == 0) return std::to_string(n / kMb) + "mb";
  if (n % kKb == 0) return std::to_string(n / kKb) + "kb";
  // For a table a plain number is bytes; elsewhere it would be a count.
  return std::to_string(n) + (table ? "" : "b");
}

/// The value of a program-argument setting of `p` as a flag's text.
std::string flagValue(const ir::SettingInfo& s, const ParallelSettings& p) {
  llvm::json::Object o = ir::settingsJson(p);
  const llvm::json::Value* v = o.get(s.json_key);
  if (!v) return "";
  switch (s.kind) {
    case ir::SettingKind::Duration:
      return durationText(std::uint64_t(v->getAsInteger().getValueOr(0)));
    case ir::SettingKind::Bool:
      return v->getAsBoolean().getValueOr(false) ? "True" : "False";
    case ir::SettingKind::Percent:
      return ir::formatFloat(v->getAsNumber().getValueOr(0));
    default:
      if (auto i = v->getAsInteger()) return std::to_string(*i);
      if (auto str = v->getAsString()) return str->str();
      return "";
  }
}

/// program_arguments of `p` as Azure text: the template, and a `--flag
/// value` for every settings flag whose value the template alone (on top of
/// `base`) would not give (settings written directly in the DSL).
std::string programArguments(const ParallelSettings& p,
                             const ParallelSettings& base) {
  std::string text = azureTemplate(p.program_arguments);
  ParallelSettings from_text = base;
  for (const ir::ArgumentSetting& a :
       ir::findArgumentSettings(ir::argumentWords(p.program_arguments)))
    if (!llvm::StringRef(a.value).contains('\x01'))
      ir::applyArgumentSetting(a, from_text);
  llvm::json::Object want = ir::settingsJson(p);
  llvm::json::Object got = ir::settingsJson(from_text);
  for (const ir::SettingInfo& s : ir::allSettings()) {
    // error_threshold has a key of its own, written beside the arguments.
    if (!s.prs_flag || s.json_key.empty() || s.name == "error_threshold")
      continue;
    if (*want.get(s.json_key) == *got.get(s.json_key)) continue;
    if (!text.empty()) text += ' ';
    text += "--" + s.name.str() + " " + flagValue(s, p);
  }
  return text;
}

/// A file name for a component: its name in safe characters.
std::string safeFileName(llvm::StringRef name) {
  std::string out;
  for (char c : name)
    out += llvm::isAlnum(c) || c == '-' || c == '_' || c == '.' ? c : '_';
  if (out.empty() || out[0] == '.') out.insert(out.begin(), '_');
  return out;
}

class Emitter {
 public:
  Emitter(const ir::Module& m, const Options& o, ir::DiagnosticEngine& d)
      : m_(m), o_(o), diags_(d) {}

  void run(Files& out) {
    const Component& root = *m_.root;
    if (o_.separate_components) nameFiles(root);
    YNode doc;
    if (root.kind == ComponentKind::Pipeline)
      doc = pipelineJob(root);
    else
      doc = component(root, o_.out_dir, true, nullptr);
    shareComponents(doc);
    out.main = doc.text();
    out.tree = std::make_shared<YNode>(std::move(doc));
    for (const auto& [path, c] : files_) {
      std::string dir =
          o_.out_dir + "/" + llvm::sys::path::parent_path(path).str();
      out.components.emplace_back(path,
                                  component(*c, dir, true, nullptr).text());
    }
  }

 private:
  // --- files and paths ------------------------------------------------------

  /// In one file, a named component that several jobs use would be defined
  /// once per job: the first mapping gets an anchor, equal ones later are
  /// aliases of it (pipec, like Azure ML, refuses two definitions of one
  /// name). Jobs that use a component as it is were made aliases while the
  /// jobs were written (plainMapping); here the others are compared by
  /// text, and anchors nothing refers to are dropped.
  void shareComponents(YNode& doc) {
    auto isNamed = [](const YNode& v) {
      if (v.kind != YNode::Kind::Map || !v.anchor.empty()) return false;
      for (const auto& [k, x] : v.entries)
        if (k == "name") return true;
      return false;
    };
    // Each mapping is rendered once (nested ones once per enclosing copy).
    std::map<std::string, int> uses;
    std::map<const YNode*, std::string> text_of;
    std::function<void(const YNode&)> count = [&](const YNode& n) {
      for (const auto& [k, v] : n.entries) {
        if (k == "component" && isNamed(v)) {
          std::string& t = text_of[&v];
          t = v.text();
          ++uses[t];
        }
        count(v);
      }
      for (const YNode& i : n.items) count(i);
    };
    count(doc);
    std::map<std::string, std::string> anchors;  // text -> anchor
    std::function<void(YNode&)> share = [&](YNode& n) {
      for (auto& [k, v] : n.entries) {
        if (k == "component" && isNamed(v)) {
          const std::string& text = text_of[&v];
          if (auto it = anchors.find(text); it != anchors.end()) {
            used_anchors_.insert(it->second);
            v = YNode::aliasOf(it->second);
            continue;
          }
          if (uses[text] > 1) {
            std::string name;
            for (const auto& [ck, cv] : v.entries)
              if (ck == "name") name = cv.value;
            v.anchor = newAnchor(name);
            anchors[text] = v.anchor;
          }
        }
        share(v);
      }
      for (YNode& i : n.items) share(i);
    };
    share(doc);
    std::function<void(YNode&)> prune = [&](YNode& n) {
      if (!n.anchor.empty() && !used_anchors_.count(n.anchor)) n.anchor.clear();
      for (auto& [k, v] : n.entries) prune(v);
      for (YNode& i : n.items) prune(i);
    };
    prune(doc);
  }

  /// An anchor name for a component, unique in the document.
  std::string newAnchor(llvm::StringRef component_name) {
    std::string name = safeFileName(component_name);
    for (char& ch : name)
      if (ch == '.') ch = '_';
    std::string anchor = name;
    for (int i = 2; !anchors_taken_.insert(anchor).second; ++i)
      anchor = name + "_" + std::to_string(i);
    return anchor;
  }

  /// The mapping of named component `c` for step `s`, in one file: when the
  /// step runs the component as it is, written once and aliased after
  /// (a pipeline of 10,000 steps of one component writes it once).
  YNode plainMapping(const ir::Step& s, const Component& c,
                     const std::string& dir) {
    auto sameResources = [](const ir::Resources& a, const ir::Resources& b) {
      return a.instance_type == b.instance_type &&
             a.instance_count == b.instance_count &&
             a.multi_instance == b.multi_instance &&
             a.multi_gpu == b.multi_gpu && a.gpu_count == b.gpu_count &&
             a.process_count_per_instance == b.process_count_per_instance &&
             a.tf_chief == b.tf_chief && a.tf_ps == b.tf_ps &&
             a.tf_worker == b.tf_worker && a.tf_evaluator == b.tf_evaluator;
    };
    bool plain = !c.is_inline && !c.name.empty() && s.job_type == c.job_type &&
                 s.setting_bindings.empty() &&
                 sameResources(s.resources, c.resources) &&
                 s.parallel.has_value() == c.parallel.has_value() &&
                 (!s.parallel ||
                  (llvm::json::Value(ir::settingsJson(*s.parallel)) ==
                       llvm::json::Value(ir::settingsJson(*c.parallel)) &&
                   ir::templateSource(s.parallel->program_arguments) ==
                       ir::templateSource(c.parallel->program_arguments)));
    if (!plain) return component(c, dir, false, &s);
    if (auto it = plain_anchor_.find(&c); it != plain_anchor_.end()) {
      used_anchors_.insert(it->second);
      return YNode::aliasOf(it->second);
    }
    YNode n = component(c, dir, false, &s);
    n.anchor = newAnchor(c.name);
    plain_anchor_[&c] = n.anchor;
    return n;
  }

  /// Gives every named component a step uses a file, `components/NAME.yml`
  /// (NAME-VERSION.yml when two versions share a name).
  void nameFiles(const Component& root) {
    std::vector<const Component*> used;
    std::set<const Component*> seen;
    std::function<void(const Component&)> walk = [&](const Component& c) {
      if (!c.body) return;
      for (const ir::Step& s : c.body->steps) {
        const Component* sc = s.component;
        if (!sc || !seen.insert(sc).second) continue;
        if (!sc->is_inline && s.component_ref.empty()) used.push_back(sc);
        walk(*sc);
      }
    };
    walk(root);
    std::map<std::string, int> count;
    for (const Component* c : used) ++count[safeFileName(c->name)];
    for (const Component* c : used) {
      std::string base = safeFileName(c->name);
      if (count[base] > 1) base += "-" + safeFileName(c->version);
      std::string path = "components/" + base + ".yml";
      file_of_[c] = path;
      files_[path] = c;
    }
  }

  /// `path` (absolute, or a URI) as written in a file in `dir`: relative
  /// when it lies inside the project the written files belong to (so the
  /// files move with the project), else absolute (a relative path leading
  /// out of the project is refused when the file is read: E0705).
  std::string pathFrom(const std::string& path, bool is_uri,
                       const std::string& dir) {
    if (is_uri) return path;
    std::string rel = ir::relativePath(path, dir);
    if (llvm::StringRef(rel).startswith("..") && !insideProject(path))
      return path;
    if (!llvm::sys::path::is_absolute(rel) &&
        !llvm::StringRef(rel).startswith("."))
      rel = "./" + rel;
    return rel;
  }

  /// Whether `path` is inside the project of the written files: the
  /// nearest folder above the output holding `.git`, else the output
  /// folder itself (as `pipec check` finds a file's project).
  bool insideProject(llvm::StringRef path) {
    if (!root_) {
      root_ = o_.out_dir;
      for (llvm::StringRef d = o_.out_dir; !d.empty();
           d = llvm::sys::path::parent_path(d)) {
        llvm::SmallString<256> git(d);
        llvm::sys::path::append(git, ".git");
        if (llvm::sys::fs::exists(git)) {
          root_ = d.str();
          break;
        }
        if (d == "/") break;
      }
    }
    llvm::StringRef r(*root_);
    return path.startswith(r) &&
           (path.size() == r.size() || path[r.size()] == '/' || r == "/");
  }
  std::optional<std::string> root_;  ///< see insideProject()

  // --- the pipeline job -----------------------------------------------------

  YNode pipelineJob(const Component& c) {
    YNode y = YNode::map();
    y.set("$schema",
          YNode::str(std::string(kSchemaBase) + "pipelineJob.schema.json"));
    y.set("type", YNode::plain("pipeline"));
    header(y, c);
    extraKeys(y, c.extra, {"$schema", "display_name", "type"}, dirOf(c),
              o_.out_dir);
    interface(y, c, o_.out_dir, /*job_style=*/true);
    for (const ir::Port& p : c.inputs)
      if (!p.optional && !p.default_path)
        diags_.report(p.range, diag::AzureInputUnbound, p.name)
            .note(llvm::SMRange(),
                  "give it a default path, or submit with "
                  "'az ml job create --set inputs.{}.path=PATH_OR_URI'",
                  p.name);
    for (const ir::Param& p : c.params)
      if (!p.optional && !p.default_value)
        diags_.report(p.range, diag::AzureInputUnbound, p.name)
            .note(llvm::SMRange(),
                  "give it a default, or submit with "
                  "'az ml job create --set inputs.{}=VALUE'",
                  p.name);
    y.set("jobs", jobs(c, o_.out_dir));
    return y;
  }

  void header(YNode& y, const Component& c) {
    if (!c.name.empty()) y.set("name", YNode::str(c.name));
    if (!c.version.empty()) y.set("version", YNode::str(c.version));
    if (!c.display_name.empty())
      y.set("display_name", YNode::str(c.display_name));
    if (!c.description.empty()) y.set("description", YNode::str(c.description));
  }

  /// Kept keys of the source (tags, settings, compute, ...) but `skip`;
  /// the local paths among them (an environment's conda_file and build
  /// context, additional_includes) rebased from `src_dir` to `dir`.
  void extraKeys(YNode& y, const llvm::json::Object& extra,
                 std::initializer_list<llvm::StringRef> skip,
                 const std::string& src_dir, const std::string& dir) {
    std::vector<std::string> keys;
    for (const auto& kv : extra) {
      llvm::StringRef k = kv.first;
      if (std::find(skip.begin(), skip.end(), k) == skip.end())
        keys.push_back(k.str());
    }
    std::sort(keys.begin(), keys.end());
    for (const std::string& k : keys)
      y.set(k, kept(k, *extra.get(k), src_dir, dir));
  }

  /// A kept value, its local paths rebased (see extraKeys).
  YNode kept(llvm::StringRef key, const llvm::json::Value& v,
             const std::string& src_dir, const std::string& dir) {
    YNode n = jsonNode(v);
    auto rebase = [&](YNode& p) {
      if (p.kind != YNode::Kind::Scalar || p.raw) return;
      llvm::StringRef t = p.value;
      if (t.empty() || t.contains("://") || t.startswith("azureml:") ||
          llvm::sys::path::is_absolute(t) || src_dir.empty())
        return;
      llvm::SmallString<256> abs(src_dir);
      llvm::sys::path::append(abs, t);
      llvm::sys::path::remove_dots(abs, /*remove_dot_dot=*/true);
      p.value = pathFrom(std::string(abs), false, dir);
    };
    if (key == "environment" && n.kind == YNode::Kind::Map) {
      for (auto& [k, e] : n.entries) {
        if (k == "conda_file") rebase(e);
        if (k == "build" && e.kind == YNode::Kind::Map)
          for (auto& [bk, be] : e.entries)
            if (bk == "path") rebase(be);
      }
    } else if (key == "additional_includes" && n.kind == YNode::Kind::Seq) {
      for (YNode& i : n.items) rebase(i);
    } else if (key == "task" && n.kind == YNode::Kind::Map) {
      for (auto& [k, e] : n.entries)
        if (k == "environment") {
          const llvm::json::Object* t = v.getAsObject();
          e = kept("environment", *t->get("environment"), src_dir, dir);
        }
    }
    return n;
  }

  static std::string dirOf(const Component& c) {
    return llvm::sys::path::parent_path(c.source_file).str();
  }

  // --- inputs and outputs ---------------------------------------------------

  void interface(YNode& y, const Component& c, const std::string& dir,
                 bool job_style) {
    YNode in = YNode::map();
    for (const ir::Port& p : c.inputs) in.set(p.name, portNode(p, dir, false));
    for (const ir::Param& p : c.params) in.set(p.name, paramNode(p, job_style));
    if (!in.empty()) y.set("inputs", std::move(in));
    YNode out = YNode::map();
    for (const ir::Port& p : c.outputs) out.set(p.name, portNode(p, dir, true));
    if (!out.empty()) y.set("outputs", std::move(out));
  }

  YNode portNode(const ir::Port& p, const std::string& dir, bool output) {
    YNode n = YNode::map();
    n.set("type", YNode::plain(azureType(p.type).str()));
    if (p.default_path) {
      bool uri = llvm::StringRef(*p.default_path).contains("://") ||
                 llvm::StringRef(*p.default_path).startswith("azureml:");
      n.set("path", YNode::str(pathFrom(*p.default_path, uri, dir)));
    }
    if (!p.mode.empty()) n.set("mode", YNode::str(p.mode));
    if (p.optional && !output) n.set("optional", YNode::plain("true"));
    if (!p.description.empty()) n.set("description", YNode::str(p.description));
    return n;
  }

  /// A parameter: a bare value in a pipeline job when the value says all;
  /// else its type, default and constraints.
  static YNode paramNode(const ir::Param& p, bool job_style) {
    if (job_style && p.default_value && !p.optional && !p.min && !p.max &&
        p.enum_values.empty() && p.description.empty() &&
        p.default_value->type() == p.type)
      return valueNode(*p.default_value);
    YNode n = YNode::map();
    n.set("type", YNode::plain(azureType(p.type).str()));
    if (p.default_value) n.set("default", valueNode(*p.default_value));
    if (p.optional) n.set("optional", YNode::plain("true"));
    if (p.min) n.set("min", boundNode(*p.min, p.type));
    if (p.max) n.set("max", boundNode(*p.max, p.type));
    if (!p.enum_values.empty()) {
      YNode e = YNode::seq();
      for (const ir::Value& v : p.enum_values) e.push(valueNode(v));
      n.set("enum", std::move(e));
    }
    if (!p.description.empty()) n.set("description", YNode::str(p.description));
    return n;
  }

  // --- jobs -----------------------------------------------------------------

  YNode jobs(const Component& c, const std::string& dir) {
    YNode js = YNode::map();
    for (const ir::Step& s : c.body->steps)
      js.add(s.name, job(s, dir, dirOf(c)));  // step names are unique
    return js;
  }

  YNode job(const ir::Step& s, const std::string& dir,
            const std::string& src_dir) {
    const Component& c = *s.component;
    YNode y = YNode::map();
    y.set("type", YNode::plain(ir::componentKindName(c.kind).str()));
    // A job written inline in the source (command, code, task, ... right in
    // the job) is written the same way: its ports are the job's values.
    bool job_inline = c.is_inline && c.range.Start == s.range.Start;
    // A component mapping is the job's own: Azure (and pipec) read no
    // overrides beside it, so it carries the step's settings.
    bool mapping = !job_inline && s.component_ref.empty() &&
                   (c.is_inline || !file_of_.count(&c));
    if (!s.component_ref.empty())
      y.set("component", YNode::str(s.component_ref));
    else if (mapping)
      y.set("component", plainMapping(s, c, dir));
    else if (!job_inline)
      y.set("component", YNode::str(pathFrom(o_.out_dir + "/" + file_of_.at(&c),
                                             false, dir)));
    if (job_inline) jobBody(y, s, c, dir);
    // Values in the order the component declares its inputs and
    // parameters (a job written inline declares them by this order).
    // Each binding made once: the values the component does not declare
    // come last.
    auto has = [](const YNode& m, llvm::StringRef key) {
      return llvm::any_of(m.entries,
                          [&](const auto& kv) { return kv.first == key; });
    };
    YNode in = YNode::map();
    auto bind = [&](const std::string& name) {
      auto it = s.inputs.find(name);
      if (it != s.inputs.end()) in.set(name, binding(it->second, dir));
    };
    for (const ir::Port& p : c.inputs) bind(p.name);
    for (const ir::Param& p : c.params) bind(p.name);
    for (const auto& [name, b] : s.inputs)
      if (!has(in, name)) bind(name);
    if (!in.empty()) y.set("inputs", std::move(in));
    YNode out = YNode::map();
    auto bindOut = [&](const std::string& name) {
      auto it = s.outputs.find(name);
      if (it == s.outputs.end()) return;
      auto n = outputBinding(it->second, dir);
      out.set(name, n ? std::move(*n) : YNode::plain(""));
    };
    for (const ir::Port& p : c.outputs) bindOut(p.name);
    for (const auto& [name, b] : s.outputs)
      if (!has(out, name)) bindOut(name);
    if (!out.empty()) y.set("outputs", std::move(out));
    if (!mapping && !job_inline) overrides(y, s, c);
    if (mapping)
      if (const llvm::json::Object* kept = s.extra.getObject("resources"))
        y.set("resources",
              jsonNode(llvm::json::Value(llvm::json::Object(*kept))));
    if (job_inline && c.parallel)
      parallelKeys(
          y, *c.parallel, nullptr, c, boundIn(&s), s.extra.getObject("task"),
          s.extra.get("environment") != nullptr, s.range, dir, src_dir);
    envVars(y, s.environment_variables);
    extraKeys(y, s.extra, {"resources", "task", "type"}, src_dir, dir);
    return y;
  }

  /// The component keys of a job written inline: code, command,
  /// distribution, resources (its environment is among the job's kept keys).
  void jobBody(YNode& y, const ir::Step& s, const Component& c,
               const std::string& dir) {
    if (c.kind == ComponentKind::Command) {
      if (!c.code.empty())
        y.set("code", YNode::str(pathFrom(c.code, c.code_is_url, dir)));
      if (!s.extra.get("environment"))
        if (auto env = environment(c, dir))
          y.set("environment", std::move(*env));
      checkVariables(c);
      y.set("command", YNode::str(azureTemplate(c.command)));
      if (auto d = distribution(c.job_type, c.resources, c.displayId(), c.range,
                                boundIn(&s)))
        y.set("distribution", std::move(*d));
    }
    YNode res = resources(c.resources, s.extra, nullptr, boundIn(&s), s.range);
    if (!res.empty()) y.set("resources", std::move(res));
  }

  YNode binding(const ir::Binding& b, const std::string& dir) {
    switch (b.kind) {
      case ir::Binding::Kind::Literal: {
        YNode v = b.literal ? valueNode(*b.literal) : YNode::plain("null");
        if (!b.type && b.mode.empty()) return v;
        YNode n = YNode::map();
        if (b.type) n.set("type", YNode::plain(azureType(*b.type).str()));
        n.set("value", std::move(v));
        return n;
      }
      case ir::Binding::Kind::ParentInput:
        return withTypeMode(b, YNode::str("${{parent.inputs." + b.name + "}}"));
      case ir::Binding::Kind::StepOutput:
        return withTypeMode(b, YNode::str("${{parent.jobs." + b.step +
                                          ".outputs." + b.name + "}}"));
      case ir::Binding::Kind::Path: {
        YNode n = YNode::map();
        if (b.type) n.set("type", YNode::plain(azureType(*b.type).str()));
        n.set("path", YNode::str(pathFrom(b.path, b.is_uri, dir)));
        if (!b.mode.empty()) n.set("mode", YNode::str(b.mode));
        return n;
      }
    }
    return YNode::plain("null");
  }

  /// A binding written as `path:` beside the type and mode it was given.
  static YNode withTypeMode(const ir::Binding& b, YNode ref) {
    if (!b.type && b.mode.empty()) return ref;
    YNode n = YNode::map();
    n.set("path", std::move(ref));
    if (b.type) n.set("type", YNode::plain(azureType(*b.type).str()));
    if (!b.mode.empty()) n.set("mode", YNode::str(b.mode));
    return n;
  }

  std::optional<YNode> outputBinding(const ir::OutputBinding& b,
                                     const std::string& dir) {
    YNode n = YNode::map();
    if (b.kind == ir::OutputBinding::Kind::ParentOutput) {
      YNode ref = YNode::str("${{parent.outputs." + b.name + "}}");
      if (!b.type && b.mode.empty()) return ref;
      n.set("path", std::move(ref));
    }
    if (b.type) n.set("type", YNode::plain(azureType(*b.type).str()));
    if (b.kind == ir::OutputBinding::Kind::Path)
      n.set("path", YNode::str(pathFrom(b.path, b.is_uri, dir)));
    if (!b.mode.empty()) n.set("mode", YNode::str(b.mode));
    if (n.empty()) return std::nullopt;
    return n;
  }

  /// What the step sets over its component: resources, distribution,
  /// parallel settings (a setting bound to a pipeline input as its binding).
  void overrides(YNode& y, const ir::Step& s, const Component& c) {
    auto bound = boundIn(&s);
    YNode res = resources(s.resources, s.extra, &c.resources, bound, s.range);
    if (!res.empty()) y.set("resources", std::move(res));
    if (s.job_type != c.job_type ||
        s.resources.process_count_per_instance !=
            c.resources.process_count_per_instance ||
        s.resources.tf_worker != c.resources.tf_worker ||
        s.resources.tf_ps != c.resources.tf_ps || bound("worker_count") ||
        bound("parameter_server_count") || bound("process_count_per_instance"))
      if (auto d = distribution(s.job_type, s.resources, c.displayId(), s.range,
                                bound))
        y.set("distribution", std::move(*d));
    if (s.parallel && c.parallel)
      parallelKeys(y, *s.parallel, &*c.parallel, c, bound,
                   s.extra.getObject("task"), true, s.range, o_.out_dir,
                   o_.out_dir);
  }

  /// A setting of step `s` bound to a pipeline input, as its binding.
  using BoundFn = std::function<std::optional<YNode>(llvm::StringRef)>;
  static BoundFn boundIn(const ir::Step* s) {
    return [s](llvm::StringRef setting) -> std::optional<YNode> {
      if (!s) return std::nullopt;
      auto it = s->setting_bindings.find(setting.str());
      if (it == s->setting_bindings.end()) return std::nullopt;
      return YNode::str("${{parent.inputs." + it->second + "}}");
    };
  }

  /// The step's environment variables, its component's included: Azure ML
  /// takes `environment_variables` on jobs, not in component specs.
  static void envVars(YNode& y, const ir::EnvList& vars) {
    if (vars.empty()) return;
    YNode env = YNode::map();
    for (const auto& [k, v] : vars) env.set(k, YNode::str(v));
    y.set("environment_variables", std::move(env));
  }

  // --- components -----------------------------------------------------------

  /// The component spec of `c`, its paths relative to `dir`. `file`: a
  /// file of its own (with `$schema`). `step`: the step an inline
  /// component belongs to, whose settings it carries.
  YNode component(const Component& c, const std::string& dir, bool file,
                  const ir::Step* step) {
    YNode y = YNode::map();
    const char* kind = c.kind == ComponentKind::Pipeline   ? "pipeline"
                       : c.kind == ComponentKind::Parallel ? "parallel"
                                                           : "command";
    if (file)
      y.set("$schema", YNode::str(std::string(kSchemaBase) + kind +
                                  "Component.schema.json"));
    y.set("type", YNode::plain(kind));
    header(y, c);
    if (!c.cache && !c.extra.get("is_deterministic"))
      y.set("is_deterministic", YNode::plain("false"));
    extraKeys(
        y, c.extra,
        {"$schema", "display_name", "type", "environment", "task", "resources"},
        dirOf(c), dir);
    interface(y, c, dir, /*job_style=*/false);
    if (c.kind == ComponentKind::Pipeline) {
      y.set("jobs", jobs(c, dir));
      return y;
    }
    const ir::Resources& r = step ? step->resources : c.resources;
    JobType jt = step ? step->job_type : c.job_type;
    // An inline component carries its step's settings, bound ones too.
    auto none = boundIn(step);
    if (c.kind == ComponentKind::Command) {
      if (!c.code.empty())
        y.set("code", YNode::str(pathFrom(c.code, c.code_is_url, dir)));
      if (auto env = environment(c, dir)) y.set("environment", std::move(*env));
      checkVariables(c);
      y.set("command", YNode::str(azureTemplate(c.command)));
      if (auto d = distribution(jt, r, c.displayId(), c.range, none))
        y.set("distribution", std::move(*d));
    }
    YNode res = resources(r, c.extra, nullptr, none, c.range, &c);
    if (!res.empty()) y.set("resources", std::move(res));
    // A lone component keeps its variables (pipec reads them back); in a
    // pipeline they are its jobs'.
    if (&c == m_.root) envVars(y, c.environment_variables);
    if (c.kind == ComponentKind::Parallel) {
      const ParallelSettings& p =
          step && step->parallel ? *step->parallel : *c.parallel;
      if (const llvm::json::Value* e = c.extra.get("environment"))
        y.set("environment", kept("environment", *e, dirOf(c), dir));
      parallelKeys(y, p, nullptr, c, none, c.extra.getObject("task"),
                   c.extra.get("environment") != nullptr, c.range, dir,
                   dirOf(c));
    }
    return y;
  }

  /// The component's environment: as the source wrote it, else its image.
  std::optional<YNode> environment(const Component& c, const std::string& dir) {
    if (const llvm::json::Value* e = c.extra.get("environment"))
      return kept("environment", *e, dirOf(c), dir);
    if (!c.image.empty()) {
      YNode n = YNode::map();
      n.set("image", YNode::str(c.image));
      return n;
    }
    diags_
        .report(c.range, diag::AzureNoEnvironment, c.displayId(),
                kDefaultEnvironment)
        .note(llvm::SMRange(),
              "give the component an image (DSL: image \"python:3.11-slim\"; "
              "YAML: image: or environment: {{image: ...}}), or an Azure ML "
              "environment (environment: azureml:NAME@latest)");
    return YNode::str(kDefaultEnvironment);
  }

  /// PAI variables a command reads, which Azure ML does not set.
  void checkVariables(const Component& c) {
    // The caret goes to the variable in the source when the command's text
    // holds it there as written, else to the command.
    llvm::StringRef source;
    if (c.command.range.Start.isValid() && c.command.range.End.isValid())
      source = llvm::StringRef(c.command.range.Start.getPointer(),
                               std::size_t(c.command.range.End.getPointer() -
                                           c.command.range.Start.getPointer()));
    std::size_t searched = 0;
    for (const ir::TemplatePiece& p : c.command.pieces) {
      if (p.kind != ir::TemplatePiece::Kind::Text) continue;
      llvm::StringRef text = p.text;
      for (std::size_t at = text.find("$PAI_"); at != llvm::StringRef::npos;
           at = text.find("$PAI_", at + 1)) {
        std::size_t end = at + 1;
        while (end < text.size() &&
               (llvm::isAlnum(text[end]) || text[end] == '_'))
          ++end;
        llvm::StringRef var = text.slice(at, end);
        llvm::SMRange where = c.command.range;
        std::size_t found = source.find(var, searched);
        if (found != llvm::StringRef::npos) {
          const char* s = source.data() + found;
          where = llvm::SMRange(llvm::SMLoc::getFromPointer(s),
                                llvm::SMLoc::getFromPointer(s + var.size()));
          searched = found + var.size();
        }
        std::string hint =
            var == "$PAI_USER_ARGS"
                ? "pass each parameter as '--NAME ${{inputs.NAME}}' instead"
                : "name the value by its binding instead "
                  "(${{inputs.NAME}}, ${{outputs.NAME}})";
        diags_
            .report(where, diag::AzurePaiVariable, c.displayId(),
                    var.drop_front().str())
            .note(llvm::SMRange(), "{}", hint);
      }
    }
  }

  /// `distribution:` for a job type, or nothing for a plain command. A job
  /// type Azure ML has no distribution for is E1620.
  template <typename Bound>
  std::optional<YNode> distribution(JobType jt, const ir::Resources& r,
                                    const std::string& who, llvm::SMRange at,
                                    Bound bound) {
    auto count = [&](llvm::StringRef setting, std::int64_t v) {
      if (auto b = bound(setting)) return *b;
      return YNode::plain(std::to_string(v));
    };
    YNode d = YNode::map();
    switch (jt) {
      case JobType::Command:
        if (r.process_count_per_instance <= 1 && !r.mpi &&
            !bound("process_count_per_instance"))
          return std::nullopt;
        d.set("type", YNode::plain("mpi"));
        d.set(
            "process_count_per_instance",
            count("process_count_per_instance", r.process_count_per_instance));
        return d;
      case JobType::PyTorch:
        d.set("type", YNode::plain("pytorch"));
        if (r.process_count_per_instance != 1 ||
            bound("process_count_per_instance"))
          d.set("process_count_per_instance",
                count("process_count_per_instance",
                      r.process_count_per_instance));
        return d;
      case JobType::TensorFlow:
        // No source sets chief or evaluator replicas (Azure's distribution
        // and the DSL give workers and parameter servers only).
        d.set("type", YNode::plain("tensorflow"));
        if (r.tf_worker || bound("worker_count"))
          d.set("worker_count", count("worker_count", r.tf_worker));
        if (r.tf_ps || bound("parameter_server_count"))
          d.set("parameter_server_count",
                count("parameter_server_count", r.tf_ps));
        return d;
      case JobType::XGBoost:
        diags_.report(at, diag::AzureJobType, who, "xgboost")
            .note(llvm::SMRange(),
                  "run XGBoost as a command job with 'distribution: {{type: "
                  "mpi}}' (xgboost.collective over MPI), or as one process");
        return std::nullopt;
      case JobType::ElasticBatch:
        diags_.report(at, diag::AzureJobType, who, "elasticbatch")
            .note(llvm::SMRange(),
                  "write it as a parallel component (type: parallel, an "
                  "entry script with init() and run()), which Azure ML "
                  "splits into mini-batches");
        return std::nullopt;
    }
    return std::nullopt;
  }

  /// `resources:` of `r` (only what differs from `base` when given), with
  /// the kept keys (`shm_size`, ...); PAI's own keys are W1622.
  template <typename Bound>
  YNode resources(const ir::Resources& r, const llvm::json::Object& extra,
                  const ir::Resources* base, Bound bound, llvm::SMRange at,
                  const Component* owner = nullptr) {
    YNode y = YNode::map();
    bool pai_type = r.instance_type == "cpu" || r.instance_type == "gpu";
    if (auto b = bound("instance_type"))
      y.set("instance_type", *b);
    else if (!r.instance_type.empty() && !pai_type &&
             (!base || base->instance_type != r.instance_type))
      y.set("instance_type", YNode::str(r.instance_type));
    if (auto b = bound("instance_count"))
      y.set("instance_count", *b);
    else if (base ? base->instance_count != r.instance_count
                  : r.instance_count != 1)
      y.set("instance_count", YNode::plain(std::to_string(r.instance_count)));
    if (const llvm::json::Object* kept = extra.getObject("resources")) {
      YNode k = jsonNode(llvm::json::Value(llvm::json::Object(*kept)));
      for (auto& [key, v] : k.entries) y.set(key, std::move(v));
    }
    // PAI's keys, reported where they are declared.
    std::vector<std::string> pai;
    auto differs = [&](auto field) {
      return !base || base->*field != r.*field;
    };
    if (pai_type && differs(&ir::Resources::instance_type))
      pai.push_back("instance_type: " + r.instance_type);
    if (r.multi_instance && differs(&ir::Resources::multi_instance))
      pai.push_back("multi_instance: true");
    if (r.multi_gpu && differs(&ir::Resources::multi_gpu))
      pai.push_back("multi_gpu: true");
    if (r.gpu_count && differs(&ir::Resources::gpu_count))
      pai.push_back("gpu_count: " + std::to_string(r.gpu_count));
    if (!pai.empty()) {
      std::string who = owner ? "component '" + owner->displayId() + "'"
                              : std::string("this step");
      diags_.report(at, diag::AzurePaiResources, llvm::join(pai, ", "), who)
          .note(llvm::SMRange(),
                "on Azure ML the compute target decides CPU or GPU: set "
                "'compute: azureml:<gpu-cluster>' on the job, or "
                "resources.instance_type to a VM size");
    }
    return y;
  }

  /// The keys of a parallel component or job (only what differs from
  /// `base` when given).
  template <typename Bound>
  void parallelKeys(YNode& y, const ParallelSettings& p,
                    const ParallelSettings* base, const Component& c,
                    Bound bound, const llvm::json::Object* kept_task,
                    bool has_environment, llvm::SMRange at,
                    const std::string& dir, const std::string& src_dir) {
    const ir::Port* in =
        p.input_data.empty() ? nullptr : c.findInput(p.input_data);
    bool table = in && in->type == Type::Table;
    auto put = [&](llvm::StringRef key, bool differs, YNode value) {
      if (auto b = bound(key))
        y.set(key, *b);
      else if (differs)
        y.set(key, std::move(value));
    };
    if (!base && !p.input_data.empty())
      y.set("input_data", YNode::str("${{inputs." + p.input_data + "}}"));
    // A table split by Azure's default (1 MiB, or 10 files of an MLTable
    // that lists files) is written without a size, which reads back as both.
    ParallelSettings unset;
    bool table_default = table &&
                         p.batch_by != ParallelSettings::BatchBy::Count &&
                         p.mini_batch_size == 1024 * 1024 &&
                         p.mini_batch_files == unset.mini_batch_files;
    put("mini_batch_size",
        base ? base->mini_batch_size != p.mini_batch_size ||
                   base->batch_by != p.batch_by ||
                   base->mini_batch_files != p.mini_batch_files
             : !table_default,
        YNode::str(batchSizeText(p, table)));
    if (!p.partition_keys.empty() &&
        (!base || base->partition_keys != p.partition_keys)) {
      YNode k = YNode::seq();
      for (const std::string& key : p.partition_keys) k.push(YNode::str(key));
      y.set("partition_keys", std::move(k));
    }
    auto num = [](std::int64_t v) { return YNode::plain(std::to_string(v)); };
    ParallelSettings defaults;
    const ParallelSettings& ref = base ? *base : defaults;
    put("max_concurrency_per_instance",
        ref.max_concurrency_per_instance != p.max_concurrency_per_instance,
        num(p.max_concurrency_per_instance));
    put("mini_batch_error_threshold",
        ref.mini_batch_error_threshold != p.mini_batch_error_threshold,
        num(p.mini_batch_error_threshold));
    put("error_threshold", ref.error_threshold != p.error_threshold,
        num(p.error_threshold));
    put("logging_level", ref.logging_level != p.logging_level,
        YNode::str(p.logging_level));
    YNode retry = YNode::map();
    if (auto b = bound("max_retries"))
      retry.set("max_retries", *b);
    else if (ref.max_retries != p.max_retries)
      retry.set("max_retries", num(p.max_retries));
    if (auto b = bound("timeout")) {
      retry.set("timeout", *b);
    } else if (ref.timeout_ms != p.timeout_ms) {
      if (p.timeout_ms % 1000)
        diags_
            .report(at, diag::AzureTimeout, c.displayId(),
                    std::int64_t(p.timeout_ms))
            .note(llvm::SMRange(), "give the timeout in whole seconds");
      retry.set("timeout",
                YNode::plain(std::to_string((p.timeout_ms + 999) / 1000)));
    }
    if (!retry.empty()) y.set("retry_settings", std::move(retry));
    // task: the entry script, its code, environment and arguments; the
    // kept keys (type, environment, model, fn) as the source wrote them.
    YNode task = YNode::map();
    if (kept_task)
      task = kept("task", llvm::json::Value(llvm::json::Object(*kept_task)),
                  src_dir, dir);
    if (!base) {
      if (!kept_task || !kept_task->get("type"))
        task.set("type", YNode::plain("run_function"));
      if (!c.code.empty())
        task.set("code", YNode::str(pathFrom(c.code, c.code_is_url, dir)));
      if (!p.entry_script.empty())
        task.set("entry_script", YNode::str(p.entry_script));
      if (!has_environment && (!kept_task || !kept_task->get("environment")))
        if (auto env = environment(c, dir))
          task.set("environment", std::move(*env));
    } else if (base->entry_script != p.entry_script) {
      task.set("entry_script", YNode::str(p.entry_script));
    }
    std::string args = programArguments(p, base ? *base : ParallelSettings{});
    if (!base ? !args.empty()
              : ir::templateSource(base->program_arguments) !=
                        ir::templateSource(p.program_arguments) ||
                    args != azureTemplate(p.program_arguments))
      task.set("program_arguments", YNode::str(args));
    if (!p.append_row_to.empty() &&
        (!base || base->append_row_to != p.append_row_to))
      task.set("append_row_to",
               YNode::str("${{outputs." + p.append_row_to + "}}"));
    if (!task.empty()) y.set("task", std::move(task));
  }

  const ir::Module& m_;
  const Options& o_;
  ir::DiagnosticEngine& diags_;
  std::map<const Component*, std::string> file_of_;
  std::map<const Component*, std::string> plain_anchor_;
  std::set<std::string> anchors_taken_, used_anchors_;
  std::map<std::string, const Component*> files_;
};

}  // namespace

bool emitAzure(const ir::Module& module, const Options& opts, Files& out,
               ir::DiagnosticEngine& diags) {
  unsigned before = diags.errorCount();
  if (!module.root) return false;
  Emitter e(module, opts, diags);
  e.run(out);
  return diags.errorCount() == before;
}

}  // namespace pipec::backends::azureml
