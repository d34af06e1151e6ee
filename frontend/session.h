// The front-end Session: loads files, resolves components, runs sema, and
// keeps what an editor needs across edits. Used by the CLI and the language
// server.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "frontend/ast.h"
#include "ir/diagnostics.h"
#include "ir/ir.h"
#include "llvm/Support/Error.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/SourceMgr.h"

namespace pipec::frontend {

class DslMemo;

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
  /// Keep each .pipe file's declarations between readings, so that reading
  /// an edited version lexes, parses and builds only the declarations whose
  /// text changed (a language server). The result is the same either way.
  bool reuse_declarations = false;
};

/// A location as an editor wants it.
struct Position {
  std::string path;     ///< absolute
  std::string display;  ///< the file as diagnostics name it
  unsigned line = 0;    ///< 1-based
  unsigned column = 0;  ///< 1-based, in bytes (what diagnostics print)
  /// 0-based, in UTF-16 code units from the start of the line (what the
  /// Language Server Protocol calls `character`).
  unsigned utf16 = 0;
};

/// One version of one source file as the Session read it. Immutable; shared
/// by the Session while it is current and by every CheckResult that read it,
/// so SMLocs into it stay valid while either holds it.
class SourceFile {
 public:
  SourceFile(std::string path, std::string display,
             std::unique_ptr<llvm::MemoryBuffer> text, unsigned version);

  const std::string& path() const { return path_; }        ///< absolute
  const std::string& display() const { return display_; }  ///< as printed
  llvm::StringRef text() const { return text_->getBuffer(); }
  /// 1 for the first read of a path; each re-read after an edit adds one.
  unsigned version() const { return version_; }
  bool contains(llvm::SMLoc loc) const;
  /// `loc`, which must be inside this file, as a position.
  Position position(llvm::SMLoc loc) const;

 private:
  std::string path_, display_;
  std::unique_ptr<llvm::MemoryBuffer> text_;
  unsigned version_;
  std::vector<std::uint32_t> line_starts_;
};

/// The diagnostics of one file, from one check.
struct FileDiagnostics {
  std::string path;     ///< absolute
  std::string display;  ///< as printed
  /// Those whose location is in this file; for the root file also those
  /// without a location; for another file those without a location reported
  /// while reading it.
  std::vector<ir::Diagnostic> diagnostics;
  unsigned errors = 0;
  unsigned warnings = 0;
};

/// What checking one file produced. A plain value: it may outlive later
/// edits (its locations stay valid) and move to another thread.
struct CheckResult {
  /// Null when the file could not be read or parsed, or names no component;
  /// otherwise set even when there are errors.
  std::unique_ptr<ir::Module> module;
  /// Every file the check read, the checked file first, in the order read
  /// (files reused from an earlier check included, with their diagnostics).
  std::vector<FileDiagnostics> files;
  unsigned errors = 0;
  unsigned warnings = 0;
  /// The IR passed the verifier (tried only when there is no error).
  bool verified = false;
  /// The text of every file read, by address, kept alive for the locations
  /// in `module` and `files`.
  std::vector<std::shared_ptr<const SourceFile>> sources;

  /// The diagnostics of the file at absolute `path`, or null if not read.
  const FileDiagnostics* file(llvm::StringRef path) const;
  /// Where `loc` (a location in `module` or `files`) is.
  std::optional<Position> locate(llvm::SMLoc loc) const;
};

/// One compilation context, kept alive across edits by an editor.
///
/// Each file is read and parsed once and reused by later checks until
/// update(), removeOverlay() or invalidate() names it or a file it imports
/// (transitively); sema runs on every check. A Session is used by one thread
/// at a time (a language server keeps it on its worker thread); it has no
/// global or thread-local state of its own.
class Session {
 public:
  explicit Session(SessionOptions options = {});
  ~Session();
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;

  /// For a process that ends right after its checks (Frontend's
  /// skipFreeAtExit): each .pipe file's parse tree and tokens are held here
  /// instead of being freed once its AST is built, so that the operating
  /// system takes them back at exit; freeing them piece by piece costs a
  /// tenth of checking a 10,000-step .pipe file. Freed with the Session.
  void holdParses() { hold_parses_ = true; }

  /// The current version of every file read. Rebuilt, not grown, after an
  /// edit: a location into an older version resolves through the
  /// CheckResult that holds it, not through this.
  llvm::SourceMgr& sourceMgr() { return sm_; }
  ir::DiagnosticEngine& diags() { return diags_; }
  /// Where diagnostics go as they are reported (default: nowhere; every
  /// CheckResult has its own either way).
  void setDiagnosticConsumer(ir::DiagnosticConsumer& consumer);

  /// Makes `path` read as `text` instead of the file on disk (an editor's
  /// unsaved buffer); it and every file that imports it are read again by
  /// the next check.
  void update(llvm::StringRef path, std::string text);
  /// Reads `path` from disk again (the editor closed it).
  void removeOverlay(llvm::StringRef path);
  /// `path` changed, appeared or vanished on disk: it and every file that
  /// imports it, transitively, are read again by the next check; the rest
  /// is reused.
  void invalidate(llvm::StringRef path);

  /// Loads `path` and lowers its main component (or the one named `entry`
  /// in a DSL file), then verifies the IR when there is no error. User
  /// mistakes are diagnostics in the result; the error is only for an IR
  /// that does not verify (a bug in pipec).
  llvm::Expected<CheckResult> check(llvm::StringRef path,
                                    llvm::StringRef entry = "");

  /// Loads and parses one file (cached by absolute path); nullptr on
  /// failure. `from` is where it is referenced (invalid: the command line).
  const ast::File* loadFile(llvm::StringRef path, llvm::SMRange from = {});

  /// The current version of the file at `path`, if it was read.
  std::shared_ptr<const SourceFile> source(llvm::StringRef path) const;
  /// Where `loc` is, in the current version of any file read.
  std::optional<Position> locate(llvm::SMLoc loc) const;

 private:
  class Resolver;
  friend class Resolver;
  class Recorder;

  /// What the Session keeps of one file between checks.
  struct Entry {
    std::shared_ptr<const SourceFile> source;  ///< null: could not be read
    std::unique_ptr<ast::File> ast;            ///< null: not read or parsed
    std::vector<ir::Diagnostic> diags;         ///< reported while reading it
    std::set<std::string> imports;             ///< absolute paths it references
  };

  static std::string absolute(llvm::StringRef path);
  std::unique_ptr<llvm::MemoryBuffer> readText(const std::string& abs,
                                               llvm::StringRef path,
                                               llvm::SMRange from);
  const SourceFile& addSource(Entry& e, std::string abs, std::string display,
                              std::unique_ptr<llvm::MemoryBuffer> text);
  void noteRead(const std::string& abs);
  void noteImport(const std::string& from_file, const std::string& abs);
  void rebuildSourceMgr();
  /// check() without the verifier: the module, or null after reporting why.
  std::unique_ptr<ir::Module> lower(llvm::StringRef path,
                                    const std::string& abs,
                                    llvm::StringRef entry);
  CheckResult assemble(const std::string& root,
                       std::vector<ir::Diagnostic> check_diags);
  /// `std.NAME` from the embedded standard library (cached).
  const ast::File* loadStdlibFile(llvm::StringRef name);
  static std::string stdlibPath(llvm::StringRef name);

  SessionOptions opts_;
  llvm::SourceMgr sm_;
  std::unique_ptr<Recorder> recorder_;
  ir::DiagnosticEngine diags_;
  std::map<std::string, std::string> overlays_;
  std::map<std::string, Entry> files_;
  /// With reuse_declarations: what the last reading of each .pipe file
  /// keeps for the next, by absolute path.
  std::map<std::string, std::unique_ptr<DslMemo>> dsl_memos_;
  std::map<std::string, unsigned> versions_;  ///< last version read, by path
  bool hold_parses_ = false;
  std::vector<std::shared_ptr<const void>> held_parses_;  ///< holdParses()
  /// Every live SourceFile by the address of its text (current versions and
  /// those results still hold), for locate().
  std::map<const char*, std::weak_ptr<const SourceFile>> by_address_;
  bool sm_stale_ = false;  ///< sm_ still shows a version no longer current
  std::vector<std::string> read_;  ///< files read by the running check
  std::set<std::string> read_set_;
  std::unique_ptr<Resolver> resolver_;
};

}  // namespace pipec::frontend
