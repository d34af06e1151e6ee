// Name mangling into PAI_* environment variables and the collision check.
#include "ir/mangle.h"

#include "ir/diagnostics.h"
#include "ir/ir.h"
#include "llvm/ADT/StringMap.h"

namespace pipec::ir {

std::string mangleName(llvm::StringRef name) {
  std::string out;
  out.reserve(name.size());
  for (char c : name) {
    if (c >= 'a' && c <= 'z')
      out.push_back(char(c - 'a' + 'A'));
    else if ((c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_')
      out.push_back(c);
    else
      out.push_back('_');
  }
  return out;
}

std::string inputEnvVar(llvm::StringRef channel) {
  return "PAI_INPUT_" + mangleName(channel);
}
std::string outputEnvVar(llvm::StringRef channel) {
  return "PAI_OUTPUT_" + mangleName(channel);
}
std::string hpsEnvVar(llvm::StringRef param) {
  return "PAI_HPS_" + mangleName(param);
}

namespace {
struct Decl {
  const char* what;
  const std::string* name;
  SMRange range;
};

template <typename T>
bool checkFamily(const std::vector<T>& decls, const char* what,
                 std::string (*var)(llvm::StringRef), DiagnosticEngine& diags) {
  bool ok = true;
  llvm::StringMap<Decl> seen;
  for (const T& d : decls) {
    std::string v = var(d.name);
    auto [it, inserted] = seen.try_emplace(v, Decl{what, &d.name, d.range});
    if (inserted) continue;
    // Exact duplicates are reported by name checking; this is about mangling.
    if (*it->second.name == d.name) continue;
    ok = false;
    const llvm::SourceMgr& sm = diags.sourceMgr();
    diags
        .report(d.range, diag::EnvNameCollision, what, d.name,
                formatLoc(sm, d.range.Start), what, *it->second.name,
                formatLoc(sm, it->second.range.Start), v)
        .note(it->second.range, "{} '{}' declared here", what,
              *it->second.name);
  }
  return ok;
}
}  // namespace

bool checkEnvCollisions(const Component& c, DiagnosticEngine& diags) {
  bool ok = checkFamily(c.inputs, "input", inputEnvVar, diags);
  ok &= checkFamily(c.outputs, "output", outputEnvVar, diags);
  ok &= checkFamily(c.params, "parameter", hpsEnvVar, diags);
  return ok;
}

}  // namespace pipec::ir
