// The shell backend: each leaf step lowered once (lowering/), written as a
// function of a POSIX script that lays out the step's folder and starts its
// processes; the prelude and the scheduler are fixed text (prelude.h).
#include "backends/sh/script.h"

#include <algorithm>
#include <array>
#include <cstdio>
#include <cstring>
#include <map>
#include <memory>
#include <string_view>
#include <utility>

#include "backends/sh/prelude.h"
#include "ir/mangle.h"
#include "ir/settings.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/JSON.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"
#include "lowering/shell.h"
#include "lowering/step.h"
#include "lowering/topology.h"

namespace pipec::backends::sh {

namespace {

namespace diag = ir::diag;

/// Stands for the run folder in lowered paths; the script writes
/// "$pipec_r" in its place.
const char kRun[] = "\x01PIPEC_RUN\x01";
/// Stands for the step's own folder in what a command step lowers to, so
/// that the steps of one component lower to the same paths; the script
/// writes "$pipec_d" in its place.
const char kStep[] = "\x01PIPEC_DIR\x01";
/// kStep as JSON text writes it.
const char kStepJson[] = "\\u0001PIPEC_DIR\\u0001";
/// The first of the ports that stand for the ones the script picks.
constexpr std::uint16_t kPortBase = 61001;

/// The text of a step: appends inline into one buffer that only grows, so
/// that the many short pieces of a step cost a copy each, not a call.
class Buf {
 public:
  Buf() { grow(1 << 14); }
  [[gnu::always_inline]] void append(const char* s, std::size_t n) {
    if (n > std::size_t(end_ - p_)) grow(n);
    std::memcpy(p_, s, n);
    p_ += n;
  }
  Buf& operator+=(char c) {
    if (p_ == end_) grow(1);
    *p_++ = c;
    return *this;
  }
  Buf& operator+=(llvm::StringRef s) {
    append(s.data(), s.size());
    return *this;
  }
  /// A literal: a copy of a known size.
  template <std::size_t N>
  [[gnu::always_inline]] Buf& operator+=(const char (&s)[N]) {
    append(s, N - 1);
    return *this;
  }
  const char* data() const { return buf_.get(); }
  std::size_t size() const { return p_ - buf_.get(); }
  void clear() { p_ = buf_.get(); }

 private:
  void grow(std::size_t n) {
    std::size_t used = size(), cap = end_ - buf_.get();
    std::size_t want = std::max(used + n, cap * 2);
    std::unique_ptr<char[]> b(new char[want]);
    if (used) std::memcpy(b.get(), buf_.get(), used);
    buf_ = std::move(b);
    p_ = buf_.get() + used;
    end_ = buf_.get() + want;
  }
  std::unique_ptr<char[]> buf_;
  char* p_ = nullptr;
  char* end_ = nullptr;
};

template <typename Out>
void quoted(Out& out, llvm::StringRef s) {
  lowering::appendShellQuotedTo(out, s);
}

/// What a sentinel in a lowered string stands for in the script.
struct Sub {
  std::string from;
  std::string to;  ///< shell text: a quoted expansion
};

/// Appends a shell word whose value is `s`, each occurrence of a `subs`
/// sentinel replaced by its expansion (at one place, the first of `subs`
/// that matches); everything else single-quoted.
template <typename Out>
void word(Out& out, llvm::StringRef s, llvm::ArrayRef<Sub> subs) {
  bool empty = true;
  while (!s.empty()) {
    std::size_t at = llvm::StringRef::npos;
    const Sub* hit = nullptr;
    for (const Sub& sub : subs) {
      // std::string_view's find: memchr for the first byte, then memcmp.
      std::size_t p = std::string_view(s.data(), s.size()).find(sub.from);
      if (p < at) {
        at = p;
        hit = &sub;
      }
    }
    llvm::StringRef lit = s.substr(0, at);
    if (!lit.empty()) {
      quoted(out, lit);
      empty = false;
    }
    if (!hit) break;
    out += llvm::StringRef(hit->to);
    empty = false;
    s = s.drop_front(at + hit->from.size());
  }
  if (empty) out += "''";
}

/// The run-folder substitution only.
const std::vector<Sub>& runSubs() {
  static const std::vector<Sub> subs{{kRun, "\"$pipec_r\""}};
  return subs;
}

std::string w(llvm::StringRef s) {
  std::string out;
  word(out, s, runSubs());
  return out;
}

/// A shell word for `add()`: the value of `s`, with the substitutions of
/// the step being written (the step's folder, the run folder).
struct W {
  llvm::StringRef s;
};
/// A shell word for `add()` from JSON text, where the sentinels are
/// escaped: the step's folder becomes "$pipec_dj", the run's "$pipec_rj".
struct J {
  llvm::StringRef s;
};

/// The sentinels of one kind of text (lowered values, or JSON text), and
/// their expansions.
struct Marks {
  char first;        ///< the first byte of both sentinels
  std::string step;  ///< the step's folder and a '/'; empty: not used
  std::string run;   ///< the run folder
  llvm::StringRef step_to, run_to;
};

/// The substitutions in the words of one step.
struct Subs {
  Marks words{'\x01', "", kRun, "\"$pipec_d\"/", "\"$pipec_r\""};
  Marks json{'\\', "", "\\u0001PIPEC_RUN\\u0001", "\"$pipec_dj\"/",
             "\"$pipec_rj\""};
};

/// word() for the two sentinels of `m`: a scan for their first byte.
void word(Buf& out, llvm::StringRef s, const Marks& m) {
  bool empty = true;
  std::size_t from = 0;  // where the literal text not yet written starts
  std::size_t at = 0;
  while (at < s.size()) {
    const void* hit = std::memchr(s.data() + at, m.first, s.size() - at);
    if (!hit) break;
    at = static_cast<const char*>(hit) - s.data();
    llvm::StringRef rest = s.substr(at);
    llvm::StringRef to;
    std::size_t len = 0;
    if (!m.step.empty() && rest.startswith(m.step)) {
      to = m.step_to;
      len = m.step.size();
    } else if (rest.startswith(m.run)) {
      to = m.run_to;
      len = m.run.size();
    } else {
      ++at;
      continue;
    }
    if (at > from) quoted(out, s.slice(from, at));
    out.append(to.data(), to.size());
    empty = false;
    at += len;
    from = at;
  }
  if (from < s.size()) {
    quoted(out, s.substr(from));
    empty = false;
  }
  if (empty) out += "''";
}

/// Appends each piece to `o`: text as it is, W and J pieces as words.
inline void add(Buf&, const Subs&) {}
template <typename... Rest>
void add(Buf& o, const Subs& subs, llvm::StringRef text, const Rest&... rest);
template <std::size_t N, typename... Rest>
void add(Buf& o, const Subs& subs, const char (&text)[N], const Rest&... rest);
template <typename... Rest>
void add(Buf& o, const Subs& subs, W word_of, const Rest&... rest) {
  word(o, word_of.s, subs.words);
  add(o, subs, rest...);
}
template <typename... Rest>
void add(Buf& o, const Subs& subs, J json_of, const Rest&... rest) {
  word(o, json_of.s, subs.json);
  add(o, subs, rest...);
}
template <typename... Rest>
void add(Buf& o, const Subs& subs, llvm::StringRef text, const Rest&... rest) {
  o.append(text.data(), text.size());
  add(o, subs, rest...);
}
template <std::size_t N, typename... Rest>
void add(Buf& o, const Subs& subs, const char (&text)[N], const Rest&... rest) {
  o.append(text, N - 1);
  add(o, subs, rest...);
}

/// Whether `s` holds the run folder's or a step folder's sentinel (a
/// lowered path): a memchr for their first byte, then a compare where it is
/// found.
bool holdsSentinel(llvm::StringRef s) {
  const char* p = s.data();
  const char* e = p + s.size();
  constexpr std::size_t n = sizeof kRun - 1;
  static_assert(sizeof kStep - 1 == n, "the sentinels are one length");
  while (const void* h = std::memchr(p, kRun[0], e - p)) {
    p = static_cast<const char*>(h);
    if (std::size_t(e - p) < n) return false;
    if (std::memcmp(p, kRun, n) == 0 || std::memcmp(p, kStep, n) == 0)
      return true;
    ++p;
  }
  return false;
}

/// Whether `v`, a value of a step's environment, holds the sentinels' byte
/// only as a lowered path does: one sentinel at its start. A value from a
/// user that holds it anywhere, a sentinel's text included, is refused
/// rather than rewritten.
bool sentinelOnlyAtStart(llvm::StringRef v) {
  if (v.startswith(kRun) || v.startswith(kStep))
    v = v.drop_front(sizeof kRun - 1);
  return !v.contains('\x01');
}

/// The bytes of an environment variable's name: letters, digits, '_'.
constexpr std::array<bool, 256> kNameByte = [] {
  std::array<bool, 256> t{};
  for (int c = 0; c < 256; ++c)
    t[c] = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
           (c >= '0' && c <= '9') || c == '_';
  return t;
}();

bool validName(llvm::StringRef n) {
  if (n.empty() || llvm::isDigit(n[0])) return false;
  return llvm::all_of(
      n, [](char c) { return kNameByte[static_cast<unsigned char>(c)]; });
}

/// FNV-1a of `s` as 16 hex digits: the virtual environment's folder.
std::string hashName(llvm::StringRef s) {
  std::uint64_t h = 14695981039346656037ull;
  for (char c : s) {
    h ^= std::uint8_t(c);
    h *= 1099511628211ull;
  }
  char hex[17];
  std::snprintf(hex, sizeof hex, "%016llx", static_cast<unsigned long long>(h));
  return hex;
}

/// A step's name as it stands in JSON text: unchanged, or nullopt when
/// JSON escapes some of it.
bool plainInJson(llvm::StringRef name) {
  return llvm::all_of(name, [](char c) {
    return std::uint8_t(c) >= 0x20 && std::uint8_t(c) < 0x7f && c != '"' &&
           c != '\\';
  });
}

class Writer {
 public:
  Writer(const ir::Component& root, const ir::FlatPipeline& flat,
         ir::DiagnosticEngine& diags, llvm::raw_ostream& os)
      : root_(root), flat_(flat), diags_(diags), os_(os) {}

  bool write(const ScriptOptions& opts);

 private:
  bool check(const lowering::LoweredStep& s);
  void step(std::size_t index, lowering::LoweredStep& s);
  void layout(const lowering::LoweredStep& s);
  void processes(lowering::LoweredStep& s, const std::string& venv);
  std::string parallelSpec(const lowering::LoweredStep& s,
                           const std::string& dir, const std::string& venv);
  /// Writes out what `o_` holds and empties it.
  void flush() {
    os_.write(o_.data(), o_.size());
    o_.clear();
  }

  const ir::Component& root_;
  const ir::FlatPipeline& flat_;
  ir::DiagnosticEngine& diags_;
  llvm::raw_ostream& os_;
  /// The text of the step being written (its capacity is reused).
  Buf o_;
  Subs subs_;
  /// The step's PAI_HPS and hyperparameters.json are one value, "$pipec_h".
  bool hps_ = false;
  /// The step being written was lowered with kStep for its folder (a
  /// command step whose name JSON writes as it is), not with the run folder
  /// and its name.
  bool step_root_ = false;
  bool parallel_ = false;
  /// The virtual environment of each local code folder ("": none).
  std::map<std::string, std::string> venvs_;
};

bool Writer::check(const lowering::LoweredStep& s) {
  bool ok = true;
  if (s.job_type == ir::JobType::ElasticBatch) {
    diags_.report(s.range, diag::ShElasticBatch, s.name);
    ok = false;
  }
  for (const lowering::InputData& in : s.inputs) {
    const ir::DataSource& d = in.source;
    llvm::SMRange at = d.range.isValid() ? d.range : s.range;
    if (d.kind == ir::DataSource::Kind::Path && !d.is_uri &&
        llvm::StringRef(d.path).contains('\x01')) {
      // The script would take it for a folder it stands for.
      diags_.report(at, diag::ShReservedByte, in.channel, s.name);
      ok = false;
    }
    if (d.kind == ir::DataSource::Kind::Path && d.is_uri) {
      diags_.report(at, diag::ShUriInput, in.channel, s.name, d.path,
                    d.inputFlag(s.name, in.channel));
      ok = false;
    }
  }
  if (!lowering::checkSplitterMLTable(s, "sh", diags_)) ok = false;
  if (s.code_is_url && llvm::StringRef(s.code).startswith("azureml:")) {
    diags_.report(s.range, diag::ShCodeUnavailable, s.name, s.code);
    ok = false;
  }
  for (const auto& [k, v] : s.env) {
    if (!validName(k)) {
      diags_.report(s.range, diag::ShEnvName, k, s.name);
      ok = false;
    } else if (!sentinelOnlyAtStart(v)) {
      diags_.report(s.range, diag::ShReservedByte, k, s.name);
      return false;  // the others hold the same value
    }
  }
  return ok;
}

// The step's folder as the lowering lays it out (LoweredStep::layout), in a
// subshell inside it: every path of the layout is relative to it.
void Writer::layout(const lowering::LoweredStep& s) {
  using K = lowering::LayoutEntry::Kind;
  const Subs& x = subs_;
  Buf& o = o_;
  // Inputs bound to local paths must exist when the step starts.
  for (const lowering::InputData& in : s.inputs)
    if (in.source.kind == ir::DataSource::Kind::Path) {
      add(o, x, "  [ -e ", W{in.source.path}, " ] || pipec_broken ", W{s.name},
          " ",
          W{"input '" + in.channel + "': '" + in.source.path +
            "' does not exist"},
          " || return 1\n");
    }
  // One mkdir -p for the folders that are no parent of a later one.
  o += "  (\n    mkdir -p -- \"$pipec_d\" && cd -- \"$pipec_d\" &&\n      "
       "mkdir -p --";
  const std::vector<lowering::LayoutEntry>& l = s.layout;
  for (std::size_t i = 0; i < l.size(); ++i) {
    if (l[i].kind != K::Dir) continue;
    const std::string& p = l[i].path;
    bool parent = false;
    for (std::size_t j = i + 1; j < l.size() && !parent; ++j)
      parent = l[j].kind == K::Dir && l[j].path.size() > p.size() &&
               l[j].path[p.size()] == '/' &&
               llvm::StringRef(l[j].path).startswith(p);
    if (!parent) add(o, x, " ", W{p});
  }
  for (const lowering::LayoutEntry& e : l) {
    if (e.kind != K::Link || e.after_code) continue;
    o += " &&\n      ";
    if (e.make_target) add(o, x, "mkdir -p -- ", W{e.target}, " && ");
    add(o, x, "ln -s -- ", W{e.target}, " ", W{e.path});
  }
  if (hps_)
    o += " &&\n      printf '%s\\n' \"$pipec_h\" "
         ">ml/input/config/hyperparameters.json";
  else
    add(o, x, " &&\n      printf '%s' ", J{s.hyperparameters_json},
        " >ml/input/config/hyperparameters.json");
  add(o, x, " &&\n      printf '%s' ", J{s.training_job_json},
      " >ml/input/config/training_job.json");
  if (!s.code.empty() && !s.code_is_url)
    add(o, x, " &&\n      cp -RP -- ", W{s.code + "/."}, " ml/usercode/");
  for (const lowering::LayoutEntry& e : l)
    if (e.kind == K::Link && e.after_code)
      add(o, x, " &&\n      pipec_ln_unless ", W{e.target}, " ", W{e.path});
  add(o, x, "\n  ) || pipec_broken ", W{s.name},
      " 'cannot lay out its folder' || return 1\n");
  if (s.code_is_url) {
    std::string url = s.code;
    llvm::StringRef(url).consume_front("git+");
    if (llvm::StringRef(url).startswith("git+")) url = url.substr(4);
    add(o, x, "  GIT_TERMINAL_PROMPT=0 git clone --quiet --depth 1 -- ", W{url},
        " \"$pipec_d\"/ml/usercode </dev/null >\"$pipec_d\"/logs/git.log"
        " 2>&1 ||\n    pipec_broken ",
        W{s.name}, " ", W{"git clone of '" + url + "' failed, log: "},
        "\"$pipec_d\"/logs/git.log || return 1\n");
  }
}

std::string Writer::parallelSpec(const lowering::LoweredStep& s,
                                 const std::string& dir,
                                 const std::string& venv) {
  const lowering::ParallelTask& t = *s.task;
  llvm::json::Array args;
  for (const std::string& a : t.program_arguments) args.push_back(a);
  llvm::json::Object spec{
      {"step_name", s.name},
      {"python", venv.empty() ? std::string() : venv + "/bin/python"},
      {"code_dir", s.work_dir},
      {"entry_script", t.entry_script},
      {"program_arguments", std::move(args)},
      {"settings", ir::settingsJson(t.settings)},
      {"input_path", t.input_path},
      {"input_type", ir::typeName(t.input_type)},
      {"instance_count", t.instance_count},
      {"append_row_to", t.append_row_to},
      {"logs_dir", dir + "/logs"},
      {"state_dir", dir + "/state"},
  };
  std::string text;
  llvm::raw_string_ostream os(text);
  os << llvm::json::Value(std::move(spec));
  os.flush();
  return text;
}

// The step's environment (pipec_e) and command (pipec_c) as functions, and
// one pipec_start for each of its processes with the process's own
// variables.
void Writer::processes(lowering::LoweredStep& s, const std::string& venv) {
  const Subs& x = subs_;
  Buf& o = o_;
  // The step is written once: its processes are taken, not copied.
  std::vector<lowering::ProcessSlot> slots = std::move(s.processes);
  if (s.task) {
    slots.clear();
    slots.emplace_back();
    slots.back().name = "main";
  }
  // Ports: the script picks one per group; the lowering writes them where
  // kPortBase + g stands.
  std::vector<Sub> ports{{kRun, "\"$pipec_r\""}};
  if (!s.task) {
    lowering::assignLoopbackAddresses(s.job_type, s.resources, slots);
    std::vector<lowering::PortGroup> groups =
        lowering::portGroups(s.job_type, s.resources, slots);
    std::vector<std::uint16_t> numbers;
    for (std::size_t g = 0; g < groups.size(); ++g) {
      numbers.push_back(std::uint16_t(kPortBase + g));
      std::string n = std::to_string(g);
      ports.push_back({std::to_string(kPortBase + g), "\"$pipec_p" + n + "\""});
      add(o, x, "  pipec_p", n, "=$(pipec_port ",
          W{slots[groups[g].slots.front()].address}, " ", n, ")\n");
    }
    if (!groups.empty())
      lowering::bindEndpoints(s.job_type, s.resources, slots, numbers);
  }
  o += "  pipec_e() {\n    ";
  if (s.env.empty() && venv.empty()) o += ":";
  if (!s.env.empty()) o += "export";
  for (const auto& [k, v] : s.env) {
    if (hps_ && k == "PAI_HPS")
      add(o, x, " \\\n      ", k, "=\"$pipec_h\"");
    else
      add(o, x, " \\\n      ", k, "=", W{v});
  }
  if (!venv.empty())
    add(o, x, s.env.empty() ? "" : "\n    ", "export PATH=", W{venv + "/bin:"},
        "\"$PATH\" VIRTUAL_ENV=", W{venv});
  o += "\n  }\n  pipec_c() {\n    ";
  if (s.task) {
    o += "pipec_exec \"$pipec_python\" "
         "\"$pipec_d\"/state/harness/pipec_sh_parallel.py "
         "\"$pipec_d\"/parallel_step.json \"$pipec_r\"";
  } else if (!s.argv.empty()) {
    // A word that is the value of a variable of the step's environment (a
    // path) is written as a reference to it: one value, computed once. Not
    // when a process or the virtual environment sets that variable again.
    auto reused = [&](const std::string& a) -> llvm::StringRef {
      if (!holdsSentinel(a)) return {};
      for (const auto& [k, v] : s.env) {
        if (v != a || (!venv.empty() && (k == "PATH" || k == "VIRTUAL_ENV")))
          continue;
        for (const lowering::ProcessSlot& p : slots)
          for (const auto& kv : p.env)
            if (kv.first == k) return {};
        return k;
      }
      return {};
    };
    o += "pipec_exec";
    for (const std::string& a : s.argv) {
      llvm::StringRef name = reused(a);
      if (!name.empty())
        add(o, x, " \"$", name, "\"");
      else
        add(o, x, " ", W{a});
    }
  } else {
    add(o, x, "pipec_exec sh -c ", W{s.command});
  }
  o += "\n  }\n";
  int deciders = 0;
  for (const lowering::ProcessSlot& slot : slots) {
    deciders += slot.decides;
    add(o, x, "  pipec_start ", W{slot.name}, slot.decides ? " 1" : " 0");
    for (const auto& [k, v] : slot.env) {
      o += ' ';
      word(o, k + "=" + v, ports);
    }
    o += '\n';
  }
  add(o, x, "  pipec_await ", std::to_string(deciders), " ",
      std::to_string(slots.size()), " || pipec_failed ", W{s.name}, "\n");
}

void Writer::step(std::size_t index, lowering::LoweredStep& s) {
  std::string dir = std::string(kRun) + "/" + s.name;
  // The step's folder is "$pipec_d" (in JSON text "$pipec_dj").
  bool json_dir = plainInJson(s.name);
  subs_.words.step = step_root_ ? std::string(kStep) + "/" : dir + "/";
  subs_.json.step.clear();
  if (json_dir)
    subs_.json.step = step_root_ ? std::string(kStepJson) + "/"
                                 : subs_.json.run + "/" + s.name + "/";
  const Subs& x = subs_;
  std::string n = std::to_string(index);
  add(o_, x, "\n# ", s.name);
  if (!s.location.empty()) add(o_, x, " (", s.location, ")");
  add(o_, x, "\npipec_s", n, "() {\n  pipec_begin ", n,
      " || return 1\n  pipec_d=$pipec_r/");
  quoted(o_, s.name);
  if (json_dir) {
    o_ += " pipec_dj=$pipec_rj/";
    quoted(o_, s.name);
  }
  o_ += '\n';
  // PAI_HPS is the text of hyperparameters.json: one value for both.
  auto hps = std::lower_bound(
      s.env.begin(), s.env.end(), llvm::StringRef("PAI_HPS"),
      [](const auto& kv, llvm::StringRef k) { return kv.first < k; });
  hps_ = hps != s.env.end() && hps->first == "PAI_HPS" &&
         s.hyperparameters_json.size() == hps->second.size() + 1 &&
         llvm::StringRef(s.hyperparameters_json).startswith(hps->second) &&
         s.hyperparameters_json.back() == '\n';
  if (hps_) add(o_, x, "  pipec_h=", W{hps->second}, "\n");
  layout(s);
  std::string venv;
  if (!s.code.empty() && !s.code_is_url) {
    std::string req = s.code + "/requirements.txt";
    // One read of each code folder's requirements.txt.
    auto [it, fresh] = venvs_.try_emplace(s.code);
    if (fresh) {
      auto text = llvm::MemoryBuffer::getFile(req);
      if (text && !(*text)->getBuffer().empty())
        it->second =
            std::string(kRun) + "/venvs/" + hashName((*text)->getBuffer());
    }
    venv = it->second;
    if (!venv.empty())
      add(o_, x, "  pipec_venv ", W{venv}, " ", W{req},
          " \"$pipec_d\"/logs/pip.log ", W{s.name}, " || return 1\n");
  }
  if (s.task) {
    parallel_ = true;
    add(o_, x,
        "  pipec_harness \"$pipec_d\"/state/harness &&\n    printf '%s\\n' ",
        W{parallelSpec(s, dir, venv)},
        " >\"$pipec_d\"/parallel_step.json ||\n    pipec_broken ", W{s.name},
        " 'cannot write its parallel-step files' || return 1\n");
  }
  processes(s, venv);
  o_ += "}\n";
}

bool Writer::write(const ScriptOptions& opts) {
  unsigned errors = diags_.errorCount();
  lowering::LoweringCache cache;
  lowering::LoweringOptions lo;
  lo.cache = &cache;
  lo.is_file = [](llvm::StringRef path) -> std::optional<bool> {
    llvm::sys::fs::file_status st;
    if (llvm::sys::fs::status(path, st)) return std::nullopt;
    return llvm::sys::fs::is_regular_file(st);
  };
  os_ << "#!/bin/sh\n# " << root_.name
      << ": written by 'pipec compile --target sh'"
      << (opts.source.empty() ? "" : " from " + opts.source)
      << "; do not edit.\n# Runs the pipeline as 'pipec run' does: sh "
         "THIS [--workdir DIR] [--jobs N] [--run-id ID] [--python PATH] "
         "[--grace S]\n"
      << prelude();
  std::string tables;
  // Where each pipeline output is: its folder, or the file of a file output.
  std::map<std::pair<std::size_t, std::string>, std::string> output_paths;
  std::vector<bool> has_output(flat_.steps.size());
  for (const auto& [name, where] : flat_.outputs)
    if (where.first < has_output.size()) has_output[where.first] = true;
  // One LoweredStep, written over for each step so that its storage is
  // reused.
  lowering::LoweredStep s;
  std::string root;
  for (std::size_t i = 0; i < flat_.steps.size(); ++i) {
    const ir::FlatStep& f = flat_.steps[i];
    // A command step's folder is kStep in what it lowers to, so that the
    // steps of one component lower to the same paths (and the lowering
    // reuses their training_job.json); "$pipec_dj" stands for it in JSON
    // text only when JSON writes the name as it is. A parallel step's spec
    // names the run folder, which its harness puts in place.
    step_root_ =
        f.component->kind != ir::ComponentKind::Parallel && plainInJson(f.name);
    if (step_root_)
      root.assign(kStep).append("/ml");
    else
      root.assign(kRun).append("/").append(f.name).append("/ml");
    lowering::lowerStep(flat_, i, root, lo, diags_, s);
    if (has_output[i])
      for (const lowering::OutputData& out : s.outputs) {
        llvm::StringRef path = out.path;
        output_paths[{i, out.channel}] =
            step_root_ && path.consume_front(kStep)
                ? std::string(kRun) + "/" + f.name + path.str()
                : out.path;
      }
    for (const lowering::InputData& in : s.inputs)
      if (in.source.kind == ir::DataSource::Kind::None && !in.optional)
        diags_.report(in.source.range.isValid() ? in.source.range : s.range,
                      diag::ShInputUnbound, in.channel, s.name,
                      in.source.inputFlag(s.name, in.channel));
    if (!check(s)) continue;
    // After an error only the diagnostics matter.
    if (diags_.errorCount() != errors) continue;
    step(i, s);
    flush();
    tables += "pipec_m_" + std::to_string(i) + "=" + w(s.name) + "\n";
    tables += "pipec_n_" + std::to_string(i) + "=" +
              std::to_string(f.deps.size()) + "\n";
  }
  if (diags_.errorCount() != errors) return false;
  // Dependants of each step, and the steps that can start at once.
  std::vector<std::string> dependants(flat_.steps.size());
  std::string ready;
  for (std::size_t i = 0; i < flat_.steps.size(); ++i) {
    for (std::size_t d : flat_.steps[i].deps) {
      if (!dependants[d].empty()) dependants[d] += ' ';
      dependants[d] += std::to_string(i);
    }
    if (flat_.steps[i].deps.empty()) {
      if (!ready.empty()) ready += ' ';
      ready += std::to_string(i);
    }
  }
  for (std::size_t i = 0; i < flat_.steps.size(); ++i)
    tables += "pipec_d_" + std::to_string(i) + "='" + dependants[i] + "'\n";
  if (parallel_) os_ << harnessFunction();
  os_ << "\npipec_total=" << flat_.steps.size() << "\n"
      << tables << "pipec_ready='" << ready << "'\n"
      << epilogue();
  for (const auto& [name, where] : flat_.outputs)
    os_ << "printf 'output %s: %s\\n' " << w(name) << " "
        << w(output_paths[where]) << "\n";
  return true;
}

}  // namespace

bool emitScript(const ir::Component& root, const ir::FlatPipeline& flat,
                const ScriptOptions& opts, llvm::raw_ostream& out,
                ir::DiagnosticEngine& diags) {
  return Writer(root, flat, diags, out).write(opts);
}

}  // namespace pipec::backends::sh
