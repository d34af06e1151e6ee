// Fetching http(s) inputs with curl.
#include "runtime/fetch.h"

#include "llvm/ADT/SmallString.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/Program.h"

namespace pipec::runtime {

namespace {

// The last part of the URL's path (without query or fragment), or
// `fallback` when it has none.
std::string urlFileName(llvm::StringRef url, llvm::StringRef fallback) {
  url = url.split('#').first.split('?').first;
  url.consume_front("http://") || url.consume_front("https://");
  auto slash = url.find('/');
  if (slash == llvm::StringRef::npos) return fallback.str();
  llvm::StringRef path = url.drop_front(slash).rtrim('/');
  llvm::StringRef name = path.rsplit('/').second;
  if (name.empty() || name == "." || name == "..") return fallback.str();
  return name.str();
}

// What curl said on standard error, on one line.
std::string curlError(const std::string& path, int rc) {
  std::string text;
  if (auto buf = llvm::MemoryBuffer::getFile(path))
    text = llvm::StringRef((*buf)->getBuffer()).trim().str();
  for (char& c : text)
    if (c == '\n' || c == '\r') c = ' ';
  if (text.empty()) text = "curl exited with status " + std::to_string(rc);
  return text;
}

}  // namespace

bool isFetchedInput(const ir::Port& port, const ir::DataSource& d) {
  llvm::StringRef p = d.path;
  return port.type == ir::Type::File && d.kind == ir::DataSource::Kind::Path &&
         d.is_uri && (p.startswith("http://") || p.startswith("https://"));
}

bool fetchInputs(ir::FlatPipeline& flat, const std::string& run_dir,
                 ir::DiagnosticEngine& diags) {
  bool ok = true;
  llvm::ErrorOr<std::string> curl = std::error_code();
  bool looked = false;
  for (ir::FlatStep& s : flat.steps) {
    for (const ir::Port& port : s.component->inputs) {
      auto it = s.inputs.find(port.name);
      if (it == s.inputs.end() || !isFetchedInput(port, it->second)) continue;
      ir::DataSource& d = it->second;
      llvm::SMRange at = d.range.isValid() ? d.range : s.range;
      std::string flag = d.inputFlag(s.name, port.name);
      auto fail = [&](const std::string& why) {
        diags.report(at, ir::diag::RunFetchFailed, port.name, s.name, d.path,
                     why, flag);
        ok = false;
      };
      if (!looked) {
        curl = llvm::sys::findProgramByName("curl");
        looked = true;
      }
      if (!curl) {
        fail("curl is not installed (Debian: apt-get install curl)");
        continue;
      }
      std::string dir = run_dir + "/fetched/" + s.name + "/" + port.name;
      if (std::error_code ec = llvm::sys::fs::create_directories(dir)) {
        fail("cannot create '" + dir + "': " + ec.message());
        continue;
      }
      std::string file = dir + "/" + urlFileName(d.path, port.name);
      std::string err = dir + ".curl.log";
      llvm::Optional<llvm::StringRef> redirects[] = {
          llvm::StringRef(""), llvm::StringRef(""), llvm::StringRef(err)};
      // A transfer that stalls (under 1 byte/s for a minute) is a failure,
      // not a run that waits for ever.
      llvm::StringRef args[] = {"curl",       "--fail",
                                "--silent",   "--show-error",
                                "--location", "--connect-timeout",
                                "20",         "--speed-limit",
                                "1",          "--speed-time",
                                "60",         "--output",
                                file,         "--",
                                d.path};
      std::string message;
      int rc = llvm::sys::ExecuteAndWait(*curl, args, llvm::None, redirects, 0,
                                         0, &message);
      if (rc != 0) {
        fail(rc < 0 ? message : curlError(err, rc));
        llvm::sys::fs::remove(file);
        continue;
      }
      llvm::sys::fs::remove(err);
      d.path = file;
      d.is_uri = false;
    }
  }
  return ok;
}

}  // namespace pipec::runtime
