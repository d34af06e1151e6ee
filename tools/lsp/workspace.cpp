// Documents over one Session: checks, diagnostics in editor coordinates.
#include "tools/lsp/workspace.h"

namespace pipec::lsp {

namespace {

using frontend::spanOf;

DocDiagnostic convert(const frontend::CheckResult& r, const ir::Diagnostic& d,
                      const std::string& path) {
  DocDiagnostic out;
  out.severity = d.severity;
  out.code = d.code();
  out.message = d.message;
  if (auto s = spanOf(r, d.range); s && s->path == path) {
    out.span = *s;
  } else {
    out.span.path = path;
    if (!d.origin.empty()) out.message = d.origin + ": " + out.message;
  }
  for (const ir::DiagNote& n : d.notes) {
    if (auto s = spanOf(r, n.range))
      out.related.push_back({*s, n.message});
    else
      out.notes.push_back(n.message);
  }
  for (const ir::DiagFixIt& f : d.fixits)
    if (auto s = spanOf(r, f.range); s && s->path == path)
      out.fixits.push_back({*s, f.replacement});
  return out;
}

}  // namespace

namespace {
frontend::SessionOptions reusing(frontend::SessionOptions o) {
  // An edit reads only the declarations it changed again.
  o.reuse_declarations = true;
  return o;
}
}  // namespace

Workspace::Workspace(frontend::SessionOptions options)
    : session_(reusing(std::move(options))) {}

void Workspace::setText(const std::string& path, std::string text,
                        std::int64_t version) {
  Doc& d = docs_[path];
  if (d.text == text && d.version != 0) {
    d.version = version;
    if (auto it = states_.find(path); it != states_.end())
      it->second.version = version;
    return;
  }
  d.text = text;
  d.version = version;
  ++edits_;
  session_.update(path, std::move(text));
  for (auto& [p, s] : states_)
    if (p != path && s.reads.count(path)) s.version = -1;
}

void Workspace::close(const std::string& path) {
  ++edits_;
  docs_.erase(path);
  states_.erase(path);
  session_.removeOverlay(path);
  for (auto& [p, s] : states_)
    if (s.reads.count(path)) s.version = -1;
}

void Workspace::changedOnDisk(const std::string& path) {
  ++edits_;
  if (!docs_.count(path)) session_.invalidate(path);
  for (auto& [p, s] : states_)
    if (s.reads.count(path)) s.version = -1;
}

const DocState& Workspace::check(const std::string& path, std::string* error,
                                 Need need) {
  DocState& st = states_[path];
  auto doc = docs_.find(path);
  std::int64_t version = doc == docs_.end() ? 0 : doc->second.version;
  if (st.version == version && st.version >= 0) {
    if (!st.unindexed || need == Need::Diagnostics) return st;
    if (st.unindexed_edits == edits_) {
      // The Session is as the check left it: the index can be built from it.
      st.index = std::make_shared<frontend::SymbolIndex>(
          frontend::SymbolIndex::build(session_, *st.unindexed, path));
      st.index_version = st.version;
      st.unindexed.reset();
      return st;
    }
    if (need == Need::IndexIfReady) return st;
  }
  auto result = session_.check(path);
  st.version = version;
  ++st.checks;
  if (!result) {
    std::string e = llvm::toString(result.takeError());
    if (error) *error = e;
    return st;
  }
  st.diagnostics.clear();
  st.reads.clear();
  for (const frontend::FileDiagnostics& f : result->files)
    st.reads.insert(f.path);
  if (const frontend::FileDiagnostics* f = result->file(path))
    for (const ir::Diagnostic& d : f->diagnostics)
      st.diagnostics.push_back(convert(*result, d, path));
  st.unindexed.reset();
  if (!result->module) return st;
  if (need == Need::Diagnostics) {
    st.unindexed =
        std::make_shared<const frontend::CheckResult>(std::move(*result));
    st.unindexed_edits = edits_;
    return st;
  }
  st.index_version = version;
  st.index = std::make_shared<frontend::SymbolIndex>(
      frontend::SymbolIndex::build(session_, *result, path));
  return st;
}

const DocState* Workspace::state(const std::string& path) const {
  auto it = states_.find(path);
  return it == states_.end() ? nullptr : &it->second;
}

const std::string& Workspace::text(const std::string& path) const {
  static const std::string empty;
  auto it = docs_.find(path);
  return it == docs_.end() ? empty : it->second.text;
}

std::vector<std::string> Workspace::dependents(const std::string& path) const {
  std::vector<std::string> out;
  for (const auto& [p, s] : states_)
    if (p != path && docs_.count(p) && s.reads.count(path)) out.push_back(p);
  return out;
}

std::vector<std::string> Workspace::open() const {
  std::vector<std::string> out;
  for (const auto& [p, d] : docs_) out.push_back(p);
  return out;
}

}  // namespace pipec::lsp
