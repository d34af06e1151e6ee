// The shell backend: each leaf step lowered once (lowering/), written as a
// function of a POSIX script that lays out the step's folder and starts its
// processes; the prelude and the scheduler are fixed text (prelude.h).
#include "backends/sh/script.h"

#include <algorithm>
#include <cstdio>
#include <map>
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
/// The first of the ports that stand for the ones the script picks.
constexpr std::uint16_t kPortBase = 61001;

/// What a sentinel in a lowered string stands for in the script.
struct Sub {
  std::string from;
  std::string to;  ///< shell text: a quoted expansion
};

/// Appends a shell word whose value is `s`, each occurrence of a `subs`
/// sentinel replaced by its expansion; everything else single-quoted.
void word(std::string& out, llvm::StringRef s, llvm::ArrayRef<Sub> subs) {
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
      lowering::appendShellQuoted(out, lit);
      empty = false;
    }
    if (!hit) break;
    out += hit->to;
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

/// A shell word for `add()`: the value of `s`, as w(s) writes it.
struct W {
  llvm::StringRef s;
};
/// A shell word for `add()` from JSON text, where the run folder's
/// sentinel is escaped: it becomes "$pipec_rj".
struct J {
  llvm::StringRef s;
};

/// Appends each piece to `o`: text as it is, W and J pieces as words.
void add(std::string&) {}
template <typename... Rest>
void add(std::string& o, llvm::StringRef text, const Rest&... rest);
template <typename... Rest>
void add(std::string& o, W word_of, const Rest&... rest) {
  word(o, word_of.s, runSubs());
  add(o, rest...);
}
template <typename... Rest>
void add(std::string& o, J json_of, const Rest&... rest) {
  static const std::vector<Sub> subs{
      {"\\u0001PIPEC_RUN\\u0001", "\"$pipec_rj\""}};
  word(o, json_of.s, subs);
  add(o, rest...);
}
template <typename... Rest>
void add(std::string& o, llvm::StringRef text, const Rest&... rest) {
  o.append(text.data(), text.size());
  add(o, rest...);
}

bool validName(llvm::StringRef n) {
  if (n.empty() || llvm::isDigit(n[0])) return false;
  return llvm::all_of(n, [](char c) { return llvm::isAlnum(c) || c == '_'; });
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

class Writer {
 public:
  Writer(const ir::Component& root, const ir::FlatPipeline& flat,
         ir::DiagnosticEngine& diags)
      : root_(root), flat_(flat), diags_(diags) {}

  bool write(const ScriptOptions& opts, std::string& out);

 private:
  bool check(const lowering::LoweredStep& s);
  void step(std::size_t index, const lowering::LoweredStep& s);
  void layout(const lowering::LoweredStep& s, const std::string& dir);
  void processes(const lowering::LoweredStep& s, const std::string& dir,
                 const std::string& venv);
  std::string parallelSpec(const lowering::LoweredStep& s,
                           const std::string& dir, const std::string& venv);

  const ir::Component& root_;
  const ir::FlatPipeline& flat_;
  ir::DiagnosticEngine& diags_;
  std::string o_;
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
    if (d.kind == ir::DataSource::Kind::Path && d.is_uri) {
      diags_.report(at, diag::ShUriInput, in.channel, s.name, d.path,
                    d.inputFlag(s.name, in.channel));
      ok = false;
    }
  }
  if (s.code_is_url && llvm::StringRef(s.code).startswith("azureml:")) {
    diags_.report(s.range, diag::ShCodeUnavailable, s.name, s.code);
    ok = false;
  }
  for (const auto& [k, v] : s.env) {
    if (!validName(k)) {
      diags_.report(s.range, diag::ShEnvName, k, s.name);
      ok = false;
    } else if (llvm::StringRef(v).contains('\x01') &&
               !llvm::StringRef(v).contains(kRun)) {
      diags_.report(s.range, diag::ShReservedByte, k, s.name);
      return false;  // the others hold the same value
    }
  }
  return ok;
}

void Writer::layout(const lowering::LoweredStep& s, const std::string& dir) {
  const std::string ml = s.ml_root, config = ml + "/input/config";
  std::string& o = o_;
  // Inputs bound to local paths must exist when the step starts.
  for (const lowering::InputData& in : s.inputs)
    if (in.source.kind == ir::DataSource::Kind::Path) {
      add(o, "  [ -e ", W{in.source.path}, " ] || pipec_broken ", W{s.name},
          " ",
          W{"input '" + in.channel + "': '" + in.source.path +
            "' does not exist"},
          " || return 1\n");
    }
  add(o, "  mkdir -p -- ", W{dir + "/logs"}, " ", W{s.work_dir}, " ",
      W{config});
  for (const lowering::OutputData& out : s.outputs) {
    o += ' ';
    if (out.target.empty())
      add(o, W{ml + "/output/" + out.channel});
    else
      add(o, W{out.target});
  }
  if (!s.outputs.empty()) add(o, " ", W{ml + "/output"});
  if (!s.inputs.empty()) add(o, " ", W{ml + "/input/data"});
  add(o, " || pipec_broken ", W{s.name},
      " 'cannot create its folders' || return 1\n");
  add(o, "  printf '%s' ", J{s.hyperparameters_json}, " >",
      W{config + "/hyperparameters.json"}, " &&\n    printf '%s' ",
      J{s.training_job_json}, " >", W{config + "/training_job.json"});
  for (const lowering::InputData& in : s.inputs) {
    const ir::DataSource& d = in.source;
    if (d.kind == ir::DataSource::Kind::None) continue;
    std::string link = ml + "/input/data/" + in.channel;
    std::string target = d.kind == ir::DataSource::Kind::Path
                             ? d.path
                             : std::string(kRun) + "/" +
                                   flat_.steps[d.step].name + "/ml/output/" +
                                   d.output;
    if (in.single_file && d.kind == ir::DataSource::Kind::StepOutput) {
      // An upstream file output: the channel folder holds a link to it.
      std::string file = llvm::sys::path::filename(in.path).str();
      add(o, " &&\n    mkdir -p -- ", W{link}, " && ln -s -- ",
          W{"../../../../../" + flat_.steps[d.step].name + "/ml/output/" +
            d.output + "/" + file},
          " ", W{link + "/" + file});
    } else if (in.single_file) {
      add(o, " &&\n    mkdir -p -- ", W{link}, " && ln -s -- ", W{target}, " ",
          W{link + "/" + llvm::sys::path::filename(target).str()});
    } else if (d.kind == ir::DataSource::Kind::StepOutput) {
      add(o, " &&\n    ln -s -- ",
          W{"../../../../" + flat_.steps[d.step].name + "/ml/output/" +
            d.output},
          " ", W{link});
    } else {
      add(o, " &&\n    ln -s -- ", W{target}, " ", W{link});
    }
  }
  for (const lowering::OutputData& out : s.outputs)
    if (!out.target.empty())
      add(o, " &&\n    ln -s -- ", W{out.target}, " ",
          W{ml + "/output/" + out.channel});
  if (!s.code.empty() && !s.code_is_url)
    add(o, " &&\n    cp -RP -- ", W{s.code + "/."}, " ", W{s.work_dir + "/"});
  // ./outputs and ./logs of a command step's working folder, as pipec run
  // lays them out (runtime/plan.cpp, layoutStep).
  if (s.kind == lowering::StepKind::Command && !s.code_is_url) {
    std::string art = lowering::artifactsDir(ml);
    add(o, " &&\n    mkdir -p -- ", W{art + "/outputs"}, " ", W{art + "/logs"});
    for (const char* d : {"outputs", "logs"}) {
      std::string link = s.work_dir + "/" + d;
      add(o, " &&\n    { [ -e ", W{link}, " ] || [ -L ", W{link},
          " ] || ln -s -- ", W{std::string("../artifacts/") + d}, " ", W{link},
          "; }");
    }
  }
  add(o, " ||\n    pipec_broken ", W{s.name},
      " 'cannot lay out its folder' || return 1\n");
  if (s.code_is_url) {
    std::string url = s.code;
    llvm::StringRef(url).consume_front("git+");
    if (llvm::StringRef(url).startswith("git+")) url = url.substr(4);
    add(o, "  GIT_TERMINAL_PROMPT=0 git clone --quiet --depth 1 -- ", W{url},
        " ", W{s.work_dir}, " </dev/null >", W{dir + "/logs/git.log"},
        " 2>&1 ||\n    pipec_broken ", W{s.name}, " ",
        W{"git clone of '" + url + "' failed, log: "}, "\"$pipec_r\"",
        W{"/" + s.name + "/logs/git.log"}, " || return 1\n");
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

void Writer::processes(const lowering::LoweredStep& s, const std::string& dir,
                       const std::string& venv) {
  std::string& o = o_;
  std::vector<lowering::ProcessSlot> slots = s.processes;
  if (s.task) {
    slots.clear();
    slots.emplace_back();
    slots.back().name = "main";
  }
  // Ports: the script picks one per group; the lowering writes them where
  // kPortBase + g stands.
  std::vector<Sub> subs = runSubs();
  if (!s.task) {
    lowering::assignLoopbackAddresses(s.job_type, s.resources, slots);
    std::vector<lowering::PortGroup> groups =
        lowering::portGroups(s.job_type, s.resources, slots);
    std::vector<std::uint16_t> ports;
    for (std::size_t g = 0; g < groups.size(); ++g) {
      ports.push_back(std::uint16_t(kPortBase + g));
      subs.push_back({std::to_string(kPortBase + g),
                      "\"$pipec_p" + std::to_string(g) + "\""});
      o += "  pipec_p" + std::to_string(g) + "=$(pipec_port " +
           w(slots[groups[g].slots.front()].address) + " " + std::to_string(g) +
           ")\n";
    }
    if (!groups.empty())
      lowering::bindEndpoints(s.job_type, s.resources, slots, ports);
  }
  std::string env;
  env.reserve(80 * s.env.size() + 64);
  for (const auto& [k, v] : s.env)
    add(env, "      export ", k, "=", W{v}, "\n");
  if (!venv.empty())
    add(env, "      export PATH=", W{venv + "/bin:"},
        "\"$PATH\" VIRTUAL_ENV=", W{venv}, "\n");
  std::string run;
  run.reserve(s.command.size() + 64);
  if (s.task) {
    add(run, "pipec_exec \"$pipec_python\" ",
        W{dir + "/state/harness/pipec_sh_parallel.py"}, " ",
        W{dir + "/parallel_step.json"}, " \"$pipec_r\"");
  } else if (!s.argv.empty()) {
    run = "pipec_exec";
    for (const std::string& a : s.argv) add(run, " ", W{a});
  } else {
    add(run, "pipec_exec sh -c ", W{s.command});
  }
  int deciders = 0;
  for (const lowering::ProcessSlot& slot : slots) {
    deciders += slot.decides;
    add(o, "  (\n    (\n      cd -- ", W{s.work_dir}, " || exit 126\n", env);
    for (const auto& [k, v] : slot.env) {
      add(o, "      export ", k, "=");
      word(o, v, subs);
      o += "\n";
    }
    add(o, "      ", run, "\n    ) </dev/null >",
        W{dir + "/logs/" + slot.name + ".log"}, " 2>&1 &\n    pipec_watch ",
        W{slot.name}, " \"$!\" ", slot.decides ? "1" : "0",
        " 2>/dev/null\n  ) &\n");
  }
  add(o, "  pipec_await ", std::to_string(deciders), " ",
      std::to_string(slots.size()), " || pipec_failed ", W{s.name}, " ", W{dir},
      "\n");
}

void Writer::step(std::size_t index, const lowering::LoweredStep& s) {
  std::string dir = std::string(kRun) + "/" + s.name;
  add(o_, "\n# ", s.name);
  if (!s.location.empty()) add(o_, " (", s.location, ")");
  add(o_, "\npipec_s", std::to_string(index), "() {\n  pipec_begin ",
      std::to_string(index), " || return 1\n");
  layout(s, dir);
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
      add(o_, "  pipec_venv ", W{venv}, " ", W{req}, " ",
          W{dir + "/logs/pip.log"}, " ", W{s.name}, " || return 1\n");
  }
  if (s.task) {
    parallel_ = true;
    o_ += "  pipec_harness " + w(dir + "/state/harness") + " &&\n    printf " +
          "'%s\\n' " + w(parallelSpec(s, dir, venv)) + " >" +
          w(dir + "/parallel_step.json") + " ||\n    pipec_broken " +
          w(s.name) + " 'cannot write its parallel-step files' || return 1\n";
  }
  processes(s, dir, venv);
  o_ += "}\n";
}

bool Writer::write(const ScriptOptions& opts, std::string& out) {
  unsigned errors = diags_.errorCount();
  lowering::LoweringCache cache;
  lowering::LoweringOptions lo;
  lo.cache = &cache;
  lo.is_file = [](llvm::StringRef path) -> std::optional<bool> {
    llvm::sys::fs::file_status st;
    if (llvm::sys::fs::status(path, st)) return std::nullopt;
    return llvm::sys::fs::is_regular_file(st);
  };
  o_ += "#!/bin/sh\n# " + root_.name +
        ": written by 'pipec compile --target sh'" +
        (opts.source.empty() ? "" : " from " + opts.source) +
        "; do not edit.\n# Runs the pipeline as 'pipec run' does: sh " +
        "THIS [--workdir DIR] [--jobs N] [--run-id ID] [--python PATH] "
        "[--grace S]\n";
  o_ += prelude();
  // About 3 KiB a step (the bench pipeline's steps take 3.0 KiB).
  o_.reserve(o_.size() + 3200 * flat_.steps.size() + 4096);
  std::string tables;
  // Where each pipeline output is: its folder, or the file of a file output.
  std::map<std::pair<std::size_t, std::string>, std::string> output_paths;
  for (std::size_t i = 0; i < flat_.steps.size(); ++i) {
    const ir::FlatStep& f = flat_.steps[i];
    lowering::LoweredStep s = lowering::lowerStep(
        flat_, i, std::string(kRun) + "/" + f.name + "/ml", lo, diags_);
    for (const lowering::OutputData& out : s.outputs)
      output_paths[{i, out.channel}] = out.path;
    for (const lowering::InputData& in : s.inputs)
      if (in.source.kind == ir::DataSource::Kind::None && !in.optional)
        diags_.report(in.source.range.isValid() ? in.source.range : s.range,
                      diag::ShInputUnbound, in.channel, s.name,
                      in.source.inputFlag(s.name, in.channel));
    if (!check(s)) continue;
    step(i, s);
    add(tables, "pipec_m_", std::to_string(i), "=", W{s.name}, "\n");
    add(tables, "pipec_n_", std::to_string(i), "=",
        std::to_string(f.deps.size()), "\n");
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
  if (parallel_) o_ += harnessFunction();
  o_ += "\npipec_total=" + std::to_string(flat_.steps.size()) + "\n" + tables +
        "pipec_ready='" + ready + "'\n";
  o_ += epilogue();
  for (const auto& [name, where] : flat_.outputs)
    o_ += "printf 'output %s: %s\\n' " + w(name) + " " +
          w(output_paths[where]) + "\n";
  out = std::move(o_);
  return true;
}

}  // namespace

bool emitScript(const ir::Component& root, const ir::FlatPipeline& flat,
                const ScriptOptions& opts, std::string& out,
                ir::DiagnosticEngine& diags) {
  return Writer(root, flat, diags).write(opts, out);
}

}  // namespace pipec::backends::sh
