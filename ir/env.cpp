// Builds PAI_* variables, PAI_USER_ARGS, PAI_HPS and expands templates.
#include "ir/env.h"

#include "ir/mangle.h"

namespace pipec::ir {

std::string shellQuote(llvm::StringRef s) {
  if (s.empty()) return "''";
  bool safe = true;
  for (char c : s) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
              (c >= '0' && c <= '9') ||
              llvm::StringRef("@%+=:,./-_").contains(c);
    if (!ok) {
      safe = false;
      break;
    }
  }
  if (safe) return s.str();
  std::string out = "'";
  for (char c : s) {
    if (c == '\'')
      out += "'\"'\"'";
    else
      out.push_back(c);
  }
  out.push_back('\'');
  return out;
}

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

std::string hpsJson(const StepValues& v) {
  std::string out = "{";
  bool first = true;
  for (const auto& [param, value] : v.params) {
    if (!value) continue;
    if (!first) out += ", ";
    first = false;
    out += Value::makeString(param->name).toJsonText();
    out += ": ";
    out += value->toJsonText();
  }
  out += "}";
  return out;
}

EnvList buildPaiEnv(const Component& c, const StepValues& v) {
  std::map<std::string, std::string> env;
  for (const Port& p : c.inputs) {
    if (v.unbound_inputs.count(p.name)) continue;
    env[inputEnvVar(p.name)] = inputPath(v, p.name);
  }
  for (const Port& p : c.outputs)
    env[outputEnvVar(p.name)] = outputPath(v, p.name);
  for (const auto& [param, value] : v.params)
    if (value) env[hpsEnvVar(param->name)] = value->toText();
  env["PAI_USER_ARGS"] = userArgs(v);
  env["PAI_HPS"] = hpsJson(v);
  env["PAI_WORKING_DIR"] = workingDir(v);
  env["PAI_CONFIG_DIR"] = configDir(v);
  return EnvList(env.begin(), env.end());
}

std::string renderTemplate(const Template& t, const Component& c,
                           const StepValues& v, bool quote) {
  auto q = [&](const std::string& s) { return quote ? shellQuote(s) : s; };
  // A group is dropped when one of its values is missing.
  std::map<int, bool> dropped;
  auto paramValue = [&](llvm::StringRef name) -> const std::optional<Value>* {
    for (const auto& pv : v.params)
      if (pv.first->name == name) return &pv.second;
    return nullptr;
  };
  for (const TemplatePiece& p : t.pieces) {
    if (p.group < 0) continue;
    bool missing = false;
    if (p.kind == TemplatePiece::Kind::Param) {
      const auto* val = paramValue(p.text);
      missing = !val || !*val;
    } else if (p.kind == TemplatePiece::Kind::Input) {
      missing = v.unbound_inputs.count(p.text) != 0;
    }
    if (missing) dropped[p.group] = true;
  }
  std::string out;
  for (const TemplatePiece& p : t.pieces) {
    if (p.group >= 0 && dropped.count(p.group)) continue;
    switch (p.kind) {
      case TemplatePiece::Kind::Text:
        out += p.text;
        break;
      case TemplatePiece::Kind::Input:
        out += q(inputPath(v, p.text));
        break;
      case TemplatePiece::Kind::Output:
        out += q(outputPath(v, p.text));
        break;
      case TemplatePiece::Kind::Param: {
        const auto* val = paramValue(p.text);
        if (val && *val) out += q((*val)->toText());
        break;
      }
      case TemplatePiece::Kind::RuntimeToken:
        out += "${{" + p.text + "}}";
        break;
    }
  }
  (void)c;
  return out;
}

ParamValues resolveParams(const Component& c, const Step* step,
                          const std::map<std::string, Value>& overrides,
                          const ParamValues* parent) {
  ParamValues out;
  for (const Param& p : c.params) {
    std::optional<Value> v = p.default_value;
    if (auto it = overrides.find(p.name); it != overrides.end()) {
      v = it->second;
    } else if (step) {
      auto b = step->inputs.find(p.name);
      if (b != step->inputs.end()) {
        const Binding& bind = b->second;
        if (bind.kind == Binding::Kind::Literal) {
          v = bind.literal;
        } else if (bind.kind == Binding::Kind::ParentInput && parent) {
          for (const auto& [pp, pv] : *parent)
            if (pp->name == bind.name) v = pv;
        }
      }
    }
    // A value bound from elsewhere keeps the declared type of this parameter.
    if (v && p.type == Type::Float && v->kind() == Value::Kind::Int)
      v = Value::makeFloat(v->asFloat());
    else if (v && p.type == Type::String && v->kind() != Value::Kind::String)
      v = Value::makeString(v->toText());
    out.emplace_back(&p, std::move(v));
  }
  return out;
}

}  // namespace pipec::ir
