// `pipec cache ls|du|prune`: what the step cache under WORKDIR/cache holds,
// and removing entries by age or total size.
#include <ctime>

#include "fmt/format.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Path.h"
#include "runtime/cache.h"
#include "tools/pipec/commands.h"
#include "tools/pipec/common.h"

namespace pipec::driver {

namespace {

std::string humanBytes(std::uint64_t n) {
  const char* units[] = {"B", "K", "M", "G", "T"};
  double v = double(n);
  int u = 0;
  while (v >= 1024 && u < 4) {
    v /= 1024;
    ++u;
  }
  return u == 0 ? fmt::format("{}B", n) : fmt::format("{:.1f}{}", v, units[u]);
}

std::string date(std::int64_t t) {
  std::time_t tt = std::time_t(t);
  std::tm tm;
  ::localtime_r(&tt, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M", &tm);
  return buf;
}

}  // namespace

int runCache(const Args& argv) {
  ArgParser p("cache", "pipec cache ls|du|prune [options]",
              "list, measure or prune the step cache (WORKDIR/cache)");
  FrontendFlags flags;
  std::string workdir, older_than, max_size;
  std::vector<std::string> action;
  p.value("--workdir", "DIR",
          "the cache of DIR (default: $PIPEC_WORKDIR, else .pipec)", &workdir);
  p.value("--older-than", "AGE",
          "prune: remove entries not used for AGE (30m, 12h, 7d, 2w)",
          &older_than);
  p.value("--max-size", "SIZE",
          "prune: then remove the least recently used entries until the "
          "rest fit in SIZE (500M, 10G)",
          &max_size);
  p.positional("ACTION", "ls (each entry), du (the total) or prune", &action, 1,
               1);
  std::string error;
  if (!p.parse(argv, error, llvm::outs())) return usageError(p, error);
  if (p.helpRequested()) return kExitOk;
  const std::string& what = action[0];
  if (what != "ls" && what != "du" && what != "prune")
    return usageError(p, "ACTION is ls, du or prune, not '" + what + "'");
  std::optional<std::int64_t> age, size;
  if (!older_than.empty() && !(age = runtime::parseAge(older_than)))
    return usageError(p,
                      "--older-than needs an age such as 30m, 12h, 7d or "
                      "2w, not '" +
                          older_than + "'");
  if (!max_size.empty() && !(size = runtime::parseSize(max_size)))
    return usageError(p, "--max-size needs a size such as 500M or 10G, not '" +
                             max_size + "'");
  if (what != "prune" && (age || size))
    return usageError(p, "--older-than and --max-size go with prune");
  if (what == "prune" && !age && !size)
    return usageError(p, "prune needs --older-than, --max-size or both");

  if (workdir.empty()) {
    const char* env = std::getenv("PIPEC_WORKDIR");
    workdir = env && *env ? env : ".pipec";
  }
  llvm::SmallString<256> dir(workdir);
  llvm::sys::fs::make_absolute(dir);
  llvm::sys::path::remove_dots(dir, true);
  dir += "/cache";
  Frontend fe(flags);
  if (!llvm::sys::fs::is_directory(dir)) {
    fe.diags()
        .report(llvm::SMRange(), ir::diag::CacheCommandFailed, "read",
                std::string(dir), "no such folder (pipec run makes it)")
        .origin("--workdir");
    return kExitErrors;
  }
  runtime::StepCache cache{std::string(dir)};
  if (what == "prune") {
    auto removed =
        cache.prune(age.value_or(-1), size.value_or(-1), std::time(nullptr));
    if (!removed) {
      fe.diags()
          .report(llvm::SMRange(), ir::diag::CacheCommandFailed, "prune",
                  std::string(dir), llvm::toString(removed.takeError()))
          .origin("pipec cache");
      return kExitErrors;
    }
    std::uint64_t bytes = 0;
    for (const runtime::CacheEntryInfo& e : *removed) bytes += e.bytes;
    llvm::outs() << fmt::format("removed {} entr{} ({})\n", removed->size(),
                                removed->size() == 1 ? "y" : "ies",
                                humanBytes(bytes));
    return kExitOk;
  }
  std::vector<runtime::CacheEntryInfo> entries = cache.list();
  std::uint64_t bytes = 0, files = 0;
  for (const runtime::CacheEntryInfo& e : entries) {
    bytes += e.bytes;
    files += e.files;
    if (what == "ls")
      llvm::outs() << fmt::format("{}  {}  {:>7}  run {}  {}\n",
                                  e.key.substr(0, 12), date(e.used),
                                  humanBytes(e.bytes), e.run, e.step);
  }
  llvm::outs() << fmt::format("{} entr{}, {} file{}, {}\n", entries.size(),
                              entries.size() == 1 ? "y" : "ies", files,
                              files == 1 ? "" : "s", humanBytes(bytes));
  return kExitOk;
}

}  // namespace pipec::driver
