// Completion proposals at a cursor, and `pipec fmt` on a buffer.
#include <algorithm>
#include <cctype>
#include <set>

#include "frontend/dsl/dsl_loader.h"
#include "frontend/index.h"
#include "frontend/yaml_loader.h"
#include "ir/settings.h"
#include "llvm/ADT/SmallString.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"

namespace pipec::frontend {

namespace {

using Kind = Completion::Kind;

constexpr llvm::StringRef kPipeKeywords[] = {"import",
                                             "as",
                                             "component",
                                             "pipeline",
                                             "parallel",
                                             "in",
                                             "out",
                                             "param",
                                             "over",
                                             "with",
                                             "true",
                                             "false",
                                             "version",
                                             "description",
                                             "display_name",
                                             "job",
                                             "image",
                                             "code",
                                             "command",
                                             "entry_script",
                                             "input_data",
                                             "append_row_to",
                                             "program_arguments",
                                             "retry"};

bool isWordChar(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-';
}

class Completer {
 public:
  Completer(const SymbolIndex& index, llvm::StringRef path,
            llvm::StringRef text, std::size_t offset)
      : index_(index),
        path_(path),
        text_(text),
        offset_(std::min(offset, text.size())) {
    llvm::StringRef ext = llvm::sys::path::extension(path);
    pipe_ = ext == ".pipe";
    line_start_ = text_.rfind('\n', offset_ ? offset_ - 1 : 0);
    line_start_ = (line_start_ == llvm::StringRef::npos || offset_ == 0)
                      ? 0
                      : line_start_ + 1;
    if (offset_ > 0 && text_[offset_ - 1] == '\n') line_start_ = offset_;
    line_ = unsigned(text_.take_front(offset_).count('\n'));
    here_ = index_.componentAt(line_);
  }

  std::vector<Completion> run() {
    if (binding()) return std::move(out_);
    if (pipe_)
      pipe();
    else
      yaml();
    return std::move(out_);
  }

 private:
  void add(Kind k, std::string label, std::string detail = "",
           std::string doc = "") {
    if (!seen_.insert(label).second) return;
    out_.push_back({k, std::move(label), std::move(detail), std::move(doc)});
  }
  void addSymbol(std::size_t id, Kind k) {
    const Symbol& s = index_.symbols()[id];
    std::string doc = s.description;
    if (!s.env_var.empty())
      doc += (doc.empty() ? "" : "\n\n") + ("`" + s.env_var + "`");
    add(k, s.name, s.signature, doc);
  }
  const ComponentSummary* summary(std::size_t i) const {
    return i == SymbolIndex::npos ? nullptr : &index_.components()[i];
  }
  const ComponentSummary* stepComponent(const ComponentSummary& pipe,
                                        llvm::StringRef step) const {
    for (const auto& [name, c] : pipe.steps)
      if (name == step) return summary(c);
    return nullptr;
  }
  void inputsOf(const ComponentSummary& c) {
    for (std::size_t id : c.inputs) addSymbol(id, Kind::Input);
    for (std::size_t id : c.params) addSymbol(id, Kind::Param);
  }
  void outputsOf(const ComponentSummary& c) {
    for (std::size_t id : c.outputs) addSymbol(id, Kind::Output);
  }

  /// Inside `$<<` or `${{` on the cursor's line: the binding path.
  bool binding() {
    llvm::StringRef line = text_.slice(line_start_, offset_);
    std::size_t a = line.rfind("$<<"), b = line.rfind("${{");
    std::size_t open = a == llvm::StringRef::npos   ? b
                       : b == llvm::StringRef::npos ? a
                                                    : std::max(a, b);
    if (open == llvm::StringRef::npos) return false;
    llvm::StringRef inside = line.drop_front(open + 3);
    if (inside.contains(">>") || inside.contains("}}")) return false;
    llvm::SmallVector<llvm::StringRef, 6> parts;
    inside.trim().split(parts, '.');
    parts.pop_back();  // the word being typed
    const ComponentSummary* c = summary(here_);
    bool azure = open == b;
    if (parts.empty()) {
      if (c && c->pipeline) add(Kind::Section, "parent");
      add(Kind::Section, "inputs");
      add(Kind::Section, "outputs");
      if (!azure) add(Kind::Section, "parameters");
      return true;
    }
    if (!c) return true;
    if (parts[0] == "parent") {
      if (parts.size() == 1) {
        for (const char* s : {"inputs", "outputs", "jobs"})
          add(Kind::Section, s);
      } else if (parts[1] == "inputs" && parts.size() == 2) {
        inputsOf(*c);
      } else if (parts[1] == "outputs" && parts.size() == 2) {
        outputsOf(*c);
      } else if (parts[1] == "jobs") {
        if (parts.size() == 2) {
          for (const auto& [name, comp] : c->steps)
            add(Kind::Step, name,
                summary(comp) ? "step " + name + " = " + summary(comp)->name
                              : "step " + name);
        } else if (parts.size() == 3) {
          add(Kind::Section, "outputs");
          add(Kind::Section, "inputs");
        } else if (const ComponentSummary* s = stepComponent(*c, parts[2])) {
          if (parts[3] == "outputs") outputsOf(*s);
          if (parts[3] == "inputs") inputsOf(*s);
        }
      }
      return true;
    }
    if (parts.size() == 1) {
      if (parts[0] == "inputs") {
        for (std::size_t id : c->inputs) addSymbol(id, Kind::Input);
        if (azure) {
          for (std::size_t id : c->params) addSymbol(id, Kind::Param);
        }
      }
      if (parts[0] == "parameters")
        for (std::size_t id : c->params) addSymbol(id, Kind::Param);
      if (parts[0] == "outputs") outputsOf(*c);
    }
    return true;
  }

  // --- .pipe
  void pipe() {
    // The word before the cursor, and what precedes it.
    std::size_t w = offset_;
    while (w > line_start_ && (isWordChar(text_[w - 1]))) --w;
    if (w > line_start_ && text_[w - 1] == '.') {
      std::size_t s = w - 1;
      while (s > line_start_ && isWordChar(text_[s - 1])) --s;
      llvm::StringRef step = text_.slice(s, w - 1);
      if (const ComponentSummary* c = summary(here_))
        if (const ComponentSummary* sc = stepComponent(*c, step))
          outputsOf(*sc);
      return;
    }
    if (call(w)) return;
    const ComponentSummary* c = summary(here_);
    if (c && c->pipeline) {
      for (const auto& [name, comp] : c->steps)
        add(Kind::Step, name, "step " + name);
      inputsOf(*c);
    }
    for (const ComponentSummary& s : index_.components())
      if (!s.name.empty() && !s.pipeline)
        add(Kind::Component, s.name, "component " + s.name);
    for (llvm::StringRef k : kPipeKeywords) add(Kind::Keyword, k.str());
    // Every job setting: a .pipe file writes each as a key of its section.
    for (const ir::SettingInfo& s : ir::allSettings())
      add(Kind::Key, s.name.str(), ir::settingNeeds(s));
  }

  /// Inside the parentheses of a call `NAME(`: argument names, or values.
  bool call(std::size_t word) {
    int depth = 0;
    std::size_t i = word;
    std::size_t limit = word > 8192 ? word - 8192 : 0;
    bool found = false;
    while (i > limit) {
      char ch = text_[--i];
      if (ch == ')') {
        ++depth;
      } else if (ch == '(') {
        if (depth == 0) {
          found = true;
          break;
        }
        --depth;
      } else if (ch == '{' || ch == '}') {
        return false;
      }
    }
    if (!found) return false;
    std::size_t e = i;
    while (e > 0 && text_[e - 1] == ' ') --e;
    std::size_t s = e;
    while (s > 0 && (isWordChar(text_[s - 1]) || text_[s - 1] == '.')) --s;
    llvm::StringRef callee = text_.slice(s, e);
    callee =
        callee.rsplit('.').second.empty() ? callee : callee.rsplit('.').second;
    const ComponentSummary* target = summary(index_.component(callee));
    if (!target) return false;
    // Argument name or value: a ':' since the last ',' or '('.
    llvm::StringRef args = text_.slice(i + 1, word);
    std::size_t comma = args.rfind(',');
    llvm::StringRef current =
        comma == llvm::StringRef::npos ? args : args.drop_front(comma + 1);
    if (current.contains(':')) {
      llvm::StringRef arg = current.split(':').first.trim();
      for (std::size_t id : target->params) {
        const Symbol& p = index_.symbols()[id];
        if (p.name != arg) continue;
        for (const std::string& v : p.enum_values)
          add(Kind::Value, v, p.signature);
      }
      if (const ComponentSummary* c = summary(here_)) {
        for (const auto& [name, comp] : c->steps)
          add(Kind::Step, name, "step " + name);
        inputsOf(*c);
      }
      return true;
    }
    std::set<std::string> given;
    llvm::SmallVector<llvm::StringRef, 8> written;
    args.split(written, ',');
    for (llvm::StringRef a : written)
      if (a.contains(':')) given.insert(a.split(':').first.trim().str());
    for (std::size_t id : target->inputs)
      if (!given.count(index_.symbols()[id].name)) addSymbol(id, Kind::Input);
    for (std::size_t id : target->params)
      if (!given.count(index_.symbols()[id].name)) addSymbol(id, Kind::Param);
    return true;
  }

  // --- YAML
  static unsigned indentOf(llvm::StringRef line) {
    unsigned n = 0;
    while (n < line.size() && (line[n] == ' ' || line[n] == '-')) ++n;
    return n;
  }

  /// The keys of the mappings that hold the cursor, outermost first.
  std::vector<std::string> keyPath(unsigned indent) const {
    std::vector<std::string> path;
    std::size_t end = line_start_;
    while (end > 0 && indent > 0) {
      std::size_t start = text_.rfind('\n', end - 1);
      start = start == llvm::StringRef::npos ? 0 : start + 1;
      llvm::StringRef line = text_.slice(start, end - 1);
      end = start;
      llvm::StringRef body = line.ltrim(" -");
      if (body.empty() || body.startswith("#")) continue;
      unsigned in = indentOf(line);
      if (in >= indent) continue;
      std::size_t colon = body.find(':');
      if (colon == llvm::StringRef::npos) continue;
      path.insert(path.begin(), body.take_front(colon).trim().str());
      indent = in;
      if (start == 0) break;
    }
    return path;
  }

  // A section's keys; a setting's detail says what value it takes.
  void keys(YamlSection s) {
    std::optional<ir::SettingSection> settings = settingSection(s);
    for (llvm::StringRef k : yamlKeys(s)) {
      const ir::SettingInfo* info =
          settings ? ir::findSettingKey(k, *settings, true) : nullptr;
      add(Kind::Key, k.str(), info ? ir::settingNeeds(*info) : "");
    }
  }

  void yaml() {
    llvm::StringRef line = text_.slice(line_start_, offset_);
    unsigned indent = indentOf(line);
    std::vector<std::string> path = keyPath(indent);
    llvm::StringRef body = line.ltrim(" -");
    const ComponentSummary* c = summary(here_);
    std::size_t colon = body.find(':');
    if (colon != llvm::StringRef::npos) {
      std::string key = body.take_front(colon).trim().str();
      // A job's component: the component files beside this one.
      if (key == "component" && path.size() == 2 && path[0] == "jobs")
        return componentFiles();
      // A value: enum values of the parameter bound here.
      if (path.size() == 3 && path[0] == "jobs" && path[2] == "inputs" && c)
        if (const ComponentSummary* sc = stepComponent(*c, path[1]))
          for (std::size_t id : sc->params) {
            const Symbol& p = index_.symbols()[id];
            if (p.name == key)
              for (const std::string& v : p.enum_values)
                add(Kind::Value, v, p.signature);
          }
      return;
    }
    std::size_t n = path.size();
    auto last = [&](std::size_t k) -> llvm::StringRef {
      return n >= k ? llvm::StringRef(path[n - k]) : "";
    };
    if (n == 0) return keys(YamlSection::Component);
    if (n == 2 && path[0] == "jobs") return keys(YamlSection::Job);
    if (n == 3 && path[0] == "jobs" && c) {
      const ComponentSummary* sc = stepComponent(*c, path[1]);
      if (path[2] == "inputs" && sc) return inputsOf(*sc);
      if (path[2] == "outputs" && sc) return outputsOf(*sc);
    }
    if (n == 4 && path[0] == "jobs" && path[2] == "inputs")
      return keys(YamlSection::JobInput);
    if (n == 4 && path[0] == "jobs" && path[2] == "outputs")
      return keys(YamlSection::JobOutput);
    if (n == 2 && (path[0] == "inputs" || path[0] == "parameters"))
      return keys(YamlSection::Input);
    if (n == 2 && path[0] == "outputs") return keys(YamlSection::Output);
    if (last(1) == "resources") return keys(YamlSection::Resources);
    if (last(1) == "distribution") return keys(YamlSection::Distribution);
    if (last(1) == "retry_settings") return keys(YamlSection::Retry);
    if (last(1) == "task") return keys(YamlSection::Task);
  }

  /// Component YAML files under this file's folder (a few levels down, at
  /// most kMaxEntries directory entries looked at), as `./relative/path`.
  void componentFiles() {
    constexpr unsigned kMaxDepth = 3, kMaxEntries = 2000;
    llvm::SmallString<256> self(path_);
    llvm::sys::path::remove_dots(self, true);
    llvm::StringRef dir = llvm::sys::path::parent_path(self);
    if (dir.empty()) return;
    std::vector<std::pair<std::string, std::string>> found;  // path, detail
    forEachSourceFile(
        dir, kMaxDepth, kMaxEntries, false, [&](llvm::StringRef p) {
          if (p == self) return;
          std::string name, version;
          if (!peekComponentId(p, name, version)) return;
          std::string rel = "./" + p.drop_front(dir.size() + 1).str();
          found.emplace_back(
              std::move(rel),
              "component " + name +
                  (version.empty() ? "" : " (version " + version + ")"));
        });
    std::sort(found.begin(), found.end());
    for (auto& [rel, detail] : found)
      add(Kind::Component, std::move(rel), std::move(detail));
  }

  const SymbolIndex& index_;
  llvm::StringRef path_;
  llvm::StringRef text_;
  std::size_t offset_;
  std::size_t line_start_ = 0;
  unsigned line_ = 0;
  std::size_t here_ = SymbolIndex::npos;
  bool pipe_ = false;
  std::vector<Completion> out_;
  std::set<std::string> seen_;
};

}  // namespace

std::vector<Completion> complete(const SymbolIndex& index, llvm::StringRef path,
                                 llvm::StringRef text, std::size_t offset) {
  return Completer(index, path, text, offset).run();
}

void forEachSourceFile(llvm::StringRef root, unsigned max_depth,
                       unsigned max_entries, bool with_pipe,
                       llvm::function_ref<void(llvm::StringRef)> on_file) {
  std::error_code ec;
  unsigned seen = 0;
  for (llvm::sys::fs::recursive_directory_iterator it(root, ec), end;
       it != end && !ec && ++seen <= max_entries; it.increment(ec)) {
    llvm::StringRef p = it->path();
    llvm::StringRef base = llvm::sys::path::filename(p);
    bool hidden = base.startswith(".") || base == "node_modules";
    if (it->type() == llvm::sys::fs::file_type::directory_file) {
      if (hidden || it.level() + 1 >= int(max_depth)) it.no_push();
      continue;
    }
    if (!hidden && (p.endswith(".yaml") || p.endswith(".yml") ||
                    (with_pipe && p.endswith(".pipe"))))
      on_file(p);
  }
}

std::optional<std::string> formatPipeText(llvm::StringRef text) {
  llvm::SourceMgr sm;
  unsigned id = sm.AddNewSourceBuffer(
      llvm::MemoryBuffer::getMemBufferCopy(text, "<buffer>"), llvm::SMLoc());
  ir::StoringDiagnosticConsumer quiet;
  ir::DiagnosticEngine diags(sm, quiet);
  std::string out;
  if (!formatDslBuffer(sm, id, diags, out)) return std::nullopt;
  return out;
}

}  // namespace pipec::frontend
