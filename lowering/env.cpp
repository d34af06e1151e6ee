// Builds PAI_* variables, PAI_USER_ARGS, PAI_HPS and the pieces of templates.
#include "lowering/env.h"

#include "ir/mangle.h"
#include "llvm/Support/Path.h"

namespace pipec::lowering {

std::string inputPath(const StepValues& v, llvm::StringRef name) {
  std::string p = v.ml_root + "/input/data/" + name.str() + "/";
  auto it = v.input_files.find(name.str());
  if (it != v.input_files.end()) p += it->second;
  return p;
}

std::string outputPath(const StepValues& v, llvm::StringRef name) {
  return v.ml_root + "/output/" + name.str() + "/";
}

std::string configDir(const StepValues& v) {
  return v.ml_root + "/input/config/";
}
std::string workingDir(const StepValues& v) { return v.ml_root + "/usercode/"; }

std::string userArgs(const StepValues& v) {
  std::string out;
  for (const auto& [param, value] : v.params) {
    if (!value) continue;
    if (!out.empty()) out.push_back(' ');
    out += "--" + param->name + " " + shellQuote(value->toText());
  }
  return out;
}

std::vector<UserArg> userArgList(const StepValues& v) {
  std::vector<UserArg> out;
  for (const auto& [param, value] : v.params)
    if (value)
      out.push_back(
          {"--" + param->name, ir::hpsEnvVar(param->name), value->toText()});
  return out;
}

std::string hpsJson(const StepValues& v) {
  std::string out = "{";
  bool first = true;
  for (const auto& [param, value] : v.params) {
    if (!value) continue;
    if (!first) out += ", ";
    first = false;
    out += ir::Value::makeString(param->name).toJsonText();
    out += ": ";
    out += value->toJsonText();
  }
  out += "}";
  return out;
}

EnvList buildPaiEnv(const ir::Component& c, const StepValues& v) {
  std::map<std::string, std::string> env;
  for (const ir::Port& p : c.inputs) {
    if (v.unbound_inputs.count(p.name)) continue;
    env[ir::inputEnvVar(p.name)] = inputPath(v, p.name);
  }
  for (const ir::Port& p : c.outputs)
    env[ir::outputEnvVar(p.name)] = outputPath(v, p.name);
  for (const auto& [param, value] : v.params)
    if (value) env[ir::hpsEnvVar(param->name)] = value->toText();
  env["PAI_USER_ARGS"] = userArgs(v);
  env["PAI_HPS"] = hpsJson(v);
  env["PAI_WORKING_DIR"] = workingDir(v);
  env["PAI_CONFIG_DIR"] = configDir(v);
  return EnvList(env.begin(), env.end());
}

StepValues stepValues(
    const ir::FlatStep& s, std::string ml_root,
    const std::function<std::optional<bool>(llvm::StringRef)>& is_file) {
  using ir::DataSource;
  StepValues v;
  v.ml_root = std::move(ml_root);
  v.params = s.params;
  for (const ir::Port& p : s.component->inputs) {
    auto it = s.inputs.find(p.name);
    bool bound =
        it != s.inputs.end() && it->second.kind != DataSource::Kind::None;
    if (!bound && p.optional) v.unbound_inputs[p.name] = true;
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
  return v;
}

EnvList flatStepEnv(const ir::FlatStep& s, const StepValues& v) {
  std::map<std::string, std::string> env;
  const auto& user = s.step ? s.step->environment_variables
                            : s.component->environment_variables;
  for (const auto& [k, val] : user) env[k] = val;
  for (auto& [k, val] : buildPaiEnv(*s.component, v)) env[k] = std::move(val);
  return EnvList(env.begin(), env.end());
}

std::vector<CommandPiece> templatePieces(const ir::Template& t,
                                         const StepValues& v) {
  using K = ir::TemplatePiece::Kind;
  auto paramValue =
      [&](llvm::StringRef name) -> const std::optional<ir::Value>* {
    for (const auto& pv : v.params)
      if (pv.first->name == name) return &pv.second;
    return nullptr;
  };
  // A group is dropped when one of its values is missing.
  std::map<int, bool> dropped;
  for (const ir::TemplatePiece& p : t.pieces) {
    if (p.group < 0) continue;
    bool missing = false;
    if (p.kind == K::Param) {
      const auto* val = paramValue(p.text);
      missing = !val || !*val;
    } else if (p.kind == K::Input) {
      missing = v.unbound_inputs.count(p.text) != 0;
    }
    if (missing) dropped[p.group] = true;
  }
  std::vector<CommandPiece> out;
  auto text = [&](llvm::StringRef s) {
    if (!out.empty() && out.back().kind == CommandPiece::Kind::Text)
      out.back().text += s.str();
    else
      out.push_back({CommandPiece::Kind::Text, s.str(), "", {}});
  };
  for (const ir::TemplatePiece& p : t.pieces) {
    if (p.group >= 0 && dropped.count(p.group)) continue;
    switch (p.kind) {
      case K::Text:
        text(p.text);
        break;
      case K::Input:
        out.push_back({CommandPiece::Kind::Value, inputPath(v, p.text),
                       ir::inputEnvVar(p.text), p.range});
        break;
      case K::Output:
        out.push_back({CommandPiece::Kind::Value, outputPath(v, p.text),
                       ir::outputEnvVar(p.text), p.range});
        break;
      case K::Param: {
        const auto* val = paramValue(p.text);
        if (val && *val)
          out.push_back({CommandPiece::Kind::Value, (*val)->toText(),
                         ir::hpsEnvVar(p.text), p.range});
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
