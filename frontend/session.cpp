// The Session: file loading with caching, component resolution, sema.
#include "frontend/session.h"

#include <algorithm>
#include <unordered_map>

#include "frontend/dsl/dsl_loader.h"
#include "frontend/sema.h"
#include "frontend/yaml_loader.h"
#include "ir/suggest.h"
#include "ir/verifier.h"
#include "llvm/ADT/SmallString.h"
#include "llvm/ADT/StringMap.h"
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
        return resolveRegistry(ref, from);
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
  /// A file under a component folder changed: index the folders again.
  std::string resolveLinks(llvm::StringRef path) override {
    auto [it, fresh] = links_.try_emplace(path);
    if (fresh) it->second = frontend::resolveLinks(path);
    return it->second;
  }

  /// A new compile starts: what it reads is recorded again.
  void newCompile() {
    path_memo_.clear();
    named_memo_.clear();
  }

  void fileChanged(llvm::StringRef abs) {
    links_.clear();  // an edit may come with new links
    path_memo_.clear();
    named_memo_.clear();
    for (const std::string& d : component_dirs_)
      if (isUnder(abs, d)) indexed_ = false;
    if (!indexed_) index_.clear();
  }
  void setComponentDirs(std::vector<std::string> dirs) {
    component_dirs_ = std::move(dirs);
    path_memo_.clear();
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
                               fragment, ir::didYouMean(fragment, names)));
    return nullptr;
  }

  ir::DiagnosticEngine& diags() { return s_.diags_; }

  std::shared_ptr<const ast::Component> resolvePath(
      const ast::ComponentRef& ref, const ast::Component& from) {
    // Every step of a large pipeline names the same few files: within one
    // compile, a reference resolved once from a file resolves the same way.
    std::string key = from.file;
    key += '\n';
    key += ref.spelling.text;
    if (auto it = path_memo_.find(key); it != path_memo_.end())
      return it->second;
    auto found = resolvePathUncached(ref, from);
    if (found) path_memo_.emplace(std::move(key), found);
    return found;
  }

  std::shared_ptr<const ast::Component> resolvePathUncached(
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
      if (auto out = pathOutside(abs, root, *this)) {
        auto d = diags().report(ref.spelling.range, diag::PathEscapesRoot,
                                "component", ref.spelling.text, root);
        if (*out != abs)
          d.note(ref.spelling.range, "a symbolic link on the way leads to '{}'",
                 *out);
        return nullptr;
      }
    }
    s_.noteImport(from.file, abs);
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
      const ast::ComponentRef& ref, const ast::Component& from) {
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
                          r->name, ir::didYouMean(r->name, names));
      diags().report(ref.spelling.range, diag::RegistryComponent,
                     ref.spelling.text, why);
      return nullptr;
    }
    s_.noteImport(from.file, best->path);
    const ast::File* f = s_.loadFile(best->path, ref.spelling.range);
    if (!f) return nullptr;
    return f->main;
  }

  std::shared_ptr<const ast::Component> resolveNamed(
      const ast::ComponentRef& ref, const ast::Component& from) {
    const ast::File* f = s_.loadFile(from.file);
    std::vector<std::string> names;
    if (f) {
      // Every step of a pipeline asks: the file's components are looked up
      // by name, and the names are gathered only for the did-you-mean of
      // one that is not found.
      auto [it, fresh] = named_memo_.try_emplace(f);
      if (fresh)
        for (const auto& c : f->components)
          if (c->name) it->second.try_emplace(c->name->text, c);
      if (auto c = it->second.find(ref.spelling.text); c != it->second.end())
        return c->second;
      for (const ast::Import& imp : f->imports) {
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
      for (const auto& c : f->components)
        if (c->name) names.push_back(c->name->text);
      for (const ast::Import& imp : f->imports) names.push_back(imp.alias.text);
    }
    diags().report(ref.spelling.range, diag::ComponentNotFound,
                   ref.spelling.text,
                   "no component or import of that name" +
                       ir::didYouMean(ref.spelling.text, names));
    return nullptr;
  }

  Session& s_;
  std::string main_dir_;
  std::vector<std::string> component_dirs_;
  std::map<std::string, std::string> roots_;
  llvm::StringMap<std::string> links_;  // resolveLinks() answers
  /// resolvePath() answers of this compile, by "from-file\nspelling".
  std::unordered_map<std::string, std::shared_ptr<const ast::Component>>
      path_memo_;
  /// resolveNamed()'s components of each file read in this compile, by
  /// name (the first of a name).
  std::unordered_map<const ast::File*,
                     llvm::StringMap<std::shared_ptr<const ast::Component>>>
      named_memo_;
  bool indexed_ = false;
  std::vector<Indexed> index_;
};

SourceFile::SourceFile(std::string path, std::string display,
                       std::unique_ptr<llvm::MemoryBuffer> text,
                       unsigned version)
    : path_(std::move(path)),
      display_(std::move(display)),
      text_(std::move(text)),
      version_(version) {
  llvm::StringRef t = text_->getBuffer();
  line_starts_.push_back(0);
  for (std::size_t at = t.find('\n'); at != llvm::StringRef::npos;
       at = t.find('\n', at + 1))
    line_starts_.push_back(std::uint32_t(at + 1));
}

bool SourceFile::contains(llvm::SMLoc loc) const {
  const char* p = loc.getPointer();
  return p && p >= text_->getBufferStart() && p <= text_->getBufferEnd();
}

Position SourceFile::position(llvm::SMLoc loc) const {
  auto offset = std::uint32_t(loc.getPointer() - text_->getBufferStart());
  auto it = std::upper_bound(line_starts_.begin(), line_starts_.end(), offset);
  std::uint32_t start = *(it - 1);
  Position pos;
  pos.path = path_;
  pos.display = display_;
  pos.line = unsigned(it - line_starts_.begin());
  pos.column = unsigned(offset - start + 1);
  pos.utf16 = ir::utf16Length(text().slice(start, offset));
  return pos;
}

const FileDiagnostics* CheckResult::file(llvm::StringRef path) const {
  for (const FileDiagnostics& f : files)
    if (f.path == path) return &f;
  return nullptr;
}

namespace {
// The file among `sources` (sorted by address) whose text holds `loc`.
const SourceFile* holding(
    const std::vector<std::shared_ptr<const SourceFile>>& sources,
    llvm::SMLoc loc) {
  if (!loc.isValid()) return nullptr;
  auto it = std::upper_bound(
      sources.begin(), sources.end(), loc.getPointer(),
      [](const char* p, const std::shared_ptr<const SourceFile>& f) {
        return p < f->text().begin();
      });
  if (it == sources.begin()) return nullptr;
  const SourceFile& f = **(it - 1);
  return f.contains(loc) ? &f : nullptr;
}
}  // namespace

std::optional<Position> CheckResult::locate(llvm::SMLoc loc) const {
  if (const SourceFile* f = holding(sources, loc)) return f->position(loc);
  return std::nullopt;
}

/// Sends each diagnostic to the place the Session collects them for (the
/// file being read, or the running check) and on to the user's consumer.
class Session::Recorder : public ir::DiagnosticConsumer {
 public:
  void handle(const ir::Diagnostic& d) override {
    if (sink) sink->push_back(d);
    if (downstream) downstream->handle(d);
  }
  void finish() override {
    if (downstream) downstream->finish();
  }
  std::vector<ir::Diagnostic>* sink = nullptr;
  ir::DiagnosticConsumer* downstream = nullptr;
};

namespace {
// Points the recorder at `sink` for the life of this object.
class CollectInto {
 public:
  CollectInto(std::vector<ir::Diagnostic>*& slot,
              std::vector<ir::Diagnostic>* sink)
      : slot_(slot), saved_(slot) {
    slot_ = sink;
  }
  ~CollectInto() { slot_ = saved_; }
  CollectInto(const CollectInto&) = delete;
  CollectInto& operator=(const CollectInto&) = delete;

 private:
  std::vector<ir::Diagnostic>*& slot_;
  std::vector<ir::Diagnostic>* saved_;
};
}  // namespace

Session::Session(SessionOptions options)
    : opts_(std::move(options)),
      recorder_(std::make_unique<Recorder>()),
      diags_(sm_, *recorder_),
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
  recorder_->downstream = &consumer;
}

void Session::update(llvm::StringRef path, std::string text) {
  overlays_[absolute(path)] = std::move(text);
  invalidate(path);
}

void Session::removeOverlay(llvm::StringRef path) {
  overlays_.erase(absolute(path));
  dsl_memos_.erase(absolute(path));
  invalidate(path);
}

void Session::invalidate(llvm::StringRef path) {
  std::string abs = absolute(path);
  resolver_->fileChanged(abs);
  // The file and, to a fixed point, every file that imports a stale one.
  std::set<std::string> stale = {abs};
  for (bool grew = true; grew;) {
    grew = false;
    for (const auto& [p, e] : files_) {
      if (stale.count(p)) continue;
      for (const std::string& i : e.imports)
        if (stale.count(i)) {
          stale.insert(p);
          grew = true;
          break;
        }
    }
  }
  for (const std::string& p : stale) {
    auto it = files_.find(p);
    if (it == files_.end()) continue;
    if (it->second.source) sm_stale_ = true;
    files_.erase(it);
  }
}

std::string Session::absolute(llvm::StringRef path) {
  llvm::SmallString<256> p(path);
  llvm::sys::fs::make_absolute(p);
  llvm::sys::path::remove_dots(p, true);
  return std::string(p);
}

void Session::noteRead(const std::string& abs) {
  if (read_set_.insert(abs).second) read_.push_back(abs);
}

void Session::noteImport(const std::string& from_file, const std::string& abs) {
  auto it = files_.find(from_file);
  if (it != files_.end()) it->second.imports.insert(abs);
}

const SourceFile& Session::addSource(Entry& e, std::string abs,
                                     std::string display,
                                     std::unique_ptr<llvm::MemoryBuffer> text) {
  unsigned version = ++versions_[abs];
  auto file = std::make_shared<const SourceFile>(
      std::move(abs), std::move(display), std::move(text), version);
  sm_.AddNewSourceBuffer(
      llvm::MemoryBuffer::getMemBuffer(file->text(), file->display(),
                                       /*RequiresNullTerminator=*/false),
      llvm::SMLoc());
  // Forget versions nobody holds any more; their addresses may be reused.
  for (auto it = by_address_.begin(); it != by_address_.end();)
    it = it->second.expired() ? by_address_.erase(it) : std::next(it);
  by_address_[file->text().begin()] = file;
  e.source = std::move(file);
  return *e.source;
}

// Old versions leave the SourceMgr at the next check: it is made again from
// the current versions, so it holds as many buffers as there are files, not
// as many as there were edits.
void Session::rebuildSourceMgr() {
  if (!sm_stale_) return;
  sm_stale_ = false;
  sm_ = llvm::SourceMgr();
  for (const auto& [path, e] : files_)
    if (e.source)
      sm_.AddNewSourceBuffer(llvm::MemoryBuffer::getMemBuffer(
                                 e.source->text(), e.source->display(),
                                 /*RequiresNullTerminator=*/false),
                             llvm::SMLoc());
}

std::unique_ptr<llvm::MemoryBuffer> Session::readText(const std::string& abs,
                                                      llvm::StringRef path,
                                                      llvm::SMRange from) {
  auto report = [&](const std::string& why) {
    auto d = diags_.report(from, ir::diag::FileNotFound, path, why);
    if (!from.Start.isValid()) d.origin(path.str());
  };
  if (auto ov = overlays_.find(abs); ov != overlays_.end())
    return llvm::MemoryBuffer::getMemBufferCopy(ov->second, path);
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
    auto d = diags_.report(from, ir::diag::FileTooLarge, path, st.getSize(),
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
  return std::move(*mb);
}

const ast::File* Session::loadFile(llvm::StringRef path, llvm::SMRange from) {
  std::string abs = absolute(path);
  noteRead(abs);
  if (auto it = files_.find(abs); it != files_.end())
    return it->second.ast.get();
  Entry& e = files_[abs];
  CollectInto collect(recorder_->sink, &e.diags);
  std::unique_ptr<llvm::MemoryBuffer> text = readText(abs, path, from);
  if (!text) return nullptr;
  // Diagnostics name files as the user wrote them (the command line) or
  // relative to the working directory.
  llvm::SmallString<256> cwd;
  llvm::sys::fs::current_path(cwd);
  std::string shown = from.Start.isValid() ? abs : path.str();
  if (from.Start.isValid() && isUnder(abs, cwd))
    shown = abs.substr(cwd.size() + 1);
  addSource(e, abs, std::move(shown), std::move(text));
  unsigned id = sm_.getNumBuffers();
  if (llvm::StringRef(abs).endswith(".pipe")) {
    DslMemo* memo = nullptr;
    if (opts_.reuse_declarations) {
      auto& m = dsl_memos_[abs];
      if (!m) m = std::make_unique<DslMemo>();
      memo = m.get();
    }
    e.ast =
        loadDslBuffer(sm_, id, abs, diags_, memo,
                      hold_parses_ ? &held_parses_.emplace_back() : nullptr);
  } else {
    e.ast = loadYamlFile(sm_, id, abs, diags_);
  }
  // A DSL file's imports count even when no job uses them.
  if (e.ast)
    for (const ast::Import& imp : e.ast->imports) {
      if (imp.stdlib) continue;
      llvm::SmallString<256> p(llvm::sys::path::parent_path(abs));
      llvm::sys::path::append(p, imp.target.text);
      llvm::sys::path::remove_dots(p, true);
      e.imports.insert(std::string(p));
    }
  return e.ast.get();
}

const ast::File* Session::loadStdlibFile(llvm::StringRef name) {
  std::string key = stdlibPath(name);
  noteRead(key);
  if (auto it = files_.find(key); it != files_.end())
    return it->second.ast.get();
  auto text = stdlib::source(name);
  if (!text) return nullptr;
  Entry& e = files_[key];
  CollectInto collect(recorder_->sink, &e.diags);
  addSource(e, key, "<std>/" + name.str() + ".pipe",
            llvm::MemoryBuffer::getMemBuffer(*text, key,
                                             /*RequiresNullTerminator=*/false));
  e.ast = loadDslBuffer(sm_, sm_.getNumBuffers(), key, diags_);
  return e.ast.get();
}

std::string Session::stdlibPath(llvm::StringRef name) {
  return "/<std>/" + name.str() + ".pipe";
}

std::shared_ptr<const SourceFile> Session::source(llvm::StringRef path) const {
  auto it = files_.find(absolute(path));
  return it == files_.end() ? nullptr : it->second.source;
}

std::optional<Position> Session::locate(llvm::SMLoc loc) const {
  if (!loc.isValid()) return std::nullopt;
  auto it = by_address_.upper_bound(loc.getPointer());
  if (it == by_address_.begin()) return std::nullopt;
  auto file = std::prev(it)->second.lock();
  if (!file || !file->contains(loc)) return std::nullopt;
  return file->position(loc);
}

CheckResult Session::assemble(const std::string& root,
                              std::vector<ir::Diagnostic> check_diags) {
  CheckResult r;
  std::map<std::string, std::size_t> index;
  for (const std::string& p : read_) {
    auto it = files_.find(p);
    FileDiagnostics fd;
    fd.path = p;
    fd.display = p;
    if (it != files_.end() && it->second.source) {
      fd.display = it->second.source->display();
      r.sources.push_back(it->second.source);
    }
    index[p] = r.files.size();
    r.files.push_back(std::move(fd));
  }
  std::sort(r.sources.begin(), r.sources.end(),
            [](const auto& a, const auto& b) {
              return a->text().begin() < b->text().begin();
            });
  // A diagnostic belongs to the file of its location, else to the file it
  // was reported for.
  auto add = [&](const ir::Diagnostic& d, const std::string& owner) {
    const SourceFile* at = holding(r.sources, d.range.Start);
    std::size_t i = index.at(at ? at->path() : owner);
    FileDiagnostics& fd = r.files[i];
    if (d.severity == ir::Severity::Error) ++fd.errors, ++r.errors;
    if (d.severity == ir::Severity::Warning) ++fd.warnings, ++r.warnings;
    fd.diagnostics.push_back(d);
  };
  for (const std::string& p : read_)
    if (auto it = files_.find(p); it != files_.end())
      for (const ir::Diagnostic& d : it->second.diags) add(d, p);
  for (const ir::Diagnostic& d : check_diags) add(d, root);
  return r;
}

llvm::Expected<CheckResult> Session::check(llvm::StringRef path,
                                           llvm::StringRef entry) {
  rebuildSourceMgr();
  std::string abs = absolute(path);
  read_.clear();
  read_set_.clear();
  resolver_->newCompile();
  noteRead(abs);
  std::vector<ir::Diagnostic> check_diags;
  std::unique_ptr<ir::Module> module;
  {
    CollectInto collect(recorder_->sink, &check_diags);
    module = lower(path, abs, entry);
  }
  CheckResult result = assemble(abs, std::move(check_diags));
  result.module = std::move(module);
  if (result.module && result.errors == 0) {
    if (llvm::Error e = ir::verify(*result.module))
      return llvm::createStringError(
          llvm::inconvertibleErrorCode(), "the IR of '%s' does not verify:\n%s",
          path.str().c_str(), llvm::toString(std::move(e)).c_str());
    result.verified = true;
  }
  return result;
}

std::unique_ptr<ir::Module> Session::lower(llvm::StringRef path,
                                           const std::string& abs,
                                           llvm::StringRef entry) {
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
                      ir::didYouMean(entry, names))
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
  return module;
}

}  // namespace pipec::frontend
