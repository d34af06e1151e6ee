// The Session: file loading with caching, component resolution, sema.
#include "frontend/session.h"

#include "frontend/dsl/dsl_loader.h"
#include "frontend/sema.h"
#include "frontend/suggest.h"
#include "frontend/yaml_loader.h"
#include "ir/verifier.h"
#include "llvm/ADT/SmallString.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"
#include "stdlib/stdlib.h"

namespace pipec::frontend {

namespace diag = ir::diag;

namespace {

bool isUnder(llvm::StringRef path, llvm::StringRef dir) {
  if (dir.empty()) return false;
  return path == dir || (path.startswith(dir) && path.size() > dir.size() &&
                         path[dir.size()] == '/');
}

// Compares versions numerically part by part ("0.0.10" > "0.0.9").
bool versionLess(llvm::StringRef a, llvm::StringRef b) {
  llvm::SmallVector<llvm::StringRef, 4> pa, pb;
  a.split(pa, '.');
  b.split(pb, '.');
  for (std::size_t i = 0; i < std::max(pa.size(), pb.size()); ++i) {
    llvm::StringRef x = i < pa.size() ? pa[i] : "0";
    llvm::StringRef y = i < pb.size() ? pb[i] : "0";
    unsigned long long nx, ny;
    bool numx = !x.getAsInteger(10, nx), numy = !y.getAsInteger(10, ny);
    if (numx && numy) {
      if (nx != ny) return nx < ny;
    } else if (x != y) {
      return x < y;
    }
  }
  return false;
}

struct RegistryRef {
  std::string name;
  std::string version;  // empty: the highest
};

// azureml:NAME:VERSION, azureml:NAME@LABEL, azureml:NAME,
// azureml://registries/R/components/NAME[/versions/V|/labels/L]
std::optional<RegistryRef> parseRegistryRef(llvm::StringRef s) {
  RegistryRef r;
  if (s.startswith("azureml://")) {
    llvm::SmallVector<llvm::StringRef, 12> parts;
    s.drop_front(10).split(parts, '/', -1, false);
    for (std::size_t i = 0; i + 1 < parts.size(); ++i) {
      if (parts[i] == "components") {
        r.name = parts[i + 1].str();
        if (i + 3 < parts.size() && parts[i + 2] == "versions")
          r.version = parts[i + 3].str();
        return r;
      }
    }
    return std::nullopt;
  }
  if (!s.startswith("azureml:")) return std::nullopt;
  s = s.drop_front(8);
  auto at = s.find('@');
  if (at != llvm::StringRef::npos) {
    r.name = s.take_front(at).str();
    return r;
  }
  auto colon = s.find(':');
  if (colon != llvm::StringRef::npos) {
    r.name = s.take_front(colon).str();
    r.version = s.drop_front(colon + 1).str();
  } else {
    r.name = s.str();
  }
  if (r.name.empty()) return std::nullopt;
  return r;
}

}  // namespace

class Session::Resolver : public ComponentResolver {
 public:
  explicit Resolver(Session& s) : s_(s) {}

  std::shared_ptr<const ast::Component> resolve(
      const ast::ComponentRef& ref, const ast::Component& from) override {
    switch (ref.kind) {
      case ast::ComponentRef::Kind::Path:
        return resolvePath(ref, from);
      case ast::ComponentRef::Kind::Registry:
        return resolveRegistry(ref);
      case ast::ComponentRef::Kind::Named:
        return resolveNamed(ref, from);
      case ast::ComponentRef::Kind::Inline:
        return ref.inline_component;
      case ast::ComponentRef::Kind::None:
        return nullptr;
    }
    return nullptr;
  }

  std::string projectRoot(llvm::StringRef file) override {
    for (const std::string& d : component_dirs_)
      if (isUnder(file, d)) return d;
    if (!s_.opts_.project_root.empty() && isUnder(file, s_.opts_.project_root))
      return s_.opts_.project_root;
    llvm::StringRef dir = llvm::sys::path::parent_path(file);
    auto it = roots_.find(dir.str());
    if (it != roots_.end()) return it->second;
    std::string root;
    for (llvm::StringRef d = dir; !d.empty();
         d = llvm::sys::path::parent_path(d)) {
      llvm::SmallString<256> git(d);
      llvm::sys::path::append(git, ".git");
      if (llvm::sys::fs::exists(git)) {
        root = d.str();
        break;
      }
      if (d == "/") break;
    }
    if (root.empty()) root = isUnder(file, main_dir_) ? main_dir_ : dir.str();
    roots_[dir.str()] = root;
    return root;
  }

  void setMainDir(std::string d) { main_dir_ = std::move(d); }
  void setComponentDirs(std::vector<std::string> dirs) {
    component_dirs_ = std::move(dirs);
  }

 private:
  std::shared_ptr<const ast::Component> pick(const ast::File* f,
                                             llvm::StringRef fragment,
                                             const ast::Scalar& spelled) {
    if (fragment.empty()) {
      if (f->main) return f->main;
      diags().report(spelled.range, diag::ComponentNotFound, spelled.text,
                     "the file declares no component");
      return nullptr;
    }
    std::vector<std::string> names;
    for (const auto& c : f->components) {
      if (c->name && c->name->text == fragment) return c;
      if (c->name) names.push_back(c->name->text);
    }
    diags().report(spelled.range, diag::ComponentNotFound, spelled.text,
                   fmt::format("no component named '{}' in that file{}",
                               fragment, didYouMean(fragment, names)));
    return nullptr;
  }

  ir::DiagnosticEngine& diags() { return s_.diags_; }

  std::shared_ptr<const ast::Component> resolvePath(
      const ast::ComponentRef& ref, const ast::Component& from) {
    llvm::StringRef text = llvm::StringRef(ref.spelling.text).trim();
    if (text.startswith("file:")) text = text.drop_front(5);
    if (std::string why = unusablePathReason(text); !why.empty()) {
      diags().report(ref.spelling.range, diag::BadPath, "component",
                     ref.spelling.text, why);
      return nullptr;
    }
    llvm::StringRef fragment;
    if (auto hash = text.find('#'); hash != llvm::StringRef::npos) {
      fragment = text.drop_front(hash + 1);
      text = text.take_front(hash);
    }
    llvm::SmallString<256> p;
    bool relative = !llvm::sys::path::is_absolute(text);
    if (relative) {
      p = llvm::sys::path::parent_path(from.file);
      llvm::sys::path::append(p, text);
    } else {
      p = text;
    }
    llvm::sys::path::remove_dots(p, true);
    std::string abs(p);
    if (relative) {
      std::string root = projectRoot(from.file);
      if (!isUnder(abs, root)) {
        diags().report(ref.spelling.range, diag::PathEscapesRoot, "component",
                       ref.spelling.text, root);
        return nullptr;
      }
    }
    const ast::File* f = s_.loadFile(abs, ref.spelling.range);
    if (!f) return nullptr;
    return pick(f, fragment, ref.spelling);
  }

  struct Indexed {
    std::string name, version, path;
  };

  void buildIndex() {
    if (indexed_) return;
    indexed_ = true;
    for (const std::string& dir : component_dirs_) {
      std::error_code ec;
      for (llvm::sys::fs::recursive_directory_iterator it(dir, ec), end;
           it != end && !ec; it.increment(ec)) {
        llvm::StringRef path = it->path();
        llvm::StringRef base = llvm::sys::path::filename(path);
        if (base.startswith(".") || base == "node_modules") {
          it.no_push();
          continue;
        }
        if (!(path.endswith(".yaml") || path.endswith(".yml"))) continue;
        Indexed e;
        if (peekComponentId(path, e.name, e.version)) {
          e.path = path.str();
          index_.push_back(std::move(e));
        }
      }
    }
    std::sort(index_.begin(), index_.end(),
              [](const Indexed& a, const Indexed& b) {
                return std::tie(a.name, a.path) < std::tie(b.name, b.path);
              });
  }

  std::shared_ptr<const ast::Component> resolveRegistry(
      const ast::ComponentRef& ref) {
    auto r = parseRegistryRef(ref.spelling.text);
    if (component_dirs_.empty() || !r) {
      diags().report(
          ref.spelling.range, diag::RegistryComponent, ref.spelling.text,
          "; pass --component-path DIR with a folder that holds its spec");
      return nullptr;
    }
    buildIndex();
    const Indexed* best = nullptr;
    std::vector<std::string> versions, names;
    for (const Indexed& e : index_) {
      names.push_back(e.name);
      if (e.name != r->name) continue;
      versions.push_back(e.version);
      if (!r->version.empty()) {
        if (e.version == r->version) best = &e;
      } else if (!best || versionLess(best->version, e.version)) {
        best = &e;
      }
    }
    if (!best) {
      std::string why;
      if (!versions.empty())
        why = fmt::format("; the component path has '{}' only in version {}",
                          r->name, fmt::join(versions, ", "));
      else
        why = fmt::format("; no component named '{}' on the component path{}",
                          r->name, didYouMean(r->name, names));
      diags().report(ref.spelling.range, diag::RegistryComponent,
                     ref.spelling.text, why);
      return nullptr;
    }
    const ast::File* f = s_.loadFile(best->path, ref.spelling.range);
    if (!f) return nullptr;
    return f->main;
  }

  std::shared_ptr<const ast::Component> resolveNamed(
      const ast::ComponentRef& ref, const ast::Component& from) {
    const ast::File* f = s_.loadFile(from.file);
    std::vector<std::string> names;
    if (f) {
      for (const auto& c : f->components) {
        if (c->name && c->name->text == ref.spelling.text) return c;
        if (c->name) names.push_back(c->name->text);
      }
      for (const ast::Import& imp : f->imports) {
        names.push_back(imp.alias.text);
        if (imp.alias.text != ref.spelling.text) continue;
        if (imp.stdlib) {
          llvm::StringRef std_name =
              llvm::StringRef(imp.target.text).drop_front(4);
          const ast::File* sf = s_.loadStdlibFile(std_name);
          if (!sf) {
            diags().report(ref.spelling.range, diag::ComponentNotFound,
                           imp.target.text,
                           "the standard library copy does not load");
            return nullptr;
          }
          return pick(sf, std_name, ref.spelling);
        }
        ast::ComponentRef path_ref;
        path_ref.kind = ast::ComponentRef::Kind::Path;
        path_ref.spelling = imp.target;
        path_ref.range = imp.range;
        return resolvePath(path_ref, from);
      }
    }
    diags().report(ref.spelling.range, diag::ComponentNotFound,
                   ref.spelling.text,
                   "no component or import of that name" +
                       didYouMean(ref.spelling.text, names));
    return nullptr;
  }

  Session& s_;
  std::string main_dir_;
  std::vector<std::string> component_dirs_;
  std::map<std::string, std::string> roots_;
  bool indexed_ = false;
  std::vector<Indexed> index_;
};

Session::Session(SessionOptions options)
    : opts_(std::move(options)),
      diags_(sm_, discard_),
      resolver_(std::make_unique<Resolver>(*this)) {
  std::vector<std::string> dirs;
  for (const std::string& d : opts_.component_paths)
    dirs.push_back(absolute(d));
  resolver_->setComponentDirs(std::move(dirs));
  if (!opts_.project_root.empty())
    opts_.project_root = absolute(opts_.project_root);
}

Session::~Session() = default;

void Session::setDiagnosticConsumer(ir::DiagnosticConsumer& consumer) {
  diags_.setConsumer(consumer);
}

void Session::setOverlay(llvm::StringRef path, std::string text) {
  overlays_[absolute(path)] = std::move(text);
}

std::string Session::absolute(llvm::StringRef path) {
  llvm::SmallString<256> p(path);
  llvm::sys::fs::make_absolute(p);
  llvm::sys::path::remove_dots(p, true);
  return std::string(p);
}

const ast::File* Session::loadFile(llvm::StringRef path, llvm::SMRange from) {
  std::string abs = absolute(path);
  if (auto it = files_.find(abs); it != files_.end()) return it->second.get();
  if (failed_.count(abs)) return nullptr;
  failed_[abs] = true;

  auto report = [&](const std::string& why) {
    auto d = diags_.report(from, diag::FileNotFound, path, why);
    if (!from.Start.isValid()) d.origin(path.str());
  };
  std::unique_ptr<llvm::MemoryBuffer> buf;
  if (auto ov = overlays_.find(abs); ov != overlays_.end()) {
    buf = llvm::MemoryBuffer::getMemBufferCopy(ov->second, path);
  } else {
    llvm::sys::fs::file_status st;
    if (std::error_code ec = llvm::sys::fs::status(abs, st)) {
      report(ec.message());
      return nullptr;
    }
    if (llvm::sys::fs::is_directory(st)) {
      report("it is a directory");
      return nullptr;
    }
    // Devices and pipes may never end (/dev/zero, /dev/stdin).
    if (!llvm::sys::fs::is_regular_file(st)) {
      report("it is not a regular file");
      return nullptr;
    }
    if (st.getSize() > opts_.max_file_bytes) {
      auto d = diags_.report(from, diag::FileTooLarge, path, st.getSize(),
                             opts_.max_file_bytes);
      if (!from.Start.isValid()) d.origin(path.str());
      return nullptr;
    }
    auto mb = llvm::MemoryBuffer::getFile(abs, /*IsText=*/false,
                                          /*RequiresNullTerminator=*/true);
    if (!mb) {
      report(mb.getError().message());
      return nullptr;
    }
    buf = std::move(*mb);
  }
  // Diagnostics name files as the user wrote them (the command line) or
  // relative to the working directory.
  llvm::SmallString<256> cwd;
  llvm::sys::fs::current_path(cwd);
  std::string shown = from.Start.isValid() ? abs : path.str();
  if (from.Start.isValid() && isUnder(abs, cwd))
    shown = abs.substr(cwd.size() + 1);
  auto named = llvm::MemoryBuffer::getMemBuffer(buf->getBuffer(), shown, true);
  unsigned id = sm_.AddNewSourceBuffer(std::move(named), llvm::SMLoc());
  keep_buffers_.push_back(std::move(buf));

  std::unique_ptr<ast::File> file;
  if (llvm::StringRef(abs).endswith(".pipe")) {
    file = loadDslFile(id, abs);
  } else {
    file = loadYamlFile(sm_, id, abs, diags_);
  }
  if (!file) return nullptr;
  failed_.erase(abs);
  const ast::File* raw = file.get();
  files_[abs] = std::move(file);
  return raw;
}

std::unique_ptr<ast::File> Session::loadDslFile(unsigned buffer_id,
                                                llvm::StringRef path) {
  return loadDslBuffer(sm_, buffer_id, path, diags_);
}

const ast::File* Session::loadStdlibFile(llvm::StringRef name) {
  std::string key = stdlibPath(name);
  if (auto it = files_.find(key); it != files_.end()) return it->second.get();
  if (failed_.count(key)) return nullptr;
  auto text = stdlib::source(name);
  if (!text) return nullptr;
  failed_[key] = true;
  auto buf = llvm::MemoryBuffer::getMemBuffer(
      *text, "<std>/" + name.str() + ".pipe", /*RequiresNullTerminator=*/false);
  unsigned id = sm_.AddNewSourceBuffer(std::move(buf), llvm::SMLoc());
  auto file = loadDslFile(id, key);
  if (!file) return nullptr;
  failed_.erase(key);
  const ast::File* raw = file.get();
  files_[key] = std::move(file);
  return raw;
}

std::string Session::stdlibPath(llvm::StringRef name) {
  return "/<std>/" + name.str() + ".pipe";
}

std::unique_ptr<ir::Module> Session::compile(llvm::StringRef path,
                                             llvm::StringRef entry) {
  std::string abs = absolute(path);
  resolver_->setMainDir(llvm::sys::path::parent_path(abs).str());
  const ast::File* f = loadFile(path);
  if (!f) return nullptr;
  std::shared_ptr<const ast::Component> main = f->main;
  if (!entry.empty()) {
    main = nullptr;
    std::vector<std::string> names;
    for (const auto& c : f->components) {
      if (c->name && c->name->text == entry) main = c;
      if (c->name) names.push_back(c->name->text);
    }
    if (!main) {
      diags_
          .report(llvm::SMRange(), diag::ComponentNotFound, entry,
                  "no component of that name in " + path.str() +
                      didYouMean(entry, names))
          .origin(path.str());
      return nullptr;
    }
  }
  if (!main) {
    diags_
        .report(llvm::SMRange(), diag::ComponentNotFound, path,
                "the file declares no component")
        .origin(path.str());
    return nullptr;
  }
  auto module = std::make_unique<ir::Module>();
  module->root_dir = llvm::sys::path::parent_path(abs).str();
  SemaOptions sema_opts;
  sema_opts.pedantic = opts_.pedantic;
  Sema sema(diags_, *resolver_, *module, sema_opts);
  module->root = sema.lower(main);
  // A DSL file may declare several components: each is checked, even when
  // the main pipeline does not use it.
  for (const auto& c : f->components)
    if (c != main) sema.lower(c);
  if (!diags_.hasErrors()) {
    if (llvm::Error e = ir::verify(*module)) {
      llvm::errs() << "pipec: internal error: the IR of '" << path
                   << "' does not verify:\n"
                   << llvm::toString(std::move(e));
      std::abort();
    }
  }
  return module;
}

}  // namespace pipec::frontend
