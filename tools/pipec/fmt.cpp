// `pipec fmt`: prints (or writes back) the canonical layout of .pipe files.
#include "frontend/dsl/dsl_loader.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"
#include "tools/pipec/commands.h"
#include "tools/pipec/common.h"

namespace pipec::driver {

int runFmt(const Args& args) {
  ArgParser p("fmt", "pipec fmt [options] FILE...",
              "print the canonical layout of .pipe files");
  FrontendFlags flags;
  flags.addTo(p);
  bool check = false, in_place = false;
  std::vector<std::string> files;
  p.flag("--check",
         "print nothing; exit 1 when a file is not in canonical layout",
         &check);
  p.flag("--in-place", "rewrite each file instead of printing it", &in_place);
  p.alias("-i", "--in-place");
  p.positional("FILE...", ".pipe files", &files, 1, 0);
  std::string error;
  if (!p.parse(args, error, llvm::outs())) return usageError(p, error);
  if (p.helpRequested()) return kExitOk;
  if (std::string e = flags.validate(); !e.empty()) return usageError(p, e);
  if (check && in_place)
    return usageError(p, "--check and --in-place exclude each other");
  for (const std::string& f : files) {
    llvm::StringRef ext = llvm::sys::path::extension(f);
    if (ext == ".yaml" || ext == ".yml")
      return usageError(p, "'" + f +
                               "' is a YAML file; pipec fmt lays out .pipe "
                               "files only");
  }

  Frontend fe(flags);
  int status = kExitOk;
  for (const std::string& f : files) {
    auto mb = llvm::MemoryBuffer::getFile(f, /*IsText=*/false,
                                          /*RequiresNullTerminator=*/true);
    if (!mb) {
      fe.diags()
          .report(llvm::SMRange(), ir::diag::FileNotFound, f,
                  mb.getError().message())
          .origin(f);
      status = kExitErrors;
      continue;
    }
    std::string original = (*mb)->getBuffer().str();
    unsigned id = fe.session().sourceMgr().AddNewSourceBuffer(std::move(*mb),
                                                              llvm::SMLoc());
    std::string formatted;
    if (!frontend::formatDslBuffer(fe.session().sourceMgr(), id, fe.diags(),
                                   formatted)) {
      status = kExitErrors;
      continue;
    }
    if (check) {
      if (formatted != original) {
        llvm::errs() << f << ": not in canonical layout (run 'pipec fmt -i "
                     << f << "')\n";
        status = kExitErrors;
      }
    } else if (in_place) {
      if (formatted == original) continue;
      std::error_code ec;
      llvm::raw_fd_ostream os(f, ec);
      if (ec) {
        fe.diags()
            .report(llvm::SMRange(), ir::diag::FileNotFound, f, ec.message())
            .origin(f);
        status = kExitErrors;
        continue;
      }
      os << formatted;
    } else {
      llvm::outs() << formatted;
    }
  }
  fe.finish();
  return status;
}

}  // namespace pipec::driver
