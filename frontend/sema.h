// Semantic analysis: AST components and pipelines into checked IR.
#pragma once

#include <memory>
#include <optional>
#include <string>

#include "frontend/ast.h"
#include "ir/diagnostics.h"
#include "ir/ir.h"

namespace pipec::frontend {

/// What sema needs from its host (the Session): loading referenced
/// components and knowing each file's project root.
class ComponentResolver {
 public:
  virtual ~ComponentResolver();
  /// The component `ref` (written in `from`) names, or nullptr after
  /// reporting why not.
  virtual std::shared_ptr<const ast::Component> resolve(
      const ast::ComponentRef& ref, const ast::Component& from) = 0;
  /// The folder relative paths in `file` must stay inside.
  virtual std::string projectRoot(llvm::StringRef file) = 0;
  /// `path` with the symbolic links of its longest existing part resolved
  /// (a resolver may remember answers: a pipeline names one component file
  /// thousands of times).
  virtual std::string resolveLinks(llvm::StringRef path);
};

struct SemaOptions {
  /// Warn on versions that are not x.y.z.
  bool pedantic = false;
};

/// Lowers components into a module. One Sema per compilation: it caches the
/// IR of each AST component so that a component used twice is lowered once.
class Sema {
 public:
  Sema(ir::DiagnosticEngine& diags, ComponentResolver& resolver,
       ir::Module& module, SemaOptions options = {});
  ~Sema();

  /// Lowers `c` (and everything it uses). Never null; check the engine's
  /// error count for success.
  const ir::Component* lower(const std::shared_ptr<const ast::Component>& c);

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

/// Checks a channel, parameter or job name against LANGUAGE.md's alphabet;
/// returns the reason it is invalid, or empty.
std::string invalidNameReason(llvm::StringRef name);

/// Why a path written in a file cannot be used (control characters such as
/// NUL or a newline), or empty.
std::string unusablePathReason(llvm::StringRef path);

/// Nothing when `path` (absolute, without dots) is `root` or below it, also
/// once the symbolic links on its way are resolved; otherwise where it leads
/// (itself, or the link's destination), outside `root`.
/// `resolver` resolves the links.
std::optional<std::string> pathOutside(llvm::StringRef path,
                                       llvm::StringRef root,
                                       ComponentResolver& resolver);

/// `path` with the symbolic links of its longest existing part resolved.
std::string resolveLinks(llvm::StringRef path);

/// Why `url` (the `code` of a component, a URI other than an Azure ML asset)
/// is not a git URL pipec clones, or empty. Accepted: the URL schemes git
/// documents for clone (https, http, ssh, git, file), optionally written
/// `git+scheme://`, and scp-like `user@host:path`; refused: other schemes,
/// remote helpers (`transport::address`), and a host, user or URL that
/// starts with '-' (it would reach `git clone` as an option).
std::string gitUrlProblem(llvm::StringRef url);

}  // namespace pipec::frontend
