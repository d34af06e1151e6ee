// The front-end Session: loads files, resolves components, runs sema. Used by
// the CLI and the language server.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "frontend/ast.h"
#include "ir/diagnostics.h"
#include "ir/ir.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/SourceMgr.h"

namespace pipec::frontend {

struct SessionOptions {
  /// Folders searched (recursively) for registry components (`azureml:x:1`).
  std::vector<std::string> component_paths;
  /// Relative paths may not leave this folder. Default: the nearest folder
  /// above the compiled file that holds `.git`, else the file's own folder.
  std::string project_root;
  /// Warn on versions that are not x.y.z.
  bool pedantic = false;
  /// Files larger than this are refused.
  std::uint64_t max_file_bytes = 256ull << 20;
};

/// One compilation context. Owns the source buffers, so diagnostics and IR
/// locations stay valid for the Session's lifetime.
class Session {
 public:
  explicit Session(SessionOptions options = {});
  ~Session();
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;

  llvm::SourceMgr& sourceMgr() { return sm_; }
  ir::DiagnosticEngine& diags() { return diags_; }
  /// Where diagnostics go (default: discarded until set).
  void setDiagnosticConsumer(ir::DiagnosticConsumer& consumer);

  /// Makes `path` read as `text` instead of the file on disk (editors).
  void setOverlay(llvm::StringRef path, std::string text);

  /// Loads `path` and lowers its main component (or the one named `entry`
  /// in a DSL file) into a module. Returns nullptr when the file could not
  /// be read or parsed; otherwise a module whose root is set, even when sema
  /// reported errors (check diags().hasErrors()).
  std::unique_ptr<ir::Module> compile(llvm::StringRef path,
                                      llvm::StringRef entry = "");

  /// Loads and parses one file (cached by real path); nullptr on failure.
  const ast::File* loadFile(llvm::StringRef path, llvm::SMRange from = {});

 private:
  class Resolver;
  friend class Resolver;

  std::string absolute(llvm::StringRef path);
  std::unique_ptr<ast::File> loadDslFile(unsigned buffer_id,
                                         llvm::StringRef path);
  /// `std.NAME` from the embedded standard library (cached).
  const ast::File* loadStdlibFile(llvm::StringRef name);
  static std::string stdlibPath(llvm::StringRef name);

  SessionOptions opts_;
  llvm::SourceMgr sm_;
  ir::StoringDiagnosticConsumer discard_;
  ir::DiagnosticEngine diags_;
  std::map<std::string, std::string> overlays_;
  std::map<std::string, std::unique_ptr<ast::File>> files_;
  std::map<std::string, bool> failed_;
  std::vector<std::unique_ptr<llvm::MemoryBuffer>> keep_buffers_;
  std::unique_ptr<Resolver> resolver_;
};

}  // namespace pipec::frontend
