// Builds PAI_* variables, PAI_USER_ARGS, PAI_HPS and the pieces of templates.
#include "lowering/env.h"

#include <algorithm>
#include <cstdint>

#include "ir/mangle.h"
#include "llvm/Support/Path.h"
#include "lowering/json_text.h"

namespace pipec::lowering {

namespace {

/// `{root}{middle}{name}/{file}` into `out`, reusing its storage.
void treePathTo(const StepValues& v, llvm::StringRef middle,
                llvm::StringRef name, llvm::StringRef file, std::string& out) {
  out.clear();
  out.reserve(v.ml_root.size() + middle.size() + name.size() + 1 + file.size());
  out += v.ml_root;
  out.append(middle.data(), middle.size());
  out.append(name.data(), name.size());
  out += '/';
  out.append(file.data(), file.size());
}

llvm::StringRef fileOf(
    const std::map<std::string, std::string, std::less<>>& files,
    llvm::StringRef name) {
  if (files.empty()) return {};
  auto it = files.find(name);
  return it == files.end() ? llvm::StringRef() : llvm::StringRef(it->second);
}

}  // namespace

void inputPathTo(const StepValues& v, llvm::StringRef name, std::string& out) {
  treePathTo(v, "/input/data/", name, fileOf(v.input_files, name), out);
}

void outputPathTo(const StepValues& v, llvm::StringRef name, std::string& out) {
  treePathTo(v, "/output/", name, fileOf(v.output_files, name), out);
}

std::string inputPath(const StepValues& v, llvm::StringRef name) {
  std::string out;
  inputPathTo(v, name, out);
  return out;
}

std::string outputPath(const StepValues& v, llvm::StringRef name) {
  std::string out;
  outputPathTo(v, name, out);
  return out;
}

std::string outputFileName(const ir::FlatStep& s, const ir::Port& port) {
  if (s.step) {
    auto it = s.step->outputs.find(port.name);
    if (it != s.step->outputs.end() &&
        it->second.kind == ir::OutputBinding::Kind::Path) {
      llvm::StringRef path = llvm::StringRef(it->second.path).rtrim('/');
      llvm::StringRef file = llvm::sys::path::filename(path);
      // A name with an extension names a file; `.../out/` or `.../out`
      // names the folder the output goes to.
      if (!file.empty() && file != "." && file != ".." &&
          !path.endswith("}}") && file.contains('.') && !file.startswith("."))
        return file.str();
    }
  }
  return port.name;
}

void configDirTo(const StepValues& v, std::string& out) {
  out.assign(v.ml_root).append("/input/config/");
}
void workingDirTo(const StepValues& v, std::string& out) {
  out.assign(v.ml_root).append("/usercode/");
}
std::string configDir(const StepValues& v) {
  std::string out;
  configDirTo(v, out);
  return out;
}
std::string workingDir(const StepValues& v) {
  std::string out;
  workingDirTo(v, out);
  return out;
}

void userArgsTo(const StepValues& v, std::string& out) {
  out.clear();
  for (std::size_t i = 0; i < v.params.size(); ++i) {
    if (!v.params[i].second) continue;
    if (!out.empty()) out.push_back(' ');
    out += "--";
    out += v.params[i].first->name;
    out += ' ';
    if (i < v.texts.size())
      appendShellQuoted(out, v.texts[i]);
    else
      appendShellQuoted(out, v.text(i));
  }
}

std::string userArgs(const StepValues& v) {
  std::string out;
  userArgsTo(v, out);
  return out;
}

std::vector<UserArg> userArgList(const StepValues& v) {
  std::vector<UserArg> out;
  for (std::size_t i = 0; i < v.params.size(); ++i)
    if (const ir::Param* p = v.params[i].first; v.params[i].second)
      out.push_back({"--" + p->name, ir::hpsEnvVar(p->name), v.text(i)});
  return out;
}

void hpsJsonTo(const StepValues& v, std::string& out) {
  out.assign(1, '{');
  bool first = true;
  for (std::size_t i = 0; i < v.params.size(); ++i) {
    const std::optional<ir::Value>& value = v.params[i].second;
    if (!value) continue;
    if (!first) out += ", ";
    first = false;
    appendJsonString(out, v.params[i].first->name);
    out += ": ";
    // As Value::toJsonText(), written in place.
    if (value->kind() == ir::Value::Kind::String)
      appendJsonValue(out, value->asString());
    else if (i < v.texts.size())
      out += v.texts[i];
    else
      out += v.text(i);
  }
  out += "}";
}

std::string hpsJson(const StepValues& v) {
  std::string out;
  hpsJsonTo(v, out);
  return out;
}

namespace {

/// The PAI_* variables of a step in the order paiEnvParts() gives them:
/// `name(text)` for each name, when `names`, and the value written into
/// `value()` (a string to overwrite) for each value, when `values`.
template <typename Name, typename Value>
void visitPaiEnv(const ir::Component& c, const StepValues& v, bool names,
                 bool values, Name&& name, Value&& value) {
  for (const ir::Port& p : c.inputs) {
    if (!v.unbound_inputs.empty() && v.unbound_inputs.count(p.name)) continue;
    if (names) name(ir::inputEnvVar(p.name));
    if (values) inputPathTo(v, p.name, value());
  }
  for (const ir::Port& p : c.outputs) {
    if (names) name(ir::outputEnvVar(p.name));
    if (values) outputPathTo(v, p.name, value());
  }
  for (std::size_t i = 0; i < v.params.size(); ++i) {
    if (!v.params[i].second) continue;
    if (names) name(ir::hpsEnvVar(v.params[i].first->name));
    if (values) v.textTo(i, value());
  }
  if (names)
    for (const char* n :
         {"PAI_USER_ARGS", "PAI_HPS", "PAI_WORKING_DIR", "PAI_CONFIG_DIR"})
      name(std::string(n));
  if (values) {
    userArgsTo(v, value());
    hpsJsonTo(v, value());
    workingDirTo(v, value());
    configDirTo(v, value());
  }
}

}  // namespace

void paiEnvParts(const ir::Component& c, const StepValues& v,
                 std::vector<std::string>* names,
                 std::vector<std::string>* values) {
  std::size_t n = c.inputs.size() + c.outputs.size() + v.params.size() + 4;
  if (names) names->reserve(n);
  if (values) values->reserve(n);
  visitPaiEnv(
      c, v, names != nullptr, values != nullptr,
      [&](std::string name) { names->push_back(std::move(name)); },
      [&]() -> std::string& { return values->emplace_back(); });
}

void paiEnvValuesTo(const ir::Component& c, const StepValues& v,
                    llvm::function_ref<std::string&()> next) {
  visitPaiEnv(
      c, v, false, true, [](std::string) {}, next);
}

EnvList buildPaiEnv(const ir::Component& c, const StepValues& v) {
  std::vector<std::string> names, values;
  paiEnvParts(c, v, &names, &values);
  EnvList env;
  env.reserve(names.size());
  for (std::size_t i = 0; i < names.size(); ++i)
    env.emplace_back(std::move(names[i]), std::move(values[i]));
  return sortedEnv(std::move(env));
}

EnvList sortedEnv(EnvList env) {
  auto less = [](const auto& a, const auto& b) { return a.first < b.first; };
  if (env.size() <= 32) {
    // An environment is a few dozen variables: an insertion sort of their
    // indices (stable, no buffer, each entry moved once).
    std::uint8_t order[32];
    for (std::size_t i = 0; i < env.size(); ++i) {
      std::size_t j = i;
      for (; j > 0 && less(env[i], env[order[j - 1]]); --j)
        order[j] = order[j - 1];
      order[j] = static_cast<std::uint8_t>(i);
    }
    EnvList sorted;
    sorted.reserve(env.size());
    for (std::size_t k = 0; k < env.size(); ++k) {
      auto& kv = env[order[k]];
      // The last of several entries of one name wins.
      if (!sorted.empty() && sorted.back().first == kv.first)
        sorted.back().second = std::move(kv.second);
      else
        sorted.push_back(std::move(kv));
    }
    return sorted;
  }
  std::stable_sort(env.begin(), env.end(), less);
  EnvList out;
  out.reserve(env.size());
  for (auto& kv : env) {
    if (!out.empty() && out.back().first == kv.first)
      out.back().second = std::move(kv.second);
    else
      out.push_back(std::move(kv));
  }
  return out;
}

StepValues stepValues(
    const ir::FlatStep& s, std::string ml_root,
    const std::function<std::optional<bool>(llvm::StringRef)>& is_file,
    const ir::FlatPipeline* flat) {
  StepValues v;
  stepValuesTo(s, ml_root, is_file, flat, v);
  return v;
}

void stepValuesTo(
    const ir::FlatStep& s, llvm::StringRef ml_root,
    const std::function<std::optional<bool>(llvm::StringRef)>& is_file,
    const ir::FlatPipeline* flat, StepValues& v) {
  using ir::DataSource;
  v.ml_root.assign(ml_root.data(), ml_root.size());
  v.params = s.params;
  v.texts.resize(v.params.size());
  for (std::size_t i = 0; i < v.params.size(); ++i) {
    if (v.params[i].second)
      v.texts[i] = v.params[i].second->toText();
    else
      v.texts[i].clear();
  }
  v.input_files.clear();
  v.output_files.clear();
  v.unbound_inputs.clear();
  for (const ir::Port& p : s.component->inputs) {
    auto it = s.inputs.find(p.name);
    bool bound =
        it != s.inputs.end() && it->second.kind != DataSource::Kind::None;
    if (!bound && p.optional) v.unbound_inputs[p.name] = true;
    if (bound && it->second.kind == DataSource::Kind::StepOutput && flat &&
        it->second.step < flat->steps.size()) {
      // An upstream file output arrives as that file inside the channel
      // folder.
      const ir::FlatStep& producer = flat->steps[it->second.step];
      const ir::Port* out = producer.component->findOutput(it->second.output);
      if (out && out->type == ir::Type::File)
        v.input_files[p.name] = outputFileName(producer, *out);
      continue;
    }
    if (!bound || it->second.kind != DataSource::Kind::Path ||
        it->second.is_uri)
      continue;
    // Data given as one file (a CSV for a table input, a file for a folder
    // input) arrives inside the channel folder, and PAI_INPUT_X names the
    // file, whatever the declared type.
    std::optional<bool> file;
    if (is_file) file = is_file(it->second.path);
    if (file.value_or(p.type == ir::Type::File))
      v.input_files[p.name] = llvm::sys::path::filename(it->second.path).str();
  }
  for (const ir::Port& p : s.component->outputs)
    if (p.type == ir::Type::File) v.output_files[p.name] = outputFileName(s, p);
}

EnvList flatStepEnv(const ir::FlatStep& s, const StepValues& v) {
  const auto& user = s.step ? s.step->environment_variables
                            : s.component->environment_variables;
  EnvList pai = buildPaiEnv(*s.component, v);
  if (user.empty()) return pai;  // sorted, one entry per name
  EnvList env(user.begin(), user.end());
  env.insert(env.end(), std::make_move_iterator(pai.begin()),
             std::make_move_iterator(pai.end()));
  return sortedEnv(std::move(env));
}

void ValueSource::valueTo(const StepValues& v, std::string& out) const {
  switch (kind) {
    case Kind::Input:
      inputPathTo(v, name, out);
      return;
    case Kind::Output:
      outputPathTo(v, name, out);
      return;
    case Kind::Param:
      break;
  }
  v.textTo(param, out);
}

std::string ValueSource::value(const StepValues& v) const {
  std::string out;
  valueTo(v, out);
  return out;
}

std::vector<CommandPiece> templatePieces(const ir::Template& t,
                                         const StepValues& v,
                                         std::vector<ValueSource>* sources) {
  using K = ir::TemplatePiece::Kind;
  // The index of parameter `name` in v.params, or -1.
  auto paramIndex = [&](llvm::StringRef name) -> int {
    for (std::size_t i = 0; i < v.params.size(); ++i)
      if (v.params[i].first->name == name) return int(i);
    return -1;
  };
  // A group is dropped when one of its values is missing.
  std::map<int, bool> dropped;
  bool groups = std::any_of(t.pieces.begin(), t.pieces.end(),
                            [](const auto& p) { return p.group >= 0; });
  for (const ir::TemplatePiece& p : t.pieces) {
    if (!groups) break;
    if (p.group < 0) continue;
    bool missing = false;
    if (p.kind == K::Param) {
      int i = paramIndex(p.text);
      missing = i < 0 || !v.params[i].second;
    } else if (p.kind == K::Input) {
      missing = v.unbound_inputs.count(p.text) != 0;
    }
    if (missing) dropped[p.group] = true;
  }
  std::vector<CommandPiece> out;
  auto text = [&](llvm::StringRef s) {
    if (!out.empty() && out.back().kind == CommandPiece::Kind::Text)
      out.back().text.append(s.data(), s.size());
    else
      out.push_back({CommandPiece::Kind::Text, s.str(), "", {}});
  };
  out.reserve(t.pieces.size());
  for (const ir::TemplatePiece& p : t.pieces) {
    if (p.group >= 0 && dropped.count(p.group)) continue;
    switch (p.kind) {
      case K::Text:
        text(p.text);
        break;
      case K::Input:
        out.push_back({CommandPiece::Kind::Value, inputPath(v, p.text),
                       ir::inputEnvVar(p.text), p.range});
        if (sources) sources->push_back({ValueSource::Kind::Input, p.text, 0});
        break;
      case K::Output:
        out.push_back({CommandPiece::Kind::Value, outputPath(v, p.text),
                       ir::outputEnvVar(p.text), p.range});
        if (sources) sources->push_back({ValueSource::Kind::Output, p.text, 0});
        break;
      case K::Param: {
        int i = paramIndex(p.text);
        if (i >= 0 && v.params[i].second) {
          out.push_back({CommandPiece::Kind::Value, v.text(i),
                         ir::hpsEnvVar(p.text), p.range});
          if (sources)
            sources->push_back(
                {ValueSource::Kind::Param, "", static_cast<std::size_t>(i)});
        }
        break;
      }
      case K::RuntimeToken:
        text("${{" + p.text + "}}");
        break;
    }
  }
  return out;
}

}  // namespace pipec::lowering
