// The ranks of a multi-process command job as one Indexed Job pod template.
#include "backends/k8s/ranks.h"

#include <optional>

#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/ADT/StringRef.h"

namespace pipec::backends::k8s {

std::int64_t DerivedVariable::at(std::int64_t i) const {
  switch (op) {
    case Op::Mod:
      return i % by;
    case Op::Div:
      return i / by;
    case Op::Index:
      break;
  }
  return i;
}

namespace {

/// The rule that gives `values` (the value of slot i at i), if any.
std::optional<DerivedVariable> derive(llvm::ArrayRef<std::int64_t> values) {
  auto fits = [&](const DerivedVariable& d) {
    for (std::size_t i = 0; i < values.size(); ++i)
      if (d.at(std::int64_t(i)) != values[i]) return false;
    return true;
  };
  DerivedVariable d;
  if (fits(d)) return d;
  // i % m is 0 again first at m; i / m is 1 first at m.
  for (DerivedVariable::Op op :
       {DerivedVariable::Op::Mod, DerivedVariable::Op::Div}) {
    std::int64_t first = op == DerivedVariable::Op::Mod ? 0 : 1;
    for (std::size_t i = 1; i < values.size(); ++i)
      if (values[i] == first) {
        d.op = op;
        d.by = std::int64_t(i);
        if (fits(d)) return d;
        break;
      }
  }
  return std::nullopt;
}

}  // namespace

llvm::Expected<RankVariables> rankVariables(
    llvm::ArrayRef<lowering::ProcessSlot> slots) {
  RankVariables out;
  if (slots.empty()) return out;
  const ir::EnvList& first = slots[0].env;
  for (const lowering::ProcessSlot& s : slots)
    if (s.env.size() != first.size())
      return llvm::createStringError(
          llvm::inconvertibleErrorCode(),
          "process '%s' has %zu variables, process '%s' %zu", s.name.c_str(),
          s.env.size(), slots[0].name.c_str(), first.size());
  std::vector<std::int64_t> values(slots.size());
  for (std::size_t v = 0; v < first.size(); ++v) {
    const std::string& name = first[v].first;
    bool shared = true, numbers = true;
    for (std::size_t i = 0; i < slots.size(); ++i) {
      const auto& [key, value] = slots[i].env[v];
      if (key != name)
        return llvm::createStringError(
            llvm::inconvertibleErrorCode(),
            "process '%s' has '%s' where process '%s' has '%s'",
            slots[i].name.c_str(), key.c_str(), slots[0].name.c_str(),
            name.c_str());
      shared &= value == first[v].second;
      // The prologue prints numbers as they are written here.
      numbers &= !llvm::StringRef(value).getAsInteger(10, values[i]) &&
                 std::to_string(values[i]) == value;
    }
    bool identifier =
        !name.empty() && !llvm::isDigit(name[0]) &&
        llvm::all_of(name, [](char c) { return llvm::isAlnum(c) || c == '_'; });
    if (shared) {
      out.shared.push_back(first[v]);
      continue;
    }
    std::optional<DerivedVariable> d;
    if (numbers && identifier) d = derive(values);
    if (!d)
      return llvm::createStringError(
          llvm::inconvertibleErrorCode(),
          "the values of '%s' are not the index of the process, nor its "
          "remainder or quotient by one number",
          name.c_str());
    d->name = name;
    out.derived.push_back(std::move(*d));
  }
  return out;
}

std::string rankPrologue(const RankVariables& vars, std::int64_t count) {
  // The index is checked before any arithmetic: digits without a leading
  // zero (sh reads 010 as octal), at most 9 of them, less than `count`.
  std::string n = std::to_string(count);
  std::string out =
      "case ${JOB_COMPLETION_INDEX-} in\n"
      "''|*[!0-9]*|0?*|??????????*) i=" +
      n +
      " ;;\n"
      "*) i=$JOB_COMPLETION_INDEX ;;\n"
      "esac\n"
      "if [ \"$i\" -ge " +
      n +
      " ]; then\n"
      "  echo \"pipec: JOB_COMPLETION_INDEX is '${JOB_COMPLETION_INDEX-}', "
      "not a rank of 0.." +
      std::to_string(count - 1) +
      "\" >&2\n"
      "  exit 2\n"
      "fi\n";
  if (!vars.derived.empty()) {
    out += "export";
    for (const DerivedVariable& d : vars.derived) {
      out += ' ' + d.name + '=';
      switch (d.op) {
        case DerivedVariable::Op::Index:
          out += "$i";
          break;
        case DerivedVariable::Op::Mod:
          out += "$((i % " + std::to_string(d.by) + "))";
          break;
        case DerivedVariable::Op::Div:
          out += "$((i / " + std::to_string(d.by) + "))";
          break;
      }
    }
    out += '\n';
  }
  out += "exec \"$@\"\n";
  return out;
}

}  // namespace pipec::backends::k8s
