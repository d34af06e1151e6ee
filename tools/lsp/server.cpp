// The language server: lifecycle, dispatch, the worker thread, and the
// translation of Workspace answers into LSP results.
#include "tools/lsp/server.h"

#include "frontend/sema.h"
#include "llvm/ADT/SmallString.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"
#include "tools/lsp/workspace.h"

namespace pipec::lsp {

namespace json = llvm::json;

namespace {

std::string idKey(const json::Value& id) {
  std::string s;
  llvm::raw_string_ostream os(s);
  os << id;
  return os.str();
}

llvm::Error invalidParams(const json::Path::Root& root) {
  std::string msg;
  llvm::raw_string_ostream os(msg);
  os << "invalid params: " << llvm::toString(root.getError());
  return llvm::make_error<llvm::StringError>(
      os.str(),
      std::error_code(-int(ErrorCode::InvalidParams), std::generic_category()));
}

llvm::Error failure(ErrorCode code, const std::string& message) {
  return llvm::make_error<llvm::StringError>(
      message, std::error_code(-int(code), std::generic_category()));
}

int severityOf(ir::Severity s) {
  switch (s) {
    case ir::Severity::Error:
      return 1;
    case ir::Severity::Warning:
      return 2;
    case ir::Severity::Note:
      return 3;
  }
  return 1;
}

int completionKind(frontend::Completion::Kind k) {
  using K = frontend::Completion::Kind;
  switch (k) {
    case K::Keyword:
      return 14;
    case K::Component:
      return 7;  // Class
    case K::Step:
      return 3;  // Function
    case K::Input:
    case K::Output:
      return 5;  // Field
    case K::Param:
      return 6;  // Variable
    case K::Key:
      return 10;  // Property
    case K::Value:
      return 20;  // EnumMember
    case K::Section:
      return 9;  // Module
  }
  return 1;
}

int symbolKind(frontend::Symbol::Kind k) {
  using K = frontend::Symbol::Kind;
  switch (k) {
    case K::Component:
      return 5;  // Class
    case K::Step:
      return 12;  // Function
    case K::Input:
    case K::Output:
      return 8;  // Field
    case K::Param:
      return 13;  // Variable
  }
  return 13;
}

bool overlaps(const Range& a, const Range& b) {
  auto before = [](const Position& x, const Position& y) {
    return x.line < y.line || (x.line == y.line && x.character < y.character);
  };
  return !before(a.end, b.start) && !before(b.end, a.start);
}

}  // namespace

/// The worker thread's state: the workspace and the request handlers.
class Server::Handlers {
 public:
  Handlers(Server& s, frontend::SessionOptions options)
      : server_(s), ws_(std::move(options)) {}

  Encoding enc() const { return server_.encoding_; }

  std::optional<std::string> pathOf(const std::string& uri) {
    auto p = pathFromUri(uri);
    if (!p) return std::nullopt;
    return llvm::sys::path::remove_leading_dotslash(*p).str();
  }

  // --- documents
  void open(const TextDocumentItem& d) {
    auto path = pathOf(d.uri);
    if (!path) return;
    uris_[*path] = d.uri;
    ws_.setText(*path, d.text, d.version);
    afterEdit(*path);
  }

  void change(const DidChangeParams& p) {
    auto path = pathOf(p.uri);
    if (!path || !ws_.isOpen(*path)) return;
    std::string text = ws_.text(*path);
    for (const ContentChange& c : p.changes) {
      if (!c.range) {
        text = c.text;
        continue;
      }
      std::size_t a = offsetOf(text, c.range->start, enc());
      std::size_t b = offsetOf(text, c.range->end, enc());
      if (b < a) std::swap(a, b);
      text.replace(a, b - a, c.text);
    }
    ws_.setText(*path, std::move(text), p.version);
    afterEdit(*path);
  }

  void close(const std::string& uri) {
    auto path = pathOf(uri);
    if (!path) return;
    ws_.close(*path);
    published_.erase(*path);
    // Clear what the editor shows for a closed file.
    server_.notify("textDocument/publishDiagnostics",
                   json::Object{{"uri", uri}, {"diagnostics", json::Array{}}});
    for (const std::string& d : ws_.dependents(*path))
      server_.scheduleDiagnostics(d);
  }

  void changedOnDisk(const std::string& uri) {
    auto path = pathOf(uri);
    if (!path) return;
    ws_.changedOnDisk(*path);
    for (const std::string& d : ws_.dependents(*path))
      server_.scheduleDiagnostics(d);
  }

  void afterEdit(const std::string& path) {
    server_.scheduleDiagnostics(path);
    for (const std::string& d : ws_.dependents(path))
      server_.scheduleDiagnostics(d);
  }

  /// Checks `path` when its text changed, publishing new diagnostics; also
  /// builds its symbol index unless `need` says otherwise.
  const DocState& ensure(const std::string& path,
                         Workspace::Need need = Workspace::Need::Index) {
    std::string error;
    const DocState& st = ws_.check(path, &error, need);
    if (!error.empty())
      server_.notify(
          "window/logMessage",
          json::Object{{"type", 1},
                       {"message", "pipec: internal error: " + error}});
    if (ws_.isOpen(path) && published_[path] != st.checks) {
      published_[path] = st.checks;
      publish(path, st);
    }
    return st;
  }

  json::Value diagnostic(const std::string& uri, const DocDiagnostic& d) {
    json::Object o{{"range", toRange(d.span, enc())},
                   {"severity", severityOf(d.severity)},
                   {"code", d.code},
                   {"source", "pipec"}};
    std::string message = d.message;
    for (const std::string& n : d.notes) message += "\nnote: " + n;
    o["message"] = message;
    if (!server_.options_.docs_url.empty())
      o["codeDescription"] =
          json::Object{{"href", server_.options_.docs_url + "#" + d.code}};
    json::Array related;
    for (const auto& [span, msg] : d.related)
      related.push_back(json::Object{
          {"location", json::Object{{"uri", uriOf(span.path)},
                                    {"range", toRange(span, enc())}}},
          {"message", msg}});
    if (!related.empty()) o["relatedInformation"] = std::move(related);
    (void)uri;
    return o;
  }

  void publish(const std::string& path, const DocState& st) {
    std::string uri = uriOf(path);
    json::Array diags;
    for (const DocDiagnostic& d : st.diagnostics)
      diags.push_back(diagnostic(uri, d));
    server_.notify("textDocument/publishDiagnostics",
                   json::Object{{"uri", uri},
                                {"version", st.version},
                                {"diagnostics", std::move(diags)}});
  }

  std::string uriOf(const std::string& path) {
    auto it = uris_.find(path);
    return it != uris_.end() ? it->second : uriFromPath(path);
  }

  // --- requests
  template <typename P>
  llvm::Expected<P> parse(const json::Value& v) {
    P p;
    json::Path::Root root;
    if (!fromJSON(v, p, root)) return invalidParams(root);
    return p;
  }

  llvm::Expected<std::string> docPath(const std::string& uri) {
    auto path = pathOf(uri);
    if (!path)
      return failure(ErrorCode::InvalidParams, "not a file URI: " + uri);
    if (!ws_.isOpen(*path))
      return failure(ErrorCode::InvalidParams, "document not open: " + uri);
    return *path;
  }

  /// The fresh index of `path` at the request's position, or null.
  struct At {
    std::string path;
    const DocState* st = nullptr;
    const frontend::Occurrence* occ = nullptr;
    const frontend::Symbol* sym = nullptr;
  };
  llvm::Expected<At> at(const json::Value& params) {
    auto p = parse<PositionParams>(params);
    if (!p) return p.takeError();
    auto path = docPath(p->uri);
    if (!path) return path.takeError();
    At a;
    a.path = *path;
    a.st = &ensure(*path);
    if (!a.st->index || a.st->index_version != a.st->version) return a;
    const std::string& text = ws_.text(*path);
    std::size_t off = offsetOf(text, p->position, enc());
    Position u16 = positionOf(text, off, Encoding::Utf16);
    a.occ = a.st->index->at(unsigned(u16.line), unsigned(u16.character));
    if (a.occ) a.sym = &a.st->index->symbols()[a.occ->symbol];
    return a;
  }

  llvm::Expected<json::Value> hover(const json::Value& params) {
    auto a = at(params);
    if (!a) return a.takeError();
    if (!a->sym) return nullptr;
    const frontend::Symbol& s = *a->sym;
    std::string md = "```pipe\n" + s.signature + "\n```";
    if (!s.description.empty()) md += "\n\n" + s.description;
    if (!s.env_var.empty()) {
      md += "\n\nEnvironment variable: `" + s.env_var + "`";
      std::string v = a->occ->value.empty() ? s.value : a->occ->value;
      if (!v.empty()) md += " = `" + v + "`";
    } else if (!a->occ->value.empty()) {
      md += "\n\nValue: `" + a->occ->value + "`";
    }
    return json::Object{
        {"contents", json::Object{{"kind", "markdown"}, {"value", md}}},
        {"range", toRange(a->occ->span, enc())}};
  }

  json::Value location(const frontend::Span& s) {
    return json::Object{{"uri", uriOf(s.path)}, {"range", toRange(s, enc())}};
  }

  llvm::Expected<json::Value> definition(const json::Value& params) {
    auto a = at(params);
    if (!a) return a.takeError();
    if (!a->sym || a->sym->decl.path.empty()) return nullptr;
    return json::Array{location(a->sym->decl)};
  }

  /// Every occurrence of `sym` in the open documents and in its own file.
  std::vector<frontend::Occurrence> everyUse(const frontend::Symbol& sym) {
    std::vector<frontend::Occurrence> out;
    std::set<std::tuple<std::string, unsigned, unsigned>> seen;
    auto collect = [&](const DocState& st) {
      if (!st.index) return;
      for (const frontend::Occurrence* o : st.index->uses(sym.key))
        if (seen.insert({o->span.path, o->span.start.line, o->span.start.utf16})
                .second)
          out.push_back(*o);
    };
    std::vector<std::string> files = ws_.open();
    if (!sym.decl.path.empty() && !ws_.isOpen(sym.decl.path) &&
        llvm::sys::path::is_absolute(sym.decl.path))
      files.push_back(sym.decl.path);
    for (const std::string& f : closedUsers(sym, files)) files.push_back(f);
    for (const std::string& f : files) collect(ensure(f));
    if (!sym.decl.path.empty() &&
        seen.insert({sym.decl.path, sym.decl.start.line, sym.decl.start.utf16})
            .second) {
      frontend::Occurrence d;
      d.span = sym.decl;
      d.declaration = true;
      out.push_back(d);
    }
    return out;
  }

  /// Closed files under the workspace folders that may use the component
  /// declaring `sym` (a channel or parameter): YAML and .pipe files whose
  /// text names the declaring file. At most kMaxEntries directory entries
  /// and kMaxDepth levels are looked at; hidden folders and node_modules
  /// are skipped. `known` files are left out.
  std::vector<std::string> closedUsers(const frontend::Symbol& sym,
                                       const std::vector<std::string>& known) {
    constexpr unsigned kMaxDepth = 4, kMaxEntries = 5000;
    std::vector<std::string> out;
    if (sym.kind == frontend::Symbol::Kind::Step || sym.decl.path.empty() ||
        !llvm::sys::path::is_absolute(sym.decl.path))
      return out;
    std::string needle = llvm::sys::path::filename(sym.decl.path).str();
    std::set<std::string> skip(known.begin(), known.end());
    for (const std::string& root : server_.options_.roots) {
      frontend::forEachSourceFile(
          root, kMaxDepth, kMaxEntries, true, [&](llvm::StringRef p) {
            llvm::SmallString<256> abs(p);
            llvm::sys::path::remove_dots(abs, true);
            if (skip.count(std::string(abs))) return;
            std::uint64_t size = 0;
            if (llvm::sys::fs::file_size(abs, size) || size > (4u << 20))
              return;  // unreadable, or no pipeline or component
            auto text = llvm::MemoryBuffer::getFile(abs);
            if (!text ||
                (*text)->getBuffer().find(needle) == llvm::StringRef::npos)
              return;
            skip.insert(std::string(abs));
            out.push_back(std::string(abs));
          });
    }
    return out;
  }

  llvm::Expected<json::Value> references(const json::Value& params) {
    auto a = at(params);
    if (!a) return a.takeError();
    if (!a->sym) return json::Array{};
    bool with_decl = true;
    if (const json::Object* o = params.getAsObject())
      if (const json::Object* c = o->getObject("context"))
        with_decl = c->getBoolean("includeDeclaration").getValueOr(true);
    frontend::Symbol sym = *a->sym;
    json::Array out;
    for (const frontend::Occurrence& o : everyUse(sym))
      if (with_decl || !o.declaration) out.push_back(location(o.span));
    return out;
  }

  static bool renameable(const frontend::Symbol& s) {
    return s.kind != frontend::Symbol::Kind::Component;
  }

  llvm::Expected<json::Value> prepareRename(const json::Value& params) {
    auto a = at(params);
    if (!a) return a.takeError();
    if (!a->sym || !renameable(*a->sym)) return nullptr;
    return json::Object{{"range", toRange(a->occ->span, enc())},
                        {"placeholder", a->sym->name}};
  }

  llvm::Expected<json::Value> rename(const json::Value& params) {
    auto a = at(params);
    if (!a) return a.takeError();
    std::string name;
    if (const json::Object* o = params.getAsObject())
      if (auto n = o->getString("newName")) name = n->str();
    if (!a->sym || !renameable(*a->sym))
      return failure(ErrorCode::RequestFailed,
                     "nothing to rename here: place the cursor on a channel, "
                     "parameter or step name");
    if (std::string why = frontend::invalidNameReason(name); !why.empty())
      return failure(ErrorCode::RequestFailed,
                     "cannot rename to '" + name + "': " + why);
    frontend::Symbol sym = *a->sym;
    std::map<std::string, json::Array> edits;
    for (const frontend::Occurrence& o : everyUse(sym))
      edits[uriOf(o.span.path)].push_back(
          json::Object{{"range", toRange(o.span, enc())}, {"newText", name}});
    json::Object changes;
    for (auto& [uri, list] : edits) changes[uri] = std::move(list);
    return json::Object{{"changes", std::move(changes)}};
  }

  llvm::Expected<json::Value> completion(const json::Value& params) {
    auto p = parse<PositionParams>(params);
    if (!p) return p.takeError();
    auto path = docPath(p->uri);
    if (!path) return path.takeError();
    const DocState& st = ensure(*path);
    static const frontend::SymbolIndex empty;
    const std::string& text = ws_.text(*path);
    auto items = frontend::complete(st.index ? *st.index : empty, *path, text,
                                    offsetOf(text, p->position, enc()));
    json::Array out;
    for (const frontend::Completion& c : items) {
      json::Object item{{"label", c.label}, {"kind", completionKind(c.kind)}};
      if (!c.detail.empty()) item["detail"] = c.detail;
      if (!c.documentation.empty())
        item["documentation"] =
            json::Object{{"kind", "markdown"}, {"value", c.documentation}};
      if (c.kind == frontend::Completion::Kind::Key)
        item["insertText"] = c.label + ": ";
      out.push_back(std::move(item));
    }
    return json::Object{{"isIncomplete", false}, {"items", std::move(out)}};
  }

  llvm::Expected<json::Value> documentSymbol(const json::Value& params) {
    auto p = parse<DocumentParams>(params);
    if (!p) return p.takeError();
    auto path = docPath(p->uri);
    if (!path) return path.takeError();
    const DocState& st = ensure(*path);
    json::Array out;
    if (!st.index) return out;
    const auto& syms = st.index->symbols();
    auto entry = [&](const frontend::Symbol& s) {
      json::Object o{{"name", s.name.empty() ? "<pipeline>" : s.name},
                     {"kind", symbolKind(s.kind)},
                     {"range", toRange(s.decl, enc())},
                     {"selectionRange", toRange(s.decl, enc())}};
      if (!s.signature.empty()) o["detail"] = s.signature;
      return o;
    };
    for (const frontend::Symbol& c : syms) {
      if (c.kind != frontend::Symbol::Kind::Component || c.decl.path != *path)
        continue;
      json::Object o = entry(c);
      json::Array children;
      std::string owner = c.key.substr(c.key.find(':') + 1);
      for (const frontend::Symbol& s : syms)
        if (s.kind != frontend::Symbol::Kind::Component &&
            s.decl.path == *path &&
            llvm::StringRef(s.key).split(':').second.startswith(owner + "."))
          children.push_back(entry(s));
      o["children"] = std::move(children);
      out.push_back(std::move(o));
    }
    return out;
  }

  llvm::Expected<json::Value> formatting(const json::Value& params) {
    auto p = parse<DocumentParams>(params);
    if (!p) return p.takeError();
    auto path = docPath(p->uri);
    if (!path) return path.takeError();
    if (llvm::sys::path::extension(*path) != ".pipe") return json::Array{};
    const std::string& text = ws_.text(*path);
    auto formatted = frontend::formatPipeText(text);
    if (!formatted || *formatted == text) return json::Array{};
    Range all{{0, 0}, positionOf(text, text.size(), enc())};
    return json::Array{
        json::Object{{"range", all}, {"newText", std::move(*formatted)}}};
  }

  llvm::Expected<json::Value> codeAction(const json::Value& params) {
    auto p = parse<DocumentParams>(params);
    if (!p) return p.takeError();
    auto path = docPath(p->uri);
    if (!path) return path.takeError();
    const DocState& st = ensure(*path);
    Range want = p->range.getValueOr(Range{});
    json::Array out;
    for (const DocDiagnostic& d : st.diagnostics) {
      if (d.fixits.empty() || !overlaps(toRange(d.span, enc()), want)) continue;
      json::Array edits;
      std::string title;
      for (const auto& [span, text] : d.fixits) {
        edits.push_back(
            json::Object{{"range", toRange(span, enc())}, {"newText", text}});
        if (title.empty())
          title = text.empty() ? "Remove it" : "Change to '" + text + "'";
      }
      json::Object changes;
      changes[p->uri] = std::move(edits);
      out.push_back(json::Object{
          {"title", title},
          {"kind", "quickfix"},
          {"isPreferred", true},
          {"diagnostics", json::Array{diagnostic(p->uri, d)}},
          {"edit", json::Object{{"changes", std::move(changes)}}}});
    }
    return out;
  }

  llvm::Expected<json::Value> inlayHint(const json::Value& params) {
    auto p = parse<DocumentParams>(params);
    if (!p) return p.takeError();
    auto path = docPath(p->uri);
    if (!path) return path.takeError();
    const DocState& st = ensure(*path);
    json::Array out;
    if (!st.index || st.index_version != st.version) return out;
    for (const frontend::Occurrence& o : st.index->occurrences()) {
      const frontend::Symbol& s = st.index->symbols()[o.symbol];
      if (s.kind != frontend::Symbol::Kind::Param || s.env_var.empty())
        continue;
      Range r = toRange(o.span, enc());
      if (p->range && !overlaps(r, *p->range)) continue;
      out.push_back(json::Object{{"position", r.end},
                                 {"label", s.env_var},
                                 {"paddingLeft", true},
                                 {"tooltip",
                                  "the environment variable this "
                                  "hyperparameter becomes"}});
    }
    return out;
  }

 private:
  Server& server_;
  Workspace ws_;
  std::map<std::string, std::string> uris_;
  std::map<std::string, std::uint64_t> published_;
};

Server::Server(ServerOptions options, Send send)
    : options_(std::move(options)), send_(std::move(send)) {
  handlers_ = std::make_unique<Handlers>(*this, options_.session);
  worker_ = std::thread([this] { workerLoop(); });
}

Server::~Server() { stop(); }

void Server::stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (worker_.joinable()) worker_.join();
}

void Server::notify(llvm::StringRef method, json::Value params) {
  send_(json::Object{
      {"jsonrpc", "2.0"}, {"method", method}, {"params", std::move(params)}});
}

void Server::replyError(const json::Value& id, ErrorCode code,
                        llvm::StringRef message) {
  send_(json::Object{
      {"jsonrpc", "2.0"},
      {"id", id},
      {"error", json::Object{{"code", int(code)}, {"message", message}}}});
}

void Server::reply(const json::Value& id, llvm::Expected<json::Value> r) {
  if (!r) {
    ErrorCode code = ErrorCode::InternalError;
    std::string message;
    llvm::handleAllErrors(
        r.takeError(),
        [&](const llvm::StringError& e) {
          message = e.getMessage();
          int c = -e.convertToErrorCode().value();
          if (c < 0) code = ErrorCode(c);
        },
        [&](const llvm::ErrorInfoBase& e) { message = e.message(); });
    replyError(id, code, message);
    return;
  }
  send_(
      json::Object{{"jsonrpc", "2.0"}, {"id", id}, {"result", std::move(*r)}});
}

void Server::enqueue(Task task) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    task.seq = ++seq_;
    if (!task.key.empty())
      for (auto it = tasks_.begin(); it != tasks_.end(); ++it)
        if (it->key == task.key) {
          tasks_.erase(it);
          break;
        }
    tasks_.push_back(std::move(task));
  }
  cv_.notify_all();
}

void Server::scheduleDiagnostics(const std::string& path, bool now) {
  Task t;
  t.key = "diagnostics:" + path;
  t.due = std::chrono::steady_clock::now() +
          std::chrono::milliseconds(now ? 0 : options_.debounce_ms);
  t.run = [this, path] {
    handlers_->ensure(path, Workspace::Need::Diagnostics);
    // The index once the editor has been quiet for a moment, so that an
    // edit never waits for it; a request that needs it sooner builds it.
    Task index;
    index.key = "index:" + path;
    index.due = std::chrono::steady_clock::now() +
                std::chrono::milliseconds(options_.index_delay_ms);
    index.run = [this, path] {
      handlers_->ensure(path, Workspace::Need::IndexIfReady);
    };
    enqueue(std::move(index));
  };
  enqueue(std::move(t));
}

void Server::workerLoop() {
  std::unique_lock<std::mutex> lock(mu_);
  while (true) {
    if (stopping_) return;
    auto now = std::chrono::steady_clock::now();
    auto best = tasks_.end();
    auto next = std::chrono::steady_clock::time_point::max();
    for (auto it = tasks_.begin(); it != tasks_.end(); ++it) {
      if (it->due <= now) {
        if (best == tasks_.end() || it->seq < best->seq) best = it;
      } else {
        next = std::min(next, it->due);
      }
    }
    if (best == tasks_.end()) {
      if (next == std::chrono::steady_clock::time_point::max())
        cv_.wait(lock);
      else
        cv_.wait_until(lock, next);
      continue;
    }
    Task t = std::move(*best);
    tasks_.erase(best);
    lock.unlock();
    t.run();
    lock.lock();
  }
}

bool Server::takeCancelled(const json::Value& id) {
  std::lock_guard<std::mutex> lock(mu_);
  return cancelled_.erase(idKey(id)) > 0;
}

bool Server::handle(llvm::StringRef body) {
  auto parsed = json::parse(body);
  if (!parsed) {
    replyError(nullptr, ErrorCode::ParseError,
               "parse error: " + llvm::toString(parsed.takeError()));
    return true;
  }
  const json::Object* msg = parsed->getAsObject();
  if (!msg) {
    replyError(nullptr, ErrorCode::InvalidRequest,
               "a message must be a JSON object");
    return true;
  }
  const json::Value* id = msg->get("id");
  auto method = msg->getString("method");
  json::Value params =
      msg->get("params") ? *msg->get("params") : json::Value(nullptr);
  if (!method) {
    // A response to a request of ours (none is sent) or garbage.
    if (id && !msg->get("result") && !msg->get("error"))
      replyError(*id, ErrorCode::InvalidRequest, "a request needs a 'method'");
    return true;
  }
  if (id && !(id->kind() == json::Value::Number ||
              id->kind() == json::Value::String)) {
    replyError(nullptr, ErrorCode::InvalidRequest,
               "a request id must be a number or a string");
    return true;
  }
  if (*method == "exit") return false;
  if (id)
    request(*method, *id, params);
  else
    notification(*method, params);
  return true;
}

void Server::request(llvm::StringRef method, const json::Value& id,
                     const json::Value& params) {
  if (method == "initialize") {
    if (initialized_) {
      replyError(id, ErrorCode::InvalidRequest, "initialize was already sent");
      return;
    }
    initialized_ = true;
    const json::Object* p = params.getAsObject();
    const json::Object* caps = p ? p->getObject("capabilities") : nullptr;
    const json::Object* general = caps ? caps->getObject("general") : nullptr;
    if (const json::Array* encs =
            general ? general->getArray("positionEncodings") : nullptr)
      for (const json::Value& e : *encs)
        if (e.getAsString() == llvm::StringRef("utf-8"))
          encoding_ = Encoding::Utf8;
    auto addRoot = [&](llvm::StringRef uri_or_path) {
      std::optional<std::string> path = pathFromUri(uri_or_path);
      if (!path && llvm::sys::path::is_absolute(uri_or_path))
        path = uri_or_path.str();
      if (path && llvm::sys::fs::is_directory(*path))
        options_.roots.push_back(*path);
    };
    if (p) {
      if (const json::Array* folders = p->getArray("workspaceFolders"))
        for (const json::Value& f : *folders)
          if (const json::Object* o = f.getAsObject())
            if (auto uri = o->getString("uri")) addRoot(*uri);
      if (options_.roots.empty()) {
        if (auto uri = p->getString("rootUri"))
          addRoot(*uri);
        else if (auto root = p->getString("rootPath"))
          addRoot(*root);
      }
    }
    if (p)
      if (const json::Object* init = p->getObject("initializationOptions"))
        if (auto d = init->getInteger("debounceMs"); d && *d >= 0 && *d < 10000)
          options_.debounce_ms = unsigned(*d);
    json::Object capabilities{
        {"positionEncoding", encoding_ == Encoding::Utf8 ? "utf-8" : "utf-16"},
        {"textDocumentSync",
         json::Object{{"openClose", true}, {"change", 2}, {"save", true}}},
        {"hoverProvider", true},
        {"completionProvider",
         json::Object{
             {"triggerCharacters", json::Array{".", "{", "<", "(", ","}},
             {"resolveProvider", false}}},
        {"definitionProvider", true},
        {"referencesProvider", true},
        {"documentSymbolProvider", true},
        {"renameProvider", json::Object{{"prepareProvider", true}}},
        {"documentFormattingProvider", true},
        {"codeActionProvider",
         json::Object{{"codeActionKinds", json::Array{"quickfix"}}}},
        {"inlayHintProvider", true},
    };
    reply(id, json::Value(json::Object{
                  {"capabilities", std::move(capabilities)},
                  {"serverInfo", json::Object{{"name", "pipec"}}}}));
    return;
  }
  if (!initialized_) {
    replyError(id, ErrorCode::ServerNotInitialized,
               "the first request must be 'initialize'");
    return;
  }
  if (shutdown_) {
    replyError(id, ErrorCode::InvalidRequest,
               "the server is shut down: only 'exit' is accepted");
    return;
  }
  using Fn = llvm::Expected<json::Value> (Handlers::*)(const json::Value&);
  static const std::map<std::string, Fn> table = {
      {"textDocument/hover", &Handlers::hover},
      {"textDocument/definition", &Handlers::definition},
      {"textDocument/references", &Handlers::references},
      {"textDocument/completion", &Handlers::completion},
      {"textDocument/documentSymbol", &Handlers::documentSymbol},
      {"textDocument/prepareRename", &Handlers::prepareRename},
      {"textDocument/rename", &Handlers::rename},
      {"textDocument/formatting", &Handlers::formatting},
      {"textDocument/codeAction", &Handlers::codeAction},
      {"textDocument/inlayHint", &Handlers::inlayHint},
  };
  Fn fn = nullptr;
  if (method == "shutdown") {
    shutdown_ = true;
  } else {
    auto it = table.find(method.str());
    if (it == table.end()) {
      replyError(id, ErrorCode::MethodNotFound,
                 "method not found: " + method.str());
      return;
    }
    fn = it->second;
  }
  Task t;
  t.due = std::chrono::steady_clock::now();
  t.run = [this, id = json::Value(id), params = json::Value(params), fn] {
    if (takeCancelled(id)) {
      replyError(id, ErrorCode::RequestCancelled, "request cancelled");
      return;
    }
    if (!fn) {
      reply(id, json::Value(nullptr));
      return;
    }
    reply(id, (handlers_.get()->*fn)(params));
    takeCancelled(id);
  };
  enqueue(std::move(t));
}

void Server::notification(llvm::StringRef method, const json::Value& params) {
  if (method == "$/cancelRequest") {
    if (const json::Object* p = params.getAsObject())
      if (const json::Value* id = p->get("id")) {
        std::lock_guard<std::mutex> lock(mu_);
        cancelled_.insert(idKey(*id));
      }
    return;
  }
  if (!initialized_ || shutdown_) return;
  Task t;
  t.due = std::chrono::steady_clock::now();
  json::Value copy = params;
  if (method == "textDocument/didOpen") {
    t.run = [this, copy] {
      const json::Object* o = copy.getAsObject();
      TextDocumentItem d;
      json::Path::Root root;
      if (o && o->get("textDocument") &&
          fromJSON(*o->get("textDocument"), d, root))
        handlers_->open(d);
    };
  } else if (method == "textDocument/didChange") {
    t.run = [this, copy] {
      DidChangeParams p;
      json::Path::Root root;
      if (fromJSON(copy, p, root)) handlers_->change(p);
    };
  } else if (method == "textDocument/didClose") {
    t.run = [this, copy] {
      DocumentParams p;
      json::Path::Root root;
      if (fromJSON(copy, p, root)) handlers_->close(p.uri);
    };
  } else if (method == "workspace/didChangeWatchedFiles") {
    t.run = [this, copy] {
      const json::Object* o = copy.getAsObject();
      const json::Array* changes = o ? o->getArray("changes") : nullptr;
      if (!changes) return;
      for (const json::Value& c : *changes)
        if (const json::Object* co = c.getAsObject())
          if (auto uri = co->getString("uri"))
            handlers_->changedOnDisk(uri->str());
    };
  } else {
    return;  // initialized, didSave, $/setTrace, ...: nothing to do
  }
  enqueue(std::move(t));
}

}  // namespace pipec::lsp
