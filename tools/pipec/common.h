// What the subcommands share: front-end flags, diagnostic output, --set/--input
// parsing.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "frontend/session.h"
#include "ir/flatten.h"
#include "tools/pipec/cli.h"

namespace pipec::driver {

/// Flags every subcommand that reads sources accepts.
struct FrontendFlags {
  std::vector<std::string> component_paths;
  std::string root;
  std::string diagnostics_format = "text";
  std::string color = "auto";
  std::string error_limit;
  bool werror = false;
  bool no_warnings = false;
  bool pedantic = false;

  void addTo(ArgParser& p);
  /// Checks flag values; returns an error message or empty.
  std::string validate() const;
};

/// A Session with its diagnostic printer set up from the flags.
class Frontend {
 public:
  explicit Frontend(const FrontendFlags& flags);
  ~Frontend();
  frontend::Session& session() { return *session_; }
  ir::DiagnosticEngine& diags() { return session_->diags(); }
  /// Checks `path` (its component `entry`, if given) and returns the module:
  /// null when the file could not be read or parsed, or when its IR does not
  /// verify, which is printed as an internal error.
  std::unique_ptr<ir::Module> compile(const std::string& path,
                                      const std::string& entry = "");
  /// Errors were reported, or an IR did not verify.
  bool hasErrors() { return diags().hasErrors() || internal_error_; }
  /// Flushes JSON diagnostics; call once before exiting.
  void finish();
  /// For a command that ends the process right after: the session and the
  /// modules given to keep() are not freed (as clang's -disable-free: the
  /// operating system takes the memory back at once, and freeing a
  /// 10,000-step pipeline piece by piece costs a tenth of a check).
  /// Each .pipe file read from then on keeps its parse tree and tokens
  /// until then too (Session::holdParses()).
  void skipFreeAtExit() {
    free_at_exit_ = false;
    session_->holdParses();
  }
  /// Holds `m` until this Frontend goes.
  void keep(std::unique_ptr<ir::Module> m) { kept_.push_back(std::move(m)); }

 private:
  std::unique_ptr<frontend::Session> session_;
  std::unique_ptr<ir::DiagnosticConsumer> printer_;
  std::vector<std::unique_ptr<ir::Module>> kept_;
  bool free_at_exit_ = true;
  bool finished_ = false;
  bool internal_error_ = false;
};

/// Parses `--set NAME=VALUE` and `--set STEP.NAME=VALUE` against `root`
/// (typed and checked against constraints) and `--input NAME=PATH` into
/// flatten options. Problems are reported to `diags`; returns false on any.
bool parseOverrides(const ir::Component& root,
                    const std::vector<std::string>& sets,
                    const std::vector<std::string>& inputs,
                    ir::FlattenOptions& out, ir::DiagnosticEngine& diags);

/// `dot_text` rendered to SVG by Graphviz's `dot` (an error when Graphviz is
/// not installed or `dot` fails).
llvm::Expected<std::string> renderSvg(llvm::StringRef dot_text);

/// Writes `text` to `output` (standard output when empty or "-"); on an
/// error says so as `pipec COMMAND: error: ...` and returns false.
bool writeOutputFile(llvm::StringRef command, const std::string& output,
                     llvm::StringRef text);

}  // namespace pipec::driver
