// Semantic analysis: names, types, constraints, bindings, mangling and the DAG.
#include "frontend/sema.h"

#include <boost/graph/adjacency_list.hpp>
#include <boost/graph/depth_first_search.hpp>

#include <algorithm>
#include <cmath>
#include <map>
#include <queue>
#include <set>

#include "frontend/template_lexer.h"
#include "ir/mangle.h"
#include "ir/mltable.h"
#include "ir/program_arguments.h"
#include "ir/settings.h"
#include "ir/suggest.h"
#include "llvm/ADT/DenseMap.h"
#include "llvm/ADT/StringMap.h"
#include "llvm/ADT/StringSwitch.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"

namespace pipec::frontend {

namespace diag = ir::diag;
using ir::Type;

ComponentResolver::~ComponentResolver() = default;

std::string invalidNameReason(llvm::StringRef name) {
  if (name.empty()) return "names must not be empty";
  if (name.front() == '_') return "names must not start with '_'";
  if (name.size() > 255) return "names must not be longer than 255 characters";
  for (char c : name) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
              (c >= '0' && c <= '9') || c == '_' || c == '-';
    if (!ok) {
      if (static_cast<unsigned char>(c) < 0x20 ||
          static_cast<unsigned char>(c) >= 0x7F)
        return "only letters, digits, '_' and '-' are allowed";
      return fmt::format(
          "'{}' is not allowed; use letters, digits, '_' and '-'", c);
    }
  }
  return "";
}

std::string unusablePathReason(llvm::StringRef path) {
  for (char c : path) {
    auto u = static_cast<unsigned char>(c);
    if (u == 0) return "it contains a NUL character";
    if (u < 0x20 || u == 0x7F)
      return fmt::format("it contains the control character 0x{:02X}", u);
  }
  return "";
}

namespace {

bool isUnderDir(llvm::StringRef path, llvm::StringRef dir) {
  return path == dir || (path.startswith(dir) && path.size() > dir.size() &&
                         (dir.endswith("/") || path[dir.size()] == '/'));
}

}  // namespace

std::string resolveLinks(llvm::StringRef path) {
  llvm::SmallString<256> existing(path), real;
  std::vector<std::string> rest;
  while (!existing.empty() && !llvm::sys::fs::exists(existing)) {
    rest.push_back(llvm::sys::path::filename(existing).str());
    llvm::sys::path::remove_filename(existing);
  }
  if (existing.empty() || llvm::sys::fs::real_path(existing, real))
    return path.str();
  for (auto it = rest.rbegin(); it != rest.rend(); ++it)
    llvm::sys::path::append(real, *it);
  return std::string(real);
}

std::string ComponentResolver::resolveLinks(llvm::StringRef path) {
  return frontend::resolveLinks(path);
}

std::optional<std::string> pathOutside(llvm::StringRef path,
                                       llvm::StringRef root,
                                       ComponentResolver& resolver) {
  if (!isUnderDir(path, root)) return path.str();
  std::string real = resolver.resolveLinks(path);
  if (real == path) return std::nullopt;
  if (!isUnderDir(real, resolver.resolveLinks(root))) return real;
  return std::nullopt;
}

std::string gitUrlProblem(llvm::StringRef url) {
  static const char* const kSchemes[] = {"https", "http", "ssh", "git", "file"};
  for (char c : url)
    if (static_cast<unsigned char>(c) <= 0x20 || c == 0x7f)
      return "a git URL has no spaces or control characters";
  if (url.startswith("-")) return "it starts with '-'";
  llvm::StringRef rest = url;
  rest.consume_front("git+");
  auto sep = rest.find("://");
  if (sep == llvm::StringRef::npos) {
    // scp-like: user@host:path
    auto [user_host, path] = rest.split(':');
    auto [user, host] = user_host.split('@');
    if (rest.contains("::"))
      return "git remote helpers ('transport::address') are not cloned";
    if (!user_host.contains('@') || host.empty() || path.empty())
      return "write a URL such as https://host/repo.git or "
             "git@host:repo.git";
    if (user.startswith("-") || host.startswith("-"))
      return "a user or host cannot start with '-'";
    return "";
  }
  llvm::StringRef scheme = rest.take_front(sep);
  if (llvm::find(kSchemes, scheme) == std::end(kSchemes))
    return "'" + scheme.str() +
           "' is not one of the URL schemes pipec lets git clone from (https, "
           "http, ssh, git, file)";
  llvm::StringRef after = rest.drop_front(sep + 3);
  if (after.startswith("-") || after.contains("@-"))
    return "a user or host cannot start with '-'";
  if (scheme != "file" && after.empty()) return "it names no host";
  return "";
}

namespace {

std::string componentNameReason(llvm::StringRef name) {
  if (name.empty()) return "names must not be empty";
  if (name.size() > 255) return "names must not be longer than 255 characters";
  if (name.front() == '.' || name.front() == '-')
    return fmt::format("names must not start with '{}'", name.front());
  for (char c : name) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
              (c >= '0' && c <= '9') || c == '_' || c == '-' || c == '.';
    if (!ok) return "only letters, digits, '_', '-' and '.' are allowed";
  }
  return "";
}

bool isUri(llvm::StringRef s) {
  return s.contains("://") || s.startswith("azureml:") ||
         s.startswith("git+") || s.startswith("git@");
}

const char* article(Type t) {
  switch (t) {
    case Type::Int:
      return "an int";
    case Type::Float:
      return "a float";
    case Type::String:
      return "a string";
    case Type::Bool:
      return "a bool";
    case Type::File:
      return "a file";
    case Type::Folder:
      return "a folder";
    case Type::Table:
      return "a table";
    case Type::Model:
      return "a model";
  }
  return "a value";
}

std::string quoteList(const std::vector<ir::Value>& values) {
  std::string out;
  for (std::size_t i = 0; i < values.size(); ++i) {
    if (i) out += ", ";
    out += "'" + values[i].toText() + "'";
  }
  return out;
}

std::string fmtNumber(double d) {
  if (d == std::floor(d) && std::fabs(d) < 1e15)
    return std::to_string(static_cast<long long>(d));
  return ir::formatFloat(d);
}

// What a job input or output resolves to before it becomes an ir::Binding.
struct Source {
  enum class Kind {
    None,
    Literal,
    ParentInput,
    ParentOutput,
    StepOutput,
    Path
  };
  Kind kind = Kind::None;
  std::optional<Type> type;  // known type of the source
  std::string name;          // input/output name
  std::string step;          // producing step
  std::size_t step_index = 0;
  ast::Scalar literal;
  std::string path;
  bool is_uri = false;
  llvm::SMRange range;
  llvm::SMRange decl;  // declaration of the source, for notes
  std::string describe() const {
    switch (kind) {
      case Kind::ParentInput:
        return fmt::format("pipeline input '{}'", name);
      case Kind::ParentOutput:
        return fmt::format("pipeline output '{}'", name);
      case Kind::StepOutput:
        return fmt::format("output '{}' of step '{}'", name, step);
      case Kind::Path:
        return "the data";
      default:
        return "the value";
    }
  }
};

}  // namespace

// A file name may have 255 bytes, and `pipec run` names a folder after each
// step's full name.
constexpr std::size_t kMaxStepNameBytes = 255;

class Sema::Impl {
 public:
  Impl(ir::DiagnosticEngine& diags, ComponentResolver& resolver,
       ir::Module& module, SemaOptions options)
      : diags_(diags), resolver_(resolver), module_(module), opts_(options) {}

  const ir::Component* lower(const std::shared_ptr<const ast::Component>& a) {
    bool compiled = in_progress_.empty();  // called by the Session
    auto it = lowered_.find(a.get());
    if (it != lowered_.end()) {
      if (in_progress_.count(a.get())) {
        diags_.report(a->range, diag::ComponentCycle,
                      a->name ? a->name->text : a->file, "its own steps");
      }
      if (compiled) checkStepNames(*it->second);
      return it->second;
    }
    keep_alive_.push_back(a);
    auto owned = std::make_unique<ir::Component>();
    ir::Component* c = module_.add(std::move(owned));
    lowered_[a.get()] = c;
    in_progress_.insert(a.get());
    lowerComponent(*a, *c, nullptr);
    measure(*c);
    in_progress_.erase(a.get());
    if (compiled) checkStepNames(*c);
    return c;
  }

 private:
  // --- literals
  // -----------------------------------------------------------------
  std::optional<ir::Value> convert(const ast::Scalar& s, Type t,
                                   llvm::StringRef what, llvm::StringRef name) {
    ir::ConvertError err;
    auto v = ir::convertLiteral(s.text, t, err);
    if (v) return v;
    if (err == ir::ConvertError::OutOfRange)
      diags_.report(s.range, diag::LiteralOutOfRange, what, name, s.text,
                    t == Type::Int ? "a 64-bit int" : "a double");
    else
      diags_.report(s.range, diag::LiteralTypeMismatch, what, name,
                    ir::typeName(t), s.text, article(t));
    return std::nullopt;
  }

  // Range and enum of a parameter value.
  bool checkConstraints(const ir::Param& p, const ir::Value& v,
                        llvm::SMRange at, llvm::StringRef what) {
    switch (ir::checkConstraints(p, v)) {
      case ir::Violation::None:
        return true;
      case ir::Violation::Range: {
        std::string shown = p.type == Type::String
                                ? fmt::format("length {}", v.asString().size())
                                : v.toText();
        diags_
            .report(at, diag::ValueOutOfRange, what, p.name, shown,
                    p.min ? fmtNumber(*p.min) : "-inf",
                    p.max ? fmtNumber(*p.max) : "inf")
            .note(p.range, "parameter '{}' declared here", p.name);
        return false;
      }
      case ir::Violation::Enum: {
        std::vector<std::string> names;
        for (const ir::Value& e : p.enum_values) names.push_back(e.toText());
        auto b = diags_.report(at, diag::ValueNotInEnum, what, p.name,
                               v.toText(), quoteList(p.enum_values));
        if (auto m = ir::closestMatch(v.toText(), names)) b.fixit(at, *m);
        b.note(p.range, "parameter '{}' declared here", p.name);
        return false;
      }
    }
    return true;
  }

  // A job setting may be bound to a pipeline input (`${{parent.inputs.n}}`):
  // the binding is recorded on the step and the input's default, if any,
  // stands in for static checks.
  std::optional<ast::Scalar> resolveSetting(const ast::Scalar* s,
                                            llvm::StringRef setting,
                                            Type want) {
    if (!s || s->is_null) return std::nullopt;
    if (!mayHoldBindings(s->text)) return *s;
    ast::TemplateString t = lexTemplate(s->text, s->range, nullptr, diags_);
    const ast::Ref* ref = t.singleRef();
    if (!ref || !setting_scope_ || ref->path.size() != 3 ||
        ref->path[0].text != "parent" || ref->path[1].text != "inputs") {
      diags_.report(ref ? ref->range : s->range, diag::BadBindingPath,
                    ref ? ref->spelling() : s->text, "job settings",
                    "parent.inputs.NAME");
      return std::nullopt;
    }
    std::string name = matchParentInput(ref->path[2], *setting_scope_);
    if (name.empty()) return std::nullopt;
    const ir::Param* p = setting_scope_->findParam(name);
    if (!p || !ir::isAssignable(p->type, want)) {
      Type got = p ? p->type : setting_scope_->findInput(name)->type;
      diags_.report(ref->range, diag::SettingBindingType, setting,
                    "pipeline input", name, ir::typeName(got), article(want));
      return std::nullopt;
    }
    if (setting_bindings_) (*setting_bindings_)[setting.str()] = name;
    if (!p->default_value) return std::nullopt;
    ast::Scalar v;
    v.text = p->default_value->toText();
    v.range = s->range;
    return v;
  }

  // The value of a typed setting (a literal, or bound to a pipeline input).
  std::optional<ir::Value> settingValue(const ast::Scalar* in,
                                        llvm::StringRef what, Type type) {
    auto s = resolveSetting(in, what, type);
    if (!s || s->is_null) return std::nullopt;
    return convert(*s, type, "setting", what);
  }

  std::optional<bool> boolOf(const std::optional<ast::Scalar>& in,
                             llvm::StringRef what) {
    auto v = settingValue(in ? &*in : nullptr, what, Type::Bool);
    return v ? std::optional<bool>(v->asBool()) : std::nullopt;
  }

  // What BadResource says an integer setting must be.
  static std::string atLeast(std::int64_t min) {
    return min == -1  ? "-1 (never fail) or more"
           : min == 0 ? "0 or more"
                      : "at least " + std::to_string(min);
  }

  // Reads the value of one given setting by its kind (ir/settings.h),
  // reporting a bad literal at it, and lands it in `r` or `p` with
  // ir::applySetting. `table`: the parallel step splits a table. Returns
  // whether a value was applied (not when it is bad, null, or bound to an
  // input without a default: the flattener applies that).
  bool applyGiven(const ast::Setting& g, ir::Resources& r,
                  ir::ParallelSettings* p, bool table,
                  llvm::StringRef input_data) {
    const ir::SettingInfo& info = *g.info;
    llvm::StringRef name = info.name;
    std::string text;
    switch (info.kind) {
      case ir::SettingKind::Int: {
        auto v = settingValue(&g.value, name, Type::Int);
        if (!v) return false;
        if (v->asInt() < info.min) {
          diags_.report(g.value.range, diag::BadResource, name,
                        atLeast(info.min), v->asInt());
          return false;
        }
        text = std::to_string(v->asInt());
        break;
      }
      case ir::SettingKind::Bool: {
        auto v = settingValue(&g.value, name, Type::Bool);
        if (!v) return false;
        text = v->asBool() ? "true" : "false";
        break;
      }
      case ir::SettingKind::Percent: {
        auto v = settingValue(&g.value, name, Type::Float);
        if (!v) return false;
        if (!(v->asFloat() >= 0 && v->asFloat() <= 100)) {
          diags_.report(g.value.range, diag::LiteralTypeMismatch, "setting",
                        name, ir::settingNeeds(info), g.value.text,
                        "a percentage");
          return false;
        }
        text = v->toText();
        break;
      }
      default: {
        auto s = resolveSetting(&g.value, name, Type::String);
        if (!s || s->is_null) return false;
        text = s->text;
        llvm::StringRef t = llvm::StringRef(text).trim();
        if (info.kind == ir::SettingKind::Duration && !ir::parseDuration(t)) {
          diags_.report(s->range, diag::BadDuration, s->text);
          return false;
        }
        if (info.kind == ir::SettingKind::BatchSize) {
          auto size = ir::parseBatchSize(t);
          if (!size) {
            diags_.report(s->range, diag::BadSize, t);
            return false;
          }
          if (!size->bytes && table)
            diags_.report(s->range, diag::ParallelBatchForTable,
                          std::int64_t(size->value), input_data);
        }
        break;
      }
    }
    if (ir::applySetting(info, text, r, p, table).empty()) return true;
    // What is left to refuse: a logging level not among the levels.
    if (info.kind == ir::SettingKind::Level)
      diags_.report(g.value.range, diag::LiteralTypeMismatch, "setting", name,
                    ir::settingNeeds(info), text, "a logging level");
    return false;
  }

  // Every setting of `sections` in `given`, in the order given. Returns the
  // names of those applied.
  llvm::SmallVector<llvm::StringRef, 4> applySettings(
      const ast::Settings& given,
      std::initializer_list<ir::SettingSection> sections, ir::Resources& r,
      ir::ParallelSettings* p = nullptr, bool table = false,
      llvm::StringRef input_data = "") {
    llvm::SmallVector<llvm::StringRef, 4> applied;
    for (const ast::Setting& g : given.given)
      if (llvm::is_contained(sections, g.info->section) &&
          applyGiven(g, r, p, table, input_data))
        applied.push_back(g.info->name);
    return applied;
  }

  // --- names
  // ----------------------------------------------------------------------
  bool checkName(const ast::Name& n, llvm::StringRef what) {
    std::string why = invalidNameReason(n.text);
    if (why.empty()) return true;
    diags_.report(n.range, diag::InvalidName, what, n.text, why);
    return false;
  }

  // --- paths
  // ------------------------------------------------------------------------
  // Resolves a local path written in `file`; URIs are returned as written.
  std::string resolvePath(const ast::Scalar& s, llvm::StringRef file,
                          llvm::StringRef what, bool& is_uri,
                          bool warn_missing = true) {
    llvm::StringRef text = llvm::StringRef(s.text).trim();
    if (text.startswith("file:")) text = text.drop_front(5);
    if (std::string why = unusablePathReason(text); !why.empty()) {
      diags_.report(s.range, diag::BadPath, what, s.text, why);
      is_uri = false;
      return "";
    }
    is_uri = isUri(text);
    if (is_uri) return text.str();
    llvm::SmallString<256> p;
    if (llvm::sys::path::is_absolute(text)) {
      p = text;
    } else {
      p = llvm::sys::path::parent_path(file);
      llvm::sys::path::append(p, text);
    }
    llvm::sys::path::remove_dots(p, /*remove_dot_dot=*/true);
    std::string abs(p);
    if (!llvm::sys::path::is_absolute(text)) {
      std::string root = resolver_.projectRoot(file);
      if (!root.empty())
        if (auto out = pathOutside(abs, root, resolver_)) {
          auto d =
              diags_.report(s.range, diag::PathEscapesRoot, what, s.text, root);
          if (*out != abs)
            d.note(s.range, "a symbolic link on the way leads to '{}'", *out);
          return abs;
        }
    }
    if (warn_missing && !llvm::sys::fs::exists(abs))
      diags_.report(s.range, diag::MissingLocalPath, what, s.text);
    return abs;
  }

  // --- components
  // -------------------------------------------------------------------
  using InferFn = std::function<std::optional<Type>(const ast::PortDecl&)>;

  void lowerComponent(const ast::Component& a, ir::Component& c,
                      const InferFn* infer) {
    c.source_file = a.file;
    c.range = a.range;
    c.is_inline = a.is_inline;
    c.display_name = a.display_name;
    c.description = a.description;
    c.extra = a.extra;
    if (a.name) {
      std::string why = componentNameReason(a.name->text);
      if (!why.empty())
        diags_.report(a.name->range, diag::InvalidName, "component",
                      a.name->text, why);
      c.name = a.name->text;
    }
    if (a.version) {
      if (a.version->is_null ||
          llvm::StringRef(a.version->text).trim().empty()) {
        diags_.report(a.version->range, diag::EmptyVersion);
      } else {
        c.version = a.version->text;
        if (opts_.pedantic && !isSemver(c.version))
          diags_.report(a.version->range, diag::BadVersion, c.version);
      }
    }
    if (!c.name.empty()) registerComponentName(c, a);

    switch (a.kind) {
      case ast::Component::Kind::Command:
        c.kind = ir::ComponentKind::Command;
        break;
      case ast::Component::Kind::Parallel:
        c.kind = ir::ComponentKind::Parallel;
        break;
      case ast::Component::Kind::Pipeline:
        c.kind = ir::ComponentKind::Pipeline;
        break;
      case ast::Component::Kind::Unsupported:
        diags_.report(a.kind_spelling.range, diag::UnsupportedNodeKind,
                      a.kind_spelling.text);
        c.kind = ir::ComponentKind::Command;
        break;
    }

    lowerJobType(a, c);
    if (a.image && !a.image->is_null) c.image = a.image->text;
    c.cache = boolOf(a.cache, "cache").value_or(true);
    if (notDeterministic(a.extra)) c.cache = false;
    const std::optional<ast::Scalar>& code =
        a.parallel && a.parallel->task_code ? a.parallel->task_code : a.code;
    if (code && !code->is_null) {
      bool uri = false;
      c.code = resolvePath(*code, a.file, "code", uri);
      c.code_is_url = uri;
      // Every code URL but an Azure ML asset is cloned with git.
      if (uri && !llvm::StringRef(c.code).startswith("azureml:"))
        if (std::string why = gitUrlProblem(c.code); !why.empty())
          diags_.report(code->range, diag::BadGitUrl, code->text, why);
    }
    lowerResources(a.settings, c.resources);
    lowerDistribution(a.distribution, a.settings, c.job_type, c.resources,
                      /*explicit_job_type=*/a.job_type.has_value());
    for (const auto& [n, v] : a.environment_variables)
      c.environment_variables.emplace_back(n.text, v.text);

    lowerInterface(a, c, infer);
    ir::checkEnvCollisions(c, diags_);

    if (a.command) c.command = lowerTemplate(*a.command, c, "command");
    if (c.kind == ir::ComponentKind::Parallel) {
      c.parallel.emplace();
      applyParallel(a.parallel.get(), a.settings, c, *c.parallel);
      checkWorkerCount(a.settings, c.resources, *c.parallel, a.range);
      if (c.parallel->entry_script.empty())
        diags_.report(a.range, diag::ParallelMissing,
                      a.name ? a.name->text : std::string("<inline>"),
                      "task.entry_script");
    }
    if (c.kind == ir::ComponentKind::Command && !a.command &&
        a.kind != ast::Component::Kind::Unsupported && !a.is_inline)
      diags_.report(a.range, diag::MissingKey, "a command component",
                    "command");
    if (c.kind == ir::ComponentKind::Pipeline) {
      c.body = std::make_unique<ir::Pipeline>();
      lowerPipeline(a, c, *c.body);
    }
  }

  static bool isSemver(llvm::StringRef v) {
    llvm::SmallVector<llvm::StringRef, 3> parts;
    v.split(parts, '.');
    if (parts.size() != 3) return false;
    for (llvm::StringRef p : parts)
      if (p.empty() || !std::all_of(p.begin(), p.end(), llvm::isDigit))
        return false;
    return true;
  }

  void registerComponentName(const ir::Component& c, const ast::Component& a) {
    std::string key = c.name + "@" + c.version;
    auto [it, inserted] = names_.try_emplace(key, &a);
    if (inserted || it->second == &a) return;
    if (it->second->file == a.file && it->second->range.Start == a.range.Start)
      return;
    diags_.report(a.name->range, diag::DuplicateComponent, c.displayId())
        .note(it->second->name ? it->second->name->range : it->second->range,
              "first defined here");
  }

  void lowerJobType(const ast::Component& a, ir::Component& c) {
    if (!a.job_type) return;
    if (auto t = ir::parseJobType(a.job_type->text)) {
      c.job_type = *t;
      return;
    }
    diags_.report(a.job_type->range, diag::UnknownJobType, a.job_type->text,
                  ir::didYouMean(a.job_type->text, ir::jobTypeSpellings()));
  }

  void lowerResources(const ast::Settings& given, ir::Resources& out) {
    applySettings(given, {ir::SettingSection::Resources}, out);
    if (const ast::Setting* mg = given.find("multi_gpu");
        mg && out.multi_gpu && out.instance_type == "cpu")
      diags_.report(mg->value.range, diag::MultiGpuOnCpu, out.instance_type);
  }

  // The distribution's settings apply with its type: TensorFlow's workers
  // and parameter servers only to TensorFlow (workers default to
  // instance_count).
  void lowerDistribution(const ast::DistributionDecl& d,
                         const ast::Settings& given, ir::JobType& job_type,
                         ir::Resources& res, bool explicit_job_type) {
    if (!d.type) return;
    llvm::StringRef t = d.type->text;
    std::optional<ir::JobType> jt;
    if (t.equals_insensitive("pytorch"))
      jt = ir::JobType::PyTorch;
    else if (t.equals_insensitive("tensorflow"))
      jt = ir::JobType::TensorFlow;
    else if (t.equals_insensitive("mpi"))
      jt = ir::JobType::Command;
    else {
      diags_.report(d.type->range, diag::UnsupportedDistribution, t);
      return;
    }
    if (!explicit_job_type) job_type = *jt;
    res.mpi = t.equals_insensitive("mpi");
    ir::Resources tf = res;
    auto applied = applySettings(given, {ir::SettingSection::Distribution}, tf);
    res.process_count_per_instance = tf.process_count_per_instance;
    if (*jt == ir::JobType::TensorFlow) {
      bool workers = llvm::is_contained(applied, "worker_count");
      bool ps = llvm::is_contained(applied, "parameter_server_count");
      res.tf_worker = workers ? tf.tf_worker : res.instance_count;
      res.tf_ps = ps ? tf.tf_ps : 0;
    }
  }

  // Inputs, outputs and parameters: names, types, defaults, constraints.
  void lowerInterface(const ast::Component& a, ir::Component& c,
                      const InferFn* infer) {
    // Names share one namespace per family; inputs and parameters share one
    // (both are `inputs.X` in Azure commands).
    llvm::StringMap<llvm::SMRange> in_names, out_names;
    auto declare = [&](llvm::StringMap<llvm::SMRange>& names,
                       const ast::PortDecl& d, const char* what) {
      auto [it, inserted] = names.try_emplace(d.name.text, d.name.range);
      if (!inserted) {
        diags_.report(d.name.range, diag::DuplicateName, what, d.name.text)
            .note(it->second, "previous declaration is here");
        return false;
      }
      return true;
    };

    auto lowerDecl = [&](const ast::PortDecl& d) {
      bool is_output = d.section == ast::PortDecl::Section::Output;
      const char* what = is_output ? "output"
                         : d.section == ast::PortDecl::Section::Param
                             ? "parameter"
                             : "input";
      checkName(d.name, what);
      std::optional<Type> type;
      if (d.type) {
        type = ir::parseType(d.type->text);
        if (!type)
          diags_.report(d.type->range, diag::UnknownType, d.type->text,
                        ir::didYouMean(d.type->text, ir::typeSpellings()));
      } else if (infer && d.inferred) {
        type = (*infer)(d);
      }
      if (!type) {
        if (is_output)
          type = Type::Folder;
        else if (d.default_value && !d.default_value->is_null)
          type =
              ir::naturalType(d.default_value->text, d.default_value->quoted);
        else if (d.path)
          type = Type::Folder;
        else if (d.type) {
          dropped_ports_[&c].insert(d.name.text);  // unknown type: reported
          return;
        } else
          type = d.section == ast::PortDecl::Section::Param ? Type::String
                                                            : Type::Folder;
      }
      if (is_output) {
        if (!declare(out_names, d, "output")) return;
        if (!ir::isArtifact(*type)) {
          diags_.report(d.type ? d.type->range : d.name.range,
                        diag::UnsupportedControlOutput, d.name.text,
                        d.type ? d.type->text : ir::typeName(*type).str());
          dropped_ports_[&c].insert(d.name.text);
          return;
        }
        ir::Port p;
        p.name = d.name.text;
        p.type = *type;
        p.optional = d.optional;
        p.description = d.description;
        p.mode = d.mode;
        p.range = d.name.range;
        c.outputs.push_back(std::move(p));
        return;
      }
      if (!declare(in_names, d,
                   d.section == ast::PortDecl::Section::Param ? "parameter"
                                                              : "input"))
        return;
      if (ir::isArtifact(*type)) {
        if (d.section == ast::PortDecl::Section::Param) {
          diags_.report(d.type ? d.type->range : d.name.range,
                        diag::ScalarTypeForArtifact, "parameter", d.name.text,
                        ir::typeName(*type),
                        "parameters are int, float, string or bool; declare it "
                        "under 'inputs'");
          return;
        }
        ir::Port p;
        p.name = d.name.text;
        p.type = *type;
        p.optional = d.optional;
        p.description = d.description;
        p.mode = d.mode;
        p.range = d.name.range;
        if (d.path && !d.path->is_null) {
          bool uri = false;
          p.default_path = resolvePath(*d.path, a.file, "path", uri);
        }
        c.inputs.push_back(std::move(p));
        return;
      }
      c.params.push_back(lowerParam(d, *type));
    };
    for (const ast::PortDecl& d : a.inputs) lowerDecl(d);
    for (const ast::PortDecl& d : a.params) lowerDecl(d);
    for (const ast::PortDecl& d : a.outputs) lowerDecl(d);
    for (const ir::Port& o : c.outputs) {
      auto it = in_names.find(o.name);
      if (it != in_names.end()) {
        bool is_param = c.findParam(o.name) != nullptr;
        diags_
            .report(o.range, diag::NameReusedAcrossKinds, o.name,
                    is_param ? "a parameter" : "an input", "an output")
            .note(it->second, "'{}' is also declared here", o.name);
      }
    }
  }

  ir::Param lowerParam(const ast::PortDecl& d, Type type) {
    ir::Param p;
    p.name = d.name.text;
    p.type = type;
    p.optional = d.optional;
    p.description = d.description;
    p.range = d.name.range;
    auto bound =
        [&](const std::optional<ast::Scalar>& s) -> std::optional<double> {
      if (!s || s->is_null) return std::nullopt;
      Type bt = type == Type::Int ? Type::Int : Type::Float;
      auto v = convert(*s, bt, "parameter", p.name);
      if (!v) return std::nullopt;
      if (type == Type::Bool) {
        diags_.report(s->range, diag::BadConstraint, p.name,
                      "a bool parameter cannot have a range");
        return std::nullopt;
      }
      if (type == Type::String && v->asFloat() < 0) {
        diags_.report(s->range, diag::BadConstraint, p.name,
                      "a string length cannot be negative");
        return std::nullopt;
      }
      return v->asFloat();
    };
    p.min = bound(d.min);
    p.max = bound(d.max);
    if (p.min && p.max && *p.min > *p.max)
      diags_.report(d.max->range, diag::BadConstraint, p.name,
                    fmt::format("the range is empty: min {} is above max {}",
                                fmtNumber(*p.min), fmtNumber(*p.max)));
    for (const ast::Scalar& e : d.enum_values) {
      if (e.is_null) continue;
      if (auto v = convert(e, type, "enum value of parameter", p.name))
        p.enum_values.push_back(*v);
    }
    if (!d.enum_values.empty() && type == Type::Bool)
      diags_.report(d.enum_range, diag::BadConstraint, p.name,
                    "a bool parameter cannot have an enum");
    if (d.default_value && !d.default_value->is_null) {
      if (auto v = convert(*d.default_value, type, "parameter", p.name)) {
        if (checkConstraints(p, *v, d.default_value->range,
                             "default of parameter"))
          p.default_value = *v;
      }
    }
    return p;
  }

  // Resolves `$<<inputs.x>>`-style references against a component.
  ir::Template lowerTemplate(const ast::TemplateString& t,
                             const ir::Component& c, llvm::StringRef where) {
    ir::Template out;
    out.range = t.range;
    std::vector<bool> group_has_optional(t.groups.size(), false);
    for (const ast::TemplatePart& part : t.parts) {
      ir::TemplatePiece piece;
      piece.group = part.group;
      if (part.kind == ast::TemplatePart::Kind::Text) {
        piece.kind = ir::TemplatePiece::Kind::Text;
        piece.text = part.text;
        out.pieces.push_back(std::move(piece));
        continue;
      }
      const ast::Ref& ref = part.ref;
      piece.range = ref.range;
      auto resolved = resolveComponentRef(ref, c, where);
      if (!resolved) continue;
      piece.kind = resolved->first;
      piece.text = resolved->second;
      bool optional = false;
      if (piece.kind == ir::TemplatePiece::Kind::Input)
        optional = c.findInput(piece.text)->optional;
      else if (piece.kind == ir::TemplatePiece::Kind::Param) {
        const ir::Param* p = c.findParam(piece.text);
        optional = p->optional && !p->default_value;
      }
      if (optional) {
        if (part.group < 0)
          diags_.report(ref.range, diag::OptionalOutsideGroup,
                        piece.kind == ir::TemplatePiece::Kind::Input
                            ? "input"
                            : "parameter",
                        piece.text);
        else
          group_has_optional[part.group] = true;
      }
      out.pieces.push_back(std::move(piece));
    }
    for (std::size_t g = 0; g < t.groups.size(); ++g)
      if (!group_has_optional[g])
        diags_.report(t.groups[g], diag::EmptyOptionalGroup);
    return out;
  }

  std::optional<std::pair<ir::TemplatePiece::Kind, std::string>>
  resolveComponentRef(const ast::Ref& ref, const ir::Component& c,
                      llvm::StringRef where) {
    using K = ir::TemplatePiece::Kind;
    const auto& path = ref.path;
    std::string spelled = ref.spelling();
    if (path.size() != 2 ||
        !(path[0].text == "inputs" || path[0].text == "outputs" ||
          path[0].text == "parameters")) {
      diags_.report(ref.range, diag::BadBindingPath, spelled, where,
                    "inputs.NAME, outputs.NAME and parameters.NAME");
      return std::nullopt;
    }
    const ast::Name& n = path[1];
    std::vector<std::string> candidates;
    auto tryName =
        [&](llvm::StringRef name) -> std::optional<std::pair<K, std::string>> {
      if (path[0].text == "outputs") {
        if (c.findOutput(name)) return std::make_pair(K::Output, name.str());
        return std::nullopt;
      }
      if (path[0].text == "inputs" && c.findInput(name))
        return std::make_pair(K::Input, name.str());
      if (c.findParam(name)) return std::make_pair(K::Param, name.str());
      return std::nullopt;
    };
    if (auto r = tryName(n.text)) return r;
    // A port whose declaration was reported and dropped: no second error.
    if (auto it = dropped_ports_.find(&c);
        it != dropped_ports_.end() && it->second.count(n.text))
      return std::nullopt;
    if (path[0].text == "outputs") {
      for (const ir::Port& p : c.outputs) candidates.push_back(p.name);
    } else {
      if (path[0].text == "inputs")
        for (const ir::Port& p : c.inputs) candidates.push_back(p.name);
      for (const ir::Param& p : c.params) candidates.push_back(p.name);
    }
    for (const std::string& cand : candidates) {
      if (llvm::StringRef(cand).equals_insensitive(n.text)) {
        diags_.report(n.range, diag::BindingCaseMismatch, n.text, cand)
            .fixit(n.range, cand);
        return tryName(cand);
      }
    }
    const char* what = path[0].text == "outputs"  ? "output"
                       : path[0].text == "inputs" ? "input"
                                                  : "parameter";
    auto b = diags_.report(n.range, diag::UnknownBinding, what, n.text,
                           ir::didYouMean(n.text, candidates));
    if (auto m = ir::closestMatch(n.text, candidates)) b.fixit(n.range, *m);
    return std::nullopt;
  }

  // --- parallel
  // ------------------------------------------------------------------------
  std::string portRef(const std::optional<ast::TemplateString>& t,
                      const ir::Component& c, bool output,
                      const ir::DiagDef<diag::Text>& bad) {
    if (!t || t->parts.empty()) return "";
    const ast::Ref* ref = t->singleRef();
    if (!ref || ref->path.size() != 2 ||
        ref->path[0].text != (output ? "outputs" : "inputs")) {
      diags_.report(
          t->range, bad,
          fmt::format("write ${{{{{}.NAME}}}}", output ? "outputs" : "inputs"));
      return "";
    }
    auto r =
        resolveComponentRef(*ref, c, output ? "append_row_to" : "input_data");
    if (!r) return "";
    if (r->first == ir::TemplatePiece::Kind::Param) {
      diags_.report(
          ref->range, bad,
          fmt::format("'{}' is a parameter, not a data input", r->second));
      return "";
    }
    return r->second;
  }

  // Azure's `is_deterministic: false`: outputs may differ for the same
  // inputs, so a previous run's are never reused, as with `cache: false`.
  static bool notDeterministic(const llvm::json::Object& extra) {
    const llvm::json::Value* d = extra.get("is_deterministic");
    if (!d) return false;
    if (auto b = d->getAsBoolean()) return !*b;
    auto t = d->getAsString();
    return t && (t->equals_insensitive("false") || t->equals_insensitive("no"));
  }

  // A parallel step runs instance_count x max_concurrency_per_instance
  // worker processes. Beyond kMaxParallelWorkers that is far more than any
  // one machine runs (pipec run starts them all on one) or an Azure ML
  // cluster grants a job; `instance_count: 10000` is a typo more often than
  // a plan. Warned where one of the two is written (`r`, `a`: this job's or
  // component's own settings; a job that sets neither was warned about as
  // its component).
  static constexpr std::int64_t kMaxParallelWorkers = 1024;
  void checkWorkerCount(const ast::Settings& given, const ir::Resources& res,
                        const ir::ParallelSettings& p, llvm::SMRange fallback) {
    std::int64_t ic = std::max<std::int64_t>(1, res.instance_count);
    std::int64_t mc = std::max<std::int64_t>(1, p.max_concurrency_per_instance);
    const ast::Setting* ics = given.find("instance_count");
    const ast::Setting* mcs = given.find("max_concurrency_per_instance");
    if (!ics && !mcs) return;
    if (ic > kMaxParallelWorkers / mc) {  // ic * mc > kMax, without overflow
      // The larger factor is the likelier mistake: point at it.
      llvm::SMRange where = fallback;
      if (ics && (ic >= mc || !mcs))
        where = ics->value.range;
      else if (mcs)
        where = mcs->value.range;
      double workers = double(ic) * double(mc);
      diags_.report(where, diag::ParallelTooManyWorkers,
                    fmt::format("{:.0f}", workers), ic, mc,
                    kMaxParallelWorkers);
    }
  }

  // A parallel step whose input_data is a local MLTable folder now: its
  // MLTable file is checked here, with the diagnostics the engine would
  // report when the step starts (an MLTable made by an upstream step, or
  // on a datastore, is checked then). Each file is read once per check.
  void checkLocalMLTable(const ir::Step& step, const ir::Component& owner) {
    auto it = step.inputs.find(step.parallel->input_data);
    if (it == step.inputs.end()) return;
    const ir::Binding& b = it->second;
    std::string dir;
    if (b.kind == ir::Binding::Kind::Path && !b.is_uri) {
      dir = b.path;
    } else if (b.kind == ir::Binding::Kind::ParentInput) {
      const ir::Port* in = owner.findInput(b.name);
      if (in && in->default_path &&
          !llvm::StringRef(*in->default_path).contains("://"))
        dir = *in->default_path;
    }
    if (dir.empty()) return;
    std::string file = dir + "/MLTable";
    if (!llvm::sys::fs::is_regular_file(file) ||
        !checked_mltables_.insert(file).second)
      return;
    auto buf = llvm::MemoryBuffer::getFile(file, /*IsText=*/false,
                                           /*RequiresNullTerminator=*/false);
    if (!buf) return;  // the run reports what it cannot read
    unsigned id =
        diags_.sourceMgr().AddNewSourceBuffer(std::move(*buf), llvm::SMLoc());
    ir::mltable::parse(diags_.sourceMgr(), id, diags_);
  }
  std::set<std::string> checked_mltables_;

  // `decl`: the component's or job's parallel attributes (null: none).
  void applyParallel(const ast::ParallelDecl* decl, const ast::Settings& given,
                     const ir::Component& c, ir::ParallelSettings& p) {
    static const ast::ParallelDecl kNone;
    const ast::ParallelDecl& a = decl ? *decl : kNone;
    if (a.input_data)
      p.input_data = portRef(a.input_data, c, false, diag::ParallelBadInput);
    if (a.append_row_to)
      p.append_row_to =
          portRef(a.append_row_to, c, true, diag::ParallelBadAppend);
    const ir::Port* in =
        p.input_data.empty() ? nullptr : c.findInput(p.input_data);
    bool table = in && in->type == Type::Table;
    // The resources a parallel setting is applied with are not changed.
    ir::Resources unused;
    auto applied = applySettings(
        given, {ir::SettingSection::Parallel, ir::SettingSection::Retry},
        unused, &p, table, p.input_data);
    // A table split by the default count of 10 files is split by 1 MiB.
    if (!llvm::is_contained(applied, "mini_batch_size") && table &&
        p.batch_by == ir::ParallelSettings::BatchBy::Count &&
        p.mini_batch_size == 10) {
      p.batch_by = ir::ParallelSettings::BatchBy::Size;
      p.mini_batch_size = 1024 * 1024;
    }
    if (!a.partition_keys.empty()) {
      p.partition_keys.clear();
      for (const ast::Scalar& k : a.partition_keys) {
        // "Store,Brand" in one string is two keys.
        llvm::SmallVector<llvm::StringRef, 4> parts;
        llvm::StringRef(k.text).split(parts, ',', -1, false);
        for (llvm::StringRef part : parts)
          p.partition_keys.push_back(part.trim().str());
      }
      p.batch_by = ir::ParallelSettings::BatchBy::PartitionKeys;
    }
    if (a.entry_script && !a.entry_script->is_null)
      p.entry_script = a.entry_script->text;
    if (a.program_arguments) {
      p.program_arguments =
          lowerTemplate(*a.program_arguments, c, "program_arguments");
      readProgramArguments(*a.program_arguments, p);
    }
  }

  // The PRS settings Azure passes as program arguments, read by the one
  // reader (ir/program_arguments.h) the lowering uses for bound values. A
  // word holding a binding is known only then (ir::argumentWords).
  void readProgramArguments(const ast::TemplateString& t,
                            ir::ParallelSettings& p) {
    std::vector<std::string> words = ir::argumentWords(p.program_arguments);
    for (const ir::ArgumentSetting& a : ir::findArgumentSettings(words)) {
      if (llvm::StringRef(a.value).contains('\x01')) continue;
      std::string need = ir::applyArgumentSetting(a, p);
      if (!need.empty())
        diags_.report(t.range, diag::ParallelBadArgument, "--" + a.flag,
                      need + (a.has_value ? ", not '" + a.value + "'" : ""));
    }
  }

  // --- pipelines
  // ------------------------------------------------------------------------
  struct JobInfo {
    const ast::Job* job = nullptr;
    ir::Component* component = nullptr;  // null when the job is dropped
    std::shared_ptr<const ast::Component> ast_component;
    bool is_inline = false;
  };

  void lowerPipeline(const ast::Component& a, ir::Component& owner,
                     ir::Pipeline& pl) {
    std::string saved_file = current_file_;
    current_file_ = a.file;
    lowerPipelineBody(a, owner, pl);
    current_file_ = saved_file;
  }

  void lowerPipelineBody(const ast::Component& a, ir::Component& owner,
                         ir::Pipeline& pl) {
    // Pass 1: names and components. Steps keep declaration order.
    std::vector<JobInfo> jobs;
    llvm::StringMap<std::size_t> index;
    jobs.reserve(a.jobs.size());
    for (const ast::Job& j : a.jobs) {
      checkName(j.name, "job");
      auto [it, inserted] = index.try_emplace(j.name.text, jobs.size());
      if (!inserted) {
        diags_.report(j.name.range, diag::DuplicateName, "job", j.name.text)
            .note(a.jobs[0].range.Start.isValid()
                      ? jobs[it->second].job->name.range
                      : llvm::SMRange(),
                  "previous definition is here");
        continue;
      }
      JobInfo info;
      info.job = &j;
      resolveJobComponent(j, a, info);
      jobs.push_back(std::move(info));
    }
    // Step indices: only jobs with a component become steps.
    std::vector<int> step_of(jobs.size(), -1);
    pl.steps.reserve(pl.steps.size() + jobs.size());
    for (std::size_t i = 0; i < jobs.size(); ++i) {
      if (!jobs[i].component) continue;
      step_of[i] = int(pl.steps.size());
      ir::Step& s = pl.steps.emplace_back();
      s.name = jobs[i].job->name.text;
      s.range = jobs[i].job->name.range;
    }
    llvm::StringMap<std::size_t> step_index;
    for (std::size_t i = 0; i < pl.steps.size(); ++i)
      step_index[pl.steps[i].name] = i;

    // Pass 2: bindings.
    std::map<std::string, std::pair<std::string, llvm::SMRange>>
        parent_outputs_written;
    std::vector<std::vector<std::pair<std::size_t, llvm::SMRange>>> edges(
        pl.steps.size());
    for (std::size_t i = 0; i < jobs.size(); ++i) {
      if (step_of[i] < 0) continue;
      ir::Step& step = pl.steps[std::size_t(step_of[i])];
      JobInfo& info = jobs[i];
      const ast::Job& j = *info.job;
      StepContext ctx{a, owner, pl, step_index, index, jobs, step_of};
      setting_scope_ = &owner;
      setting_bindings_ = &step.setting_bindings;
      // Resolve every input value to a source first: inline components get
      // their port types from there.
      std::vector<Source> in_sources, out_sources;
      in_sources.reserve(j.inputs.size());
      out_sources.reserve(j.outputs.size());
      for (const auto& [n, v] : j.inputs)
        in_sources.push_back(resolveSource(v, ctx, step.name, false));
      for (const auto& [n, v] : j.outputs)
        out_sources.push_back(resolveSource(v, ctx, step.name, true));
      if (info.is_inline) {
        InferFn infer = [&](const ast::PortDecl& d) -> std::optional<Type> {
          bool out = d.section == ast::PortDecl::Section::Output;
          const auto& vals = out ? j.outputs : j.inputs;
          const auto& srcs = out ? out_sources : in_sources;
          for (std::size_t k = 0; k < vals.size(); ++k) {
            if (vals[k].first.text != d.name.text) continue;
            if (srcs[k].type) return srcs[k].type;
            if (srcs[k].kind == Source::Kind::Literal)
              return ir::naturalType(srcs[k].literal.text,
                                     srcs[k].literal.quoted);
          }
          return std::nullopt;
        };
        in_progress_.insert(info.ast_component.get());
        lowerComponent(*info.ast_component, *info.component, &infer);
        // An inline job's Azure keys stay with the job.
        if (notDeterministic(j.extra)) info.component->cache = false;
        measure(*info.component);
      } else if (notDeterministic(j.extra) && info.component &&
                 info.component->cache) {
        diags_
            .report(j.range, diag::StepDeterminismIgnored, step.name,
                    info.component->displayId())
            .note(info.ast_component ? info.ast_component->range
                                     : llvm::SMRange(),
                  "set 'is_deterministic: false' (or 'cache: false') in the "
                  "component for the step cache to run it every time");
        in_progress_.erase(info.ast_component.get());
      }
      step.component = info.component;
      if (j.component.kind == ast::ComponentRef::Kind::Registry)
        step.component_ref = j.component.spelling.text;
      const ir::Component& c = *info.component;
      step.resources = c.resources;
      step.environment_variables = c.environment_variables;
      step.extra = j.extra;
      step.job_type = c.job_type;
      if (!info.is_inline) {
        lowerResources(j.settings, step.resources);
        lowerDistribution(j.distribution, j.settings, step.job_type,
                          step.resources, false);
      }
      for (const auto& [n, v] : j.environment_variables) {
        bool replaced = false;
        for (auto& e : step.environment_variables)
          if (e.first == n.text) {
            e.second = v.text;
            replaced = true;
          }
        if (!replaced) step.environment_variables.emplace_back(n.text, v.text);
      }
      checkJobKind(j, c);
      // Inputs.
      for (std::size_t k = 0; k < j.inputs.size(); ++k)
        bindInput(step, c, j.inputs[k].first, j.inputs[k].second, in_sources[k],
                  edges[std::size_t(step_of[i])]);
      auto given = [&](const std::string& name) {
        for (const auto& [n, v] : j.inputs)
          if (llvm::StringRef(n.text).equals_insensitive(name)) return true;
        return false;
      };
      for (const ir::Port& p : c.inputs)
        if (!p.optional && !step.inputs.count(p.name) && !given(p.name))
          diags_
              .report(step.range, diag::UnboundRequiredInput, p.name, step.name)
              .note(p.range, "input '{}' declared here", p.name);
      for (const ir::Param& p : c.params)
        if (!p.optional && !p.default_value && !step.inputs.count(p.name) &&
            !given(p.name))
          diags_
              .report(step.range, diag::UnboundRequiredInput, p.name, step.name)
              .note(p.range, "parameter '{}' declared here", p.name);
      // Outputs.
      for (std::size_t k = 0; k < j.outputs.size(); ++k)
        bindOutput(step, c, owner, j.outputs[k].first, j.outputs[k].second,
                   out_sources[k], parent_outputs_written);
      // Parallel settings: the component's, overridden by the job's.
      if (c.parallel) {
        step.parallel = *c.parallel;
        if (!info.is_inline && j.parallel)
          applyParallel(j.parallel.get(), j.settings, c, *step.parallel);
        // An inline job was checked as its component.
        if (!info.is_inline)
          checkWorkerCount(j.settings, step.resources, *step.parallel,
                           j.name.range);
        checkLocalMLTable(step, owner);
      } else if (j.parallel && !info.is_inline) {
        diags_.report(j.name.range, diag::ComponentKindMismatch, j.name.text,
                      "parallel", componentKindName(c.kind));
      }
    }
    setting_scope_ = nullptr;
    setting_bindings_ = nullptr;
    // Dependencies, sorted and unique.
    for (std::size_t s = 0; s < pl.steps.size(); ++s) {
      std::set<std::size_t> deps;
      for (const auto& e : edges[s]) deps.insert(e.first);
      pl.steps[s].deps.assign(deps.begin(), deps.end());
    }
    orderSteps(pl, edges);
  }

  struct StepContext {
    const ast::Component& a;
    const ir::Component& owner;
    const ir::Pipeline& pl;
    const llvm::StringMap<std::size_t>& step_index;
    const llvm::StringMap<std::size_t>& job_index;
    const std::vector<JobInfo>& jobs;
    const std::vector<int>& step_of;
  };

  void checkJobKind(const ast::Job& j, const ir::Component& c) {
    if (j.type.empty()) return;
    llvm::StringRef t = j.type.text;
    bool ok = (t == "command" && c.kind == ir::ComponentKind::Command) ||
              (t == "parallel" && c.kind == ir::ComponentKind::Parallel) ||
              (t == "pipeline" && c.kind == ir::ComponentKind::Pipeline);
    if (!ok)
      diags_.report(j.type.range, diag::ComponentKindMismatch, j.name.text, t,
                    componentKindName(c.kind));
  }

  void resolveJobComponent(const ast::Job& j, const ast::Component& owner,
                           JobInfo& info) {
    if (!j.type.empty() && llvm::StringSwitch<bool>(j.type.text)
                               .Cases("command", "parallel", "pipeline", false)
                               .Default(true)) {
      diags_.report(j.type.range, diag::UnsupportedNodeKind, j.type.text);
      return;
    }
    const ast::ComponentRef& ref = j.component;
    if (ref.kind == ast::ComponentRef::Kind::None) {
      diags_.report(j.name.range, diag::NoComponent, j.name.text);
      return;
    }
    // The component would sit one level below the ones being lowered: stop
    // before reading it, so that no walk of the IR recurses deeper.
    if (in_progress_.size() >= ir::kMaxComponentNesting) {
      diags_.report(ref.range, diag::ComponentNestingTooDeep, j.name.text,
                    ir::kMaxComponentNesting);
      return;
    }
    if (ref.kind == ast::ComponentRef::Kind::Inline && ref.inline_component) {
      const ast::Component& ic = *ref.inline_component;
      if (ic.kind == ast::Component::Kind::Unsupported) {
        diags_.report(ic.kind_spelling.range, diag::UnsupportedNodeKind,
                      ic.kind_spelling.text);
        return;
      }
      info.is_inline = true;
      info.ast_component = ref.inline_component;
      keep_alive_.push_back(ref.inline_component);
      info.component = module_.add(std::make_unique<ir::Component>());
      lowered_[ref.inline_component.get()] = info.component;
      return;
    }
    auto target = resolver_.resolve(ref, owner);
    if (!target) return;
    if (target->kind == ast::Component::Kind::Unsupported) {
      diags_
          .report(ref.spelling.range.Start.isValid() ? ref.spelling.range
                                                     : ref.range,
                  diag::UnsupportedNodeKind, target->kind_spelling.text)
          .note(target->kind_spelling.range, "the component is declared here");
      return;
    }
    if (in_progress_.count(target.get())) {
      diags_.report(ref.range, diag::ComponentCycle,
                    target->name ? target->name->text : target->file,
                    fmt::format("job '{}'", j.name.text));
      return;
    }
    const ir::Component* c = lower(target);
    // Lowered before, higher up: its own nesting may not fit down here.
    if (in_progress_.size() + extent(c).height > ir::kMaxComponentNesting) {
      diags_.report(ref.range, diag::ComponentNestingTooDeep, j.name.text,
                    ir::kMaxComponentNesting);
      return;
    }
    info.ast_component = target;
    info.component = const_cast<ir::Component*>(c);
  }

  // --- nesting
  // ----------------------------------------------------------------------
  // What a lowered component adds below the step that uses it: how many
  // component levels (itself included), and its longest leaf-step name
  // (outer.inner) with the step that starts it.
  struct Extent {
    unsigned height = 1;
    std::size_t name_bytes = 0;
    const ir::Step* first = nullptr;
  };

  Extent extent(const ir::Component* c) const {
    auto it = extents_.find(c);
    return it == extents_.end() ? Extent() : it->second;
  }

  // Its steps' components are lowered (or reported) already.
  void measure(const ir::Component& c) {
    Extent e;
    if (c.body)
      for (const ir::Step& s : c.body->steps) {
        if (!s.component) continue;
        Extent inner = extent(s.component);
        e.height = std::max(e.height, inner.height + 1);
        std::size_t bytes =
            s.name.size() + (inner.first ? inner.name_bytes + 1 : 0);
        if (bytes > e.name_bytes) {
          e.name_bytes = bytes;
          e.first = &s;
        }
      }
    extents_[&c] = e;
  }

  // `pipec run` names a folder after each leaf step's full name.
  void checkStepNames(const ir::Component& root) {
    if (!checked_roots_.insert(&root).second) return;
    Extent e = extent(&root);
    if (e.name_bytes <= kMaxStepNameBytes) return;
    const ir::Step* outer = e.first;
    const ir::Step* inner = outer;
    std::string name = outer->name;
    for (Extent x = extent(outer->component); x.first;
         x = extent(x.first->component)) {
      inner = x.first;
      name += "." + inner->name;
    }
    auto d = diags_.report(inner->range, diag::StepNameTooLong, name,
                           name.size(), kMaxStepNameBytes);
    if (inner != outer)
      d.note(outer->range, "the outermost step of that name is '{}'",
             outer->name);
  }

  // What a job input/output value refers to.
  Source resolveSource(const ast::JobValue& v, const StepContext& ctx,
                       llvm::StringRef self, bool output) {
    Source s;
    s.range = v.range;
    switch (v.kind) {
      case ast::JobValue::Kind::Empty:
        return s;
      case ast::JobValue::Kind::Scalar:
        s.kind = Source::Kind::Literal;
        s.literal = v.scalar;
        return s;
      case ast::JobValue::Kind::Data:
        if (v.type) s.type = ir::parseType(v.type->text);
        if (v.type && !s.type)
          diags_.report(v.type->range, diag::UnknownType, v.type->text,
                        ir::didYouMean(v.type->text, ir::typeSpellings()));
        if (v.path && !v.path->is_null) {
          s.kind = Source::Kind::Path;
          s.path = resolvePath(*v.path, ctx.a.file, "path", s.is_uri, !output);
          s.range = v.path->range;
          return s;
        }
        if (!v.tmpl.parts.empty()) {
          auto declared = s.type;
          Source r = resolveRefSource(v.tmpl, ctx, self, output);
          if (declared && r.type && *declared != *r.type &&
              !ir::isAssignable(*r.type, *declared))
            diags_.report(v.type->range, diag::DeclaredTypeDiffers,
                          r.describe(), ir::typeName(*r.type),
                          ir::typeName(*declared), ir::typeName(*r.type));
          if (declared && !r.type) r.type = declared;
          return r;
        }
        s.kind = Source::Kind::None;
        return s;
      case ast::JobValue::Kind::Template:
        return resolveRefSource(v.tmpl, ctx, self, output);
    }
    return s;
  }

  Source resolveRefSource(const ast::TemplateString& t, const StepContext& ctx,
                          llvm::StringRef self, bool output) {
    Source s;
    s.range = t.range;
    const ast::Ref* ref = t.singleRef();
    if (!ref) {
      const ast::Ref* any = nullptr;
      for (const auto& p : t.parts)
        if (p.kind == ast::TemplatePart::Kind::Ref) any = &p.ref;
      diags_.report(
          any ? any->range : t.range, diag::BindingInText,
          output ? "a pipeline output" : "a pipeline input or a step output");
      s.kind = Source::Kind::None;
      return s;
    }
    s.range = ref->range;
    const auto& path = ref->path;
    auto bad = [&] {
      diags_.report(
          ref->range, diag::BadBindingPath, ref->spelling(),
          output ? "job outputs" : "job inputs",
          output ? "parent.outputs.NAME"
                 : "parent.inputs.NAME and parent.jobs.STEP.outputs.NAME");
      return Source{};
    };
    if (path.size() < 3 || path[0].text != "parent") return bad();
    if (path[1].text == "inputs" && path.size() == 3) {
      if (output) {
        diags_.report(ref->range, diag::OutputToInput, "pipeline input",
                      path[2].text, "a job output");
        return Source{};
      }
      std::string name = matchParentInput(path[2], ctx.owner);
      if (name.empty()) return Source{};
      s.kind = Source::Kind::ParentInput;
      s.name = name;
      if (const ir::Port* p = ctx.owner.findInput(name)) {
        s.type = p->type;
        s.decl = p->range;
      } else if (const ir::Param* p = ctx.owner.findParam(name)) {
        s.type = p->type;
        s.decl = p->range;
      }
      return s;
    }
    if (path[1].text == "outputs" && path.size() == 3) {
      if (!output) {
        diags_.report(ref->range, diag::OutputToInput, "pipeline output",
                      path[2].text, "a job input");
        return Source{};
      }
      std::string name = path[2].text;
      if (!ctx.owner.findOutput(name)) {  // a near miss
        std::vector<std::string> names;
        for (const ir::Port& p : ctx.owner.outputs) names.push_back(p.name);
        name = matchName(path[2], names, "pipeline output");
      }
      if (name.empty()) return Source{};
      s.kind = Source::Kind::ParentOutput;
      s.name = name;
      const ir::Port* p = ctx.owner.findOutput(name);
      s.type = p->type;
      s.decl = p->range;
      return s;
    }
    if (path[1].text == "jobs" && path.size() == 5 &&
        path[3].text == "outputs") {
      if (output) return bad();
      std::string step;
      if (ctx.job_index.count(path[2].text)) {
        step = path[2].text;
      } else {
        // Only a miss pays for the sorted list of candidates.
        std::vector<std::string> steps;
        for (const auto& e : ctx.job_index) steps.push_back(e.first().str());
        std::sort(steps.begin(), steps.end());
        step = matchName(path[2], steps, "step");
      }
      if (step.empty()) return Source{};
      if (step == self) {
        diags_.report(ref->range, diag::SelfDependency, step, path[4].text);
        return Source{};
      }
      std::size_t j = ctx.job_index.lookup(step);
      const JobInfo& producer = ctx.jobs[j];
      if (!producer.component || ctx.step_of[j] < 0)
        return Source{};  // reported
      const ir::Component& pc = *producer.component;
      std::string out = path[4].text;
      if (!pc.findOutput(out)) {
        std::vector<std::string> outs;
        for (const ir::Port& p : pc.outputs) outs.push_back(p.name);
        // Inline producers declare outputs from their job.
        if (producer.is_inline && pc.outputs.empty())
          for (const auto& [n, v] : producer.job->outputs)
            outs.push_back(n.text);
        // A command job's default outputs (Azure): `artifacts`, what it
        // writes to ./outputs, and `default`, its ./outputs and ./logs.
        for (llvm::StringRef d : ir::kDefaultOutputs)
          if (pc.kind == ir::ComponentKind::Command &&
              !llvm::is_contained(outs, d))
            outs.push_back(d.str());
        out = matchName(path[4], outs, "output",
                        fmt::format(" of step '{}'", step));
      }
      if (out.empty()) return Source{};
      s.kind = Source::Kind::StepOutput;
      s.step = step;
      s.step_index = std::size_t(ctx.step_of[j]);
      s.name = out;
      if (const ir::Port* p = pc.findOutput(out)) {
        s.type = p->type;
        s.decl = p->range;
      } else if (llvm::is_contained(ir::kDefaultOutputs, out)) {
        s.type = Type::Folder;
      } else if (producer.is_inline) {
        for (const auto& [n, v] : producer.job->outputs)
          if (n.text == out) {
            s.type = v.type ? ir::parseType(v.type->text)
                            : std::optional<Type>(Type::Folder);
            s.decl = n.range;
          }
      }
      return s;
    }
    return bad();
  }

  // A pipeline input or parameter of `owner`, as matchName() finds it.
  std::string matchParentInput(const ast::Name& n, const ir::Component& owner) {
    if (owner.findInput(n.text) || owner.findParam(n.text)) return n.text;
    return matchName(n, parentInputNames(owner), "pipeline input");
  }

  static std::vector<std::string> parentInputNames(const ir::Component& owner) {
    std::vector<std::string> names;
    for (const ir::Port& p : owner.inputs) names.push_back(p.name);
    for (const ir::Param& p : owner.params) names.push_back(p.name);
    return names;
  }

  // Finds `n` among `names`: exact, else case-insensitively with a warning,
  // else an error with a suggestion. Empty when not found.
  std::string matchName(const ast::Name& n,
                        const std::vector<std::string>& names,
                        llvm::StringRef what, llvm::StringRef owner = "") {
    for (const std::string& c : names)
      if (c == n.text) return c;
    for (const std::string& c : names)
      if (llvm::StringRef(c).equals_insensitive(n.text)) {
        diags_.report(n.range, diag::BindingCaseMismatch, n.text, c)
            .fixit(n.range, c);
        return c;
      }
    auto b = diags_.report(n.range, diag::UnknownBinding, what, n.text,
                           owner.str() + ir::didYouMean(n.text, names));
    if (auto m = ir::closestMatch(n.text, names)) b.fixit(n.range, *m);
    return "";
  }

  // A job input/output key: exact, else case-insensitive with a warning, else
  // a warning that the value is ignored (required ones are checked apart).
  std::string matchKey(const ast::Name& n,
                       const std::vector<std::string>& names,
                       llvm::StringRef step, llvm::StringRef what) {
    for (const std::string& c : names)
      if (c == n.text) return c;
    for (const std::string& c : names)
      if (llvm::StringRef(c).equals_insensitive(n.text)) {
        diags_.report(n.range, diag::BindingCaseMismatch, n.text, c)
            .fixit(n.range, c);
        return c;
      }
    auto b = diags_.report(n.range, diag::UnknownStepInput, step, what, n.text,
                           ir::didYouMean(n.text, names));
    if (auto m = ir::closestMatch(n.text, names)) b.fixit(n.range, *m);
    return "";
  }

  void bindInput(ir::Step& step, const ir::Component& c, const ast::Name& n,
                 const ast::JobValue& v, const Source& src,
                 std::vector<std::pair<std::size_t, llvm::SMRange>>& edges) {
    const ir::Port* port = c.findInput(n.text);
    const ir::Param* param = port ? nullptr : c.findParam(n.text);
    std::string name = n.text;
    if (!port && !param) {  // a near miss: case, or a did-you-mean
      std::vector<std::string> names;
      for (const ir::Port& p : c.inputs) names.push_back(p.name);
      for (const ir::Param& p : c.params) names.push_back(p.name);
      name = matchKey(n, names, step.name, "input");
      if (name.empty()) return;
      port = c.findInput(name);
      param = port ? nullptr : c.findParam(name);
    }
    if (src.kind == Source::Kind::None) return;  // empty or already reported
    Type target = port ? port->type : param->type;
    const char* target_kind = port ? "input" : "parameter";
    ir::Binding b;
    b.range = src.range;
    b.mode = v.mode;
    if (v.kind == ast::JobValue::Kind::Data && v.type) b.type = src.type;
    switch (src.kind) {
      case Source::Kind::Literal: {
        if (param) {
          auto val =
              convert(src.literal, param->type, "parameter", param->name);
          if (!val) return;
          if (!checkConstraints(*param, *val, src.literal.range, "parameter"))
            return;
          b.kind = ir::Binding::Kind::Literal;
          b.literal = *val;
        } else {
          // A literal for a data input is a path or a URI.
          bool uri = false;
          b.kind = ir::Binding::Kind::Path;
          b.path = resolvePath(src.literal, current_file_, "path", uri);
          b.is_uri = uri;
        }
        break;
      }
      case Source::Kind::Path:
        if (param) {
          diags_.report(src.range, diag::BindingTypeMismatch, "data",
                        src.type ? ir::typeName(*src.type) : "folder",
                        target_kind, name, ir::typeName(target));
          return;
        }
        b.kind = ir::Binding::Kind::Path;
        b.path = src.path;
        b.is_uri = src.is_uri;
        break;
      case Source::Kind::ParentInput:
        b.kind = ir::Binding::Kind::ParentInput;
        b.name = src.name;
        break;
      case Source::Kind::StepOutput:
        b.kind = ir::Binding::Kind::StepOutput;
        b.step = src.step;
        b.name = src.name;
        edges.emplace_back(src.step_index, src.range);
        break;
      default:
        return;
    }
    // Data given by path, or a wire whose binding site states its type
    // (`{type: uri_file, path: ${{...}}}`), may deliver a file to a folder
    // input: the file arrives inside the channel folder, as Azure mounts it.
    // A bare wire from a file output to a folder input is an error.
    bool explicit_type =
        v.kind == ast::JobValue::Kind::Data && v.type.has_value();
    bool file_in_folder = (src.kind == Source::Kind::Path || explicit_type) &&
                          src.type == Type::File && target == Type::Folder;
    if (src.type && src.kind != Source::Kind::Literal && !file_in_folder &&
        !ir::isAssignable(*src.type, target)) {
      auto d = diags_.report(src.range, diag::BindingTypeMismatch,
                             src.describe(), ir::typeName(*src.type),
                             target_kind, name, ir::typeName(target));
      if (src.decl.Start.isValid())
        d.note(src.decl, "{} declared here", src.describe());
      d.note(port ? port->range : param->range, "{} '{}' declared here",
             target_kind, name);
      return;
    }
    step.inputs[name] = std::move(b);
  }

  void bindOutput(
      ir::Step& step, const ir::Component& c, const ir::Component& owner,
      const ast::Name& n, const ast::JobValue& v, const Source& src,
      std::map<std::string, std::pair<std::string, llvm::SMRange>>& written) {
    const ir::Port* port = c.findOutput(n.text);
    std::string name = n.text;
    if (!port) {  // a near miss: case, or a did-you-mean
      std::vector<std::string> names;
      for (const ir::Port& p : c.outputs) names.push_back(p.name);
      name = matchKey(n, names, step.name, "output");
      if (name.empty()) return;
      port = c.findOutput(name);
    }
    ir::OutputBinding b;
    b.range = v.range;
    b.mode = v.mode;
    if (v.type) b.type = ir::parseType(v.type->text);
    switch (src.kind) {
      case Source::Kind::ParentOutput: {
        b.kind = ir::OutputBinding::Kind::ParentOutput;
        b.name = src.name;
        auto [it, inserted] =
            written.try_emplace(src.name, step.name, src.range);
        if (!inserted)
          diags_.report(src.range, diag::ParentOutputTwice, src.name)
              .note(it->second.second, "also written by step '{}'",
                    it->second.first);
        const ir::Port* po = owner.findOutput(src.name);
        if (po && !ir::isAssignable(port->type, po->type))
          diags_
              .report(src.range, diag::BindingTypeMismatch,
                      fmt::format("output '{}' of step '{}'", name, step.name),
                      ir::typeName(port->type), "pipeline output", src.name,
                      ir::typeName(po->type))
              .note(po->range, "pipeline output '{}' declared here", src.name);
        break;
      }
      case Source::Kind::Path:
        b.kind = ir::OutputBinding::Kind::Path;
        b.path = src.path;
        b.is_uri = src.is_uri;
        break;
      case Source::Kind::Literal: {
        bool uri = false;
        b.kind = ir::OutputBinding::Kind::Path;
        b.path = resolvePath(src.literal, current_file_, "path", uri, false);
        b.is_uri = uri;
        break;
      }
      default:
        b.kind = ir::OutputBinding::Kind::Default;
        break;
    }
    if (b.type && *b.type != port->type &&
        !ir::isAssignable(port->type, *b.type))
      diags_.report(v.type->range, diag::DeclaredTypeDiffers,
                    fmt::format("output '{}' of step '{}'", name, step.name),
                    ir::typeName(port->type), ir::typeName(*b.type),
                    ir::typeName(port->type));
    step.outputs[name] = std::move(b);
  }

  // Orders steps topologically (declaration order among ready steps) and
  // reports every cycle with its path.
  void orderSteps(
      ir::Pipeline& pl,
      const std::vector<std::vector<std::pair<std::size_t, llvm::SMRange>>>&
          edges) {
    using Graph =
        boost::adjacency_list<boost::vecS, boost::vecS, boost::directedS>;
    std::size_t n = pl.steps.size();
    Graph g(n);
    for (std::size_t s = 0; s < n; ++s)
      for (std::size_t d : pl.steps[s].deps) boost::add_edge(d, s, g);

    struct CycleFinder : boost::default_dfs_visitor {
      std::vector<std::size_t>* parent;
      std::vector<std::pair<std::size_t, std::size_t>>* back;
      void tree_edge(Graph::edge_descriptor e, const Graph& gr) {
        (*parent)[boost::target(e, gr)] = boost::source(e, gr);
      }
      void back_edge(Graph::edge_descriptor e, const Graph& gr) {
        back->emplace_back(boost::source(e, gr), boost::target(e, gr));
      }
    };
    std::vector<std::size_t> parent(n, std::size_t(-1));
    std::vector<std::pair<std::size_t, std::size_t>> back;
    CycleFinder vis;
    vis.parent = &parent;
    vis.back = &back;
    std::vector<boost::default_color_type> colors(n);
    boost::depth_first_search(
        g, boost::visitor(vis).color_map(boost::make_iterator_property_map(
               colors.begin(), boost::get(boost::vertex_index, g))));
    for (const auto& [from, to] : back) {
      // from -> to closes a cycle: to ... from via tree edges.
      std::vector<std::size_t> cycle{from};
      for (std::size_t v = from; v != to && parent[v] != std::size_t(-1);
           v = parent[v])
        cycle.push_back(parent[v]);
      std::reverse(cycle.begin(), cycle.end());
      std::string text;
      for (std::size_t v : cycle) text += pl.steps[v].name + " -> ";
      text += pl.steps[to].name;
      // Report at the binding that reads from `from` inside `to`.
      llvm::SMRange at = pl.steps[to].range;
      for (const auto& e : edges[to])
        if (e.first == from) at = e.second;
      auto d = diags_.report(at, diag::DependencyCycle, text);
      for (std::size_t k = 0; k + 1 < cycle.size(); ++k) {
        std::size_t a = cycle[k], b = cycle[k + 1];
        for (const auto& e : edges[b])
          if (e.first == a) {
            d.note(e.second, "step '{}' reads an output of '{}' here",
                   pl.steps[b].name, pl.steps[a].name);
            break;
          }
      }
    }
    // Kahn's algorithm, smallest declaration index first.
    std::vector<std::size_t> indeg(n, 0);
    std::vector<std::vector<std::size_t>> users(n);
    for (std::size_t s = 0; s < n; ++s)
      for (std::size_t d : pl.steps[s].deps) {
        ++indeg[s];
        users[d].push_back(s);
      }
    std::priority_queue<std::size_t, std::vector<std::size_t>, std::greater<>>
        ready;
    for (std::size_t s = 0; s < n; ++s)
      if (!indeg[s]) ready.push(s);
    while (!ready.empty()) {
      std::size_t s = ready.top();
      ready.pop();
      pl.topo_order.push_back(s);
      for (std::size_t u : users[s])
        if (--indeg[u] == 0) ready.push(u);
    }
    if (pl.topo_order.size() != n) {
      // Cycles: keep the IR verifiable by dropping the edges that close them.
      std::vector<bool> placed(n, false);
      for (std::size_t s : pl.topo_order) placed[s] = true;
      for (std::size_t s = 0; s < n; ++s)
        if (!placed[s]) {
          auto& deps = pl.steps[s].deps;
          deps.erase(std::remove_if(deps.begin(), deps.end(),
                                    [&](std::size_t d) { return !placed[d]; }),
                     deps.end());
          pl.topo_order.push_back(s);
          placed[s] = true;
        }
    }
  }

  ir::DiagnosticEngine& diags_;
  ComponentResolver& resolver_;
  ir::Module& module_;
  SemaOptions opts_;
  llvm::DenseMap<const ast::Component*, ir::Component*> lowered_;
  std::set<const ast::Component*> in_progress_;
  std::map<const ir::Component*, Extent> extents_;
  std::set<const ir::Component*> checked_roots_;
  std::vector<std::shared_ptr<const ast::Component>> keep_alive_;
  llvm::StringMap<const ast::Component*> names_;
  /// Ports whose declarations were reported and left out, by component.
  std::map<const ir::Component*, std::set<std::string>> dropped_ports_;
  std::string current_file_;  ///< the pipeline file being lowered
  /// While lowering a job: the pipeline whose inputs its settings may bind,
  /// and where the step records such bindings.
  const ir::Component* setting_scope_ = nullptr;
  std::map<std::string, std::string>* setting_bindings_ = nullptr;
};

Sema::Sema(ir::DiagnosticEngine& diags, ComponentResolver& resolver,
           ir::Module& module, SemaOptions options)
    : impl_(std::make_unique<Impl>(diags, resolver, module, options)) {}
Sema::~Sema() = default;

const ir::Component* Sema::lower(
    const std::shared_ptr<const ast::Component>& c) {
  return impl_->lower(c);
}

}  // namespace pipec::frontend
