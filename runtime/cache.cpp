// The step cache: XXH3-128 digests, stat records, step keys, and the store
// of entries under WORKDIR/cache/.
#include "runtime/cache.h"

#include <dirent.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <sys/file.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <ctime>

#include "ir/settings.h"
#include "llvm/ADT/SmallVector.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/JSON.h"
#include "llvm/Support/Path.h"
#include "runtime/file_system.h"
#include "runtime/plan.h"

#define XXH_INLINE_ALL
#include <xxhash.h>

namespace pipec::runtime {

namespace {

llvm::Error sysError(const std::string& what, const std::string& path,
                     int err) {
  return llvm::createStringError(std::error_code(err, std::generic_category()),
                                 "%s '%s': %s", what.c_str(), path.c_str(),
                                 std::strerror(err));
}

std::int64_t realNowSeconds() { return std::int64_t(std::time(nullptr)); }

std::int64_t ns(const struct timespec& t) {
  return std::int64_t(t.tv_sec) * 1000000000 + t.tv_nsec;
}

// Closes a descriptor when it goes.
struct Fd {
  explicit Fd(int f) : fd(f) {}
  ~Fd() {
    if (fd >= 0) ::close(fd);
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  int fd;
};

// The names in folder `path`, sorted (so digests do not depend on the
// order the file system lists them in).
llvm::Expected<std::vector<std::string>> sortedNames(const std::string& path) {
  DIR* d = ::opendir(path.c_str());
  if (!d) return sysError("cannot read folder", path, errno);
  std::vector<std::string> names;
  while (dirent* e = ::readdir(d)) {
    llvm::StringRef n(e->d_name);
    if (n != "." && n != "..") names.push_back(n.str());
  }
  ::closedir(d);
  std::sort(names.begin(), names.end());
  return names;
}

}  // namespace

// --- digests -----------------------------------------------------------------

std::string Digest::hex() const {
  char buf[33];
  std::snprintf(buf, sizeof buf, "%016llx%016llx",
                static_cast<unsigned long long>(hi),
                static_cast<unsigned long long>(lo));
  return buf;
}

std::optional<Digest> Digest::parse(llvm::StringRef hex) {
  Digest d;
  if (hex.size() != 32 || !llvm::all_of(hex, llvm::isHexDigit) ||
      hex.take_front(16).getAsInteger(16, d.hi) ||
      hex.drop_front(16).getAsInteger(16, d.lo))
    return std::nullopt;
  return d;
}

KeyHasher::KeyHasher() : state_(XXH3_createState()) {
  XXH3_128bits_reset(static_cast<XXH3_state_t*>(state_));
}

KeyHasher::~KeyHasher() { XXH3_freeState(static_cast<XXH3_state_t*>(state_)); }

void KeyHasher::add(llvm::StringRef field) {
  add(std::uint64_t(field.size()));
  XXH3_128bits_update(static_cast<XXH3_state_t*>(state_), field.data(),
                      field.size());
}

void KeyHasher::add(std::uint64_t n) {
  unsigned char b[8];
  for (int i = 0; i < 8; ++i) b[i] = static_cast<unsigned char>(n >> (8 * i));
  XXH3_128bits_update(static_cast<XXH3_state_t*>(state_), b, sizeof b);
}

void KeyHasher::add(const Digest& d) {
  add(d.hi);
  add(d.lo);
}

Digest KeyHasher::finish() const {
  XXH128_hash_t h =
      XXH3_128bits_digest(static_cast<const XXH3_state_t*>(state_));
  return Digest{h.high64, h.low64};
}

Digest digestOf(llvm::StringRef data) {
  XXH128_hash_t h = XXH3_128bits(data.data(), data.size());
  return Digest{h.high64, h.low64};
}

FileStamp stampOf(const struct stat& st) {
  FileStamp s;
  s.dev = std::uint64_t(st.st_dev);
  s.ino = std::uint64_t(st.st_ino);
  s.size = std::uint64_t(st.st_size);
  s.mtime_ns = ns(st.st_mtim);
  s.ctime_ns = ns(st.st_ctim);
  return s;
}

// --- contents ----------------------------------------------------------------

llvm::Expected<Digest> ContentHasher::file(llvm::StringRef path) {
  std::string p = path.str();
  struct stat st;
  ++stats_;
  if (::stat(p.c_str(), &st) != 0) return sysError("cannot read", p, errno);
  return fileWithStat(p, st);
}

llvm::Expected<Digest> ContentHasher::fileWithStat(const std::string& path,
                                                   const struct stat& st) {
  FileStamp stamp = stampOf(st);
  auto it = records_.find(path);
  if (it != records_.end() && it->second.trusted && it->second.stamp == stamp) {
    return it->second.digest;
  }
  std::int64_t now = (now_seconds ? now_seconds : realNowSeconds)();
  Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY));
  if (fd.fd < 0) return sysError("cannot read", path, errno);
  ++reads_;
  XXH3_state_t* state = XXH3_createState();
  XXH3_128bits_reset(state);
  static thread_local std::vector<char> buf(1 << 20);
  for (;;) {
    ssize_t n = ::read(fd.fd, buf.data(), buf.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      int err = errno;
      XXH3_freeState(state);
      return sysError("cannot read", path, err);
    }
    if (n == 0) break;
    bytes_read_ += std::uint64_t(n);
    XXH3_128bits_update(state, buf.data(), std::size_t(n));
  }
  XXH128_hash_t h = XXH3_128bits_digest(state);
  XXH3_freeState(state);
  Record& r = records_[path];
  r.stamp = stamp;
  r.digest = Digest{h.high64, h.low64};
  // A change later in the second the file last changed in would keep its
  // stamp: such a record is used only once that second is over.
  r.trusted = st.st_mtim.tv_sec < now && st.st_ctim.tv_sec < now;
  return r.digest;
}

llvm::Error ContentHasher::walk(const std::string& path, KeyHasher& h,
                                int depth) {
  struct stat st;
  ++stats_;
  if (::lstat(path.c_str(), &st) != 0)
    return sysError("cannot read", path, errno);
  if (S_ISLNK(st.st_mode)) {
    // A link to a file counts as the file; a link to a folder (or nowhere)
    // as its target, so that a loop of links ends.
    struct stat to;
    char target[4096];
    ssize_t n = ::readlink(path.c_str(), target, sizeof target - 1);
    if (n < 0) return sysError("cannot read link", path, errno);
    ++stats_;
    if (::stat(path.c_str(), &to) == 0 && S_ISREG(to.st_mode)) {
      st = to;
    } else {
      h.add("link");
      h.add(llvm::StringRef(target, std::size_t(n)));
      return llvm::Error::success();
    }
  }
  if (S_ISREG(st.st_mode)) {
    auto d = fileWithStat(path, st);
    if (!d) return d.takeError();
    h.add("file");
    h.add(*d);
    return llvm::Error::success();
  }
  if (S_ISDIR(st.st_mode)) {
    if (depth > 256) return sysError("cannot read", path, ELOOP);
    auto names = sortedNames(path);
    if (!names) return names.takeError();
    h.add("dir");
    h.add(std::uint64_t(names->size()));
    for (const std::string& n : *names) {
      h.add(n);
      if (llvm::Error e = walk(path + "/" + n, h, depth + 1)) return e;
    }
    return llvm::Error::success();
  }
  // Pipes, sockets, devices: what they are, never their data.
  h.add("special");
  h.add(std::uint64_t(st.st_mode & S_IFMT));
  return llvm::Error::success();
}

llvm::Expected<Digest> ContentHasher::tree(llvm::StringRef path) {
  std::string p = path.str();
  struct stat st;
  ++stats_;
  if (::stat(p.c_str(), &st) != 0) return sysError("cannot read", p, errno);
  KeyHasher h;
  if (S_ISREG(st.st_mode)) {
    auto d = fileWithStat(p, st);
    if (!d) return d.takeError();
    h.add("file");
    h.add(*d);
  } else if (llvm::Error e = walk(p, h, 0)) {
    return e;
  }
  return h.finish();
}

std::string ContentHasher::save() const {
  std::string out = "pipec-file-records 1\n";
  for (const auto& [path, r] : records_) {
    if (!r.trusted) continue;
    out += llvm::formatv("{0} {1} {2} {3} {4} {5} ", r.stamp.dev, r.stamp.ino,
                         r.stamp.size, r.stamp.mtime_ns, r.stamp.ctime_ns,
                         r.digest.hex())
               .str();
    out += path;
    out += '\n';
  }
  return out;
}

void ContentHasher::load(llvm::StringRef text) {
  llvm::SmallVector<llvm::StringRef, 0> lines;
  text.split(lines, '\n', -1, false);
  if (lines.empty() || lines[0] != "pipec-file-records 1") return;
  for (std::size_t i = 1; i < lines.size(); ++i) {
    llvm::StringRef line = lines[i];
    Record r;
    llvm::StringRef f[6];
    for (llvm::StringRef& field : f) std::tie(field, line) = line.split(' ');
    auto digest = Digest::parse(f[5]);
    if (f[0].getAsInteger(10, r.stamp.dev) ||
        f[1].getAsInteger(10, r.stamp.ino) ||
        f[2].getAsInteger(10, r.stamp.size) ||
        f[3].getAsInteger(10, r.stamp.mtime_ns) ||
        f[4].getAsInteger(10, r.stamp.ctime_ns) || !digest || line.empty())
      continue;
    r.digest = *digest;
    r.trusted = true;
    records_[line.str()] = r;
  }
}

// --- the key of a step -------------------------------------------------------

namespace {

// Feeds the step key and, for a parallel step, the step part of its
// mini-batches' keys: everything but the data the step splits (whose items
// key each mini-batch) and how many workers run it.
struct StepHashers {
  KeyHasher full, batch;
  bool parallel = false;
  template <typename T>
  void add(const T& v) {
    full.add(v);
    if (parallel) batch.add(v);
  }
};

// The link of the data a parallel step splits: its path is the channel's
// folder, or a file in it.
bool isSplitInput(const StepPlan& s, const InputLink& l) {
  if (!s.task) return false;
  std::string dir = s.ml_root + "/input/data/" + l.channel;
  llvm::StringRef p = s.task->input_path;
  return p == dir || (p.startswith(dir) && p[dir.size()] == '/');
}

}  // namespace

llvm::Expected<Digest> stepKey(const RunPlan& plan, std::size_t index,
                               ContentHasher* content, Digest* batch_part) {
  const StepPlan& s = plan.steps[index];
  StepHashers h;
  h.parallel = s.task.has_value();
  // Everything the step's processes see, with the run directory (the one
  // thing that differs between runs) taken out.
  auto text = [&](llvm::StringRef t) {
    std::string out;
    for (std::size_t at = 0;;) {
      std::size_t pos = t.find(plan.run_dir, at);
      if (plan.run_dir.empty() || pos == llvm::StringRef::npos) {
        out += t.drop_front(at);
        break;
      }
      out += t.slice(at, pos);
      out += "\x01run";
      at = pos + plan.run_dir.size();
    }
    h.add(out);
  };
  auto env = [&](const ir::EnvList& list) {
    h.add(std::uint64_t(list.size()));
    for (const auto& [k, v] : list) {
      h.add(k);
      text(v);
    }
  };
  h.add("pipec-step-key 1");
  h.add(plan.gpus);
  h.add(s.name);
  h.add(s.component_id);
  h.add(std::uint64_t(s.kind));
  h.add(ir::jobTypeName(s.job_type));
  const ir::Resources& r = s.resources;
  // How many instances run a parallel step does not change a mini-batch's
  // result.
  h.full.add(r.instance_type);
  for (std::int64_t n :
       {r.instance_count, r.gpu_count, r.process_count_per_instance, r.tf_chief,
        r.tf_ps, r.tf_worker, r.tf_evaluator, std::int64_t(r.multi_instance),
        std::int64_t(r.multi_gpu)})
    h.full.add(std::uint64_t(n));
  // Keys of steps without an MPI distribution stay as they were.
  if (r.mpi) h.full.add(llvm::StringRef("distribution: mpi"));
  h.add(s.image);
  text(s.work_dir);
  text(s.task ? "" : s.command);
  h.add(std::uint64_t(s.argv.size()));
  if (!s.task)
    for (const std::string& a : s.argv) text(a);
  env(s.env);
  text(s.hyperparameters_json);
  text(s.training_job_json);
  h.add(std::uint64_t(s.processes.size()));
  for (const lowering::ProcessSlot& p : s.processes) {
    h.add(p.name);
    h.add(p.role);
    h.add(std::uint64_t(p.index));
    h.add(std::uint64_t(p.decides));
    env(p.env);
  }
  for (const lowering::OutputData& o : s.outputs) {
    h.add(o.channel);
    h.add(ir::typeName(o.type));
    text(o.path);
    h.add(o.target);
  }
  if (s.task) {
    const lowering::ParallelTask& t = *s.task;
    h.add(t.entry_script);
    h.add(std::uint64_t(t.program_arguments.size()));
    for (const std::string& a : t.program_arguments) text(a);
    text(llvm::formatv("{0}", llvm::json::Value(ir::settingsJson(t.settings)))
             .str());
    text(t.input_path);
    h.add(ir::typeName(t.input_type));
    text(t.append_row_to);
    h.full.add(std::uint64_t(t.instance_count));
  }
  // The interpreter of virtual environments and parallel steps.
  if (s.task || !s.venv_dir.empty()) h.add(plan.python);
  h.add(s.requirements);
  if (!s.conda_pip.empty()) h.add("conda pip:\n" + s.conda_pip);
  // The code: a local folder by its contents, a URL as written.
  h.add(s.code);
  if (!s.code.empty() && !s.code_is_url && content) {
    auto d = content->tree(s.code);
    if (!d) return d.takeError();
    h.add(*d);
  }
  // The inputs: an upstream output by its producer's key, other data by
  // its contents.
  h.add(std::uint64_t(s.links.size()));
  for (const InputLink& l : s.links) {
    h.add(l.channel);
    h.add(std::uint64_t(l.single_file));
    // The data a parallel step splits is in each mini-batch's own key, by
    // the items of the mini-batch.
    bool split = isSplitInput(s, l);
    if (split) h.batch.add("split");
    if (l.producer) {
      h.full.add(plan.steps[*l.producer].key);
      h.full.add(l.producer_output);
      if (!split) {
        h.batch.add(plan.steps[*l.producer].key);
        h.batch.add(l.producer_output);
      }
      continue;
    }
    h.add(llvm::sys::path::filename(l.target));
    if (!content) {
      h.full.add(l.target);
      if (!split) h.batch.add(l.target);
      continue;
    }
    auto d = content->tree(l.target);
    if (!d) return d.takeError();
    h.full.add(*d);
    if (!split) h.batch.add(*d);
  }
  if (batch_part) *batch_part = h.parallel ? h.batch.finish() : Digest{};
  return h.full.finish();
}

// --- the store ---------------------------------------------------------------

namespace {

constexpr llvm::StringLiteral kManifestHeader = "pipec-cache-entry 1";

// An exclusive flock on `path` for as long as it lives.
class EntryLock {
 public:
  llvm::Error take(const std::string& path) {
    fd_ = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd_ < 0) return sysError("cannot open", path, errno);
    while (::flock(fd_, LOCK_EX) != 0)
      if (errno != EINTR) return sysError("cannot lock", path, errno);
    return llvm::Error::success();
  }
  ~EntryLock() {
    if (fd_ >= 0) ::close(fd_);
  }

 private:
  int fd_ = -1;
};

llvm::Error makeDirs(const std::string& path) {
  std::string p;
  llvm::SmallVector<llvm::StringRef, 16> parts;
  llvm::StringRef(path).split(parts, '/', -1, false);
  for (llvm::StringRef part : parts) {
    p += "/";
    p += part;
    if (::mkdir(p.c_str(), 0755) != 0 && errno != EEXIST)
      return sysError("cannot create folder", p, errno);
  }
  return llvm::Error::success();
}

llvm::Error syncPath(const std::string& path, bool dir) {
  Fd fd(::open(path.c_str(),
               (dir ? O_RDONLY | O_DIRECTORY : O_RDONLY) | O_CLOEXEC));
  if (fd.fd < 0) return sysError("cannot open", path, errno);
  if (::fsync(fd.fd) != 0) return sysError("cannot sync", path, errno);
  return llvm::Error::success();
}

// `to` as a new name of `from` when both are on one file system; else a
// reflink; else a copy.
llvm::Error linkOrCopy(const std::string& from, const std::string& to,
                       mode_t mode) {
  if (::link(from.c_str(), to.c_str()) == 0) return llvm::Error::success();
  if (errno != EXDEV && errno != EPERM && errno != EMLINK)
    return sysError("cannot link", to, errno);
  return copyFile(from, to, mode);
}

// One line of a manifest: what is at `rel` below the entry.
struct ManifestItem {
  char kind;  // 'd' folder, 'f' file, 'l' link
  std::string rel;
  FileStamp stamp;  // files: dev stays 0 (an entry can move)
  std::string target;
};

// Copies the tree at `from` into the new folder `to` (links for files),
// adding a manifest item per entry with paths below `rel`.
llvm::Error copyIn(const std::string& from, const std::string& to,
                   const std::string& rel, std::vector<ManifestItem>& items) {
  if (::mkdir(to.c_str(), 0755) != 0 && errno != EEXIST)
    return sysError("cannot create folder", to, errno);
  items.push_back({'d', rel, {}, ""});
  auto names = sortedNames(from);
  if (!names) return names.takeError();
  for (const std::string& n : *names) {
    std::string s = from + "/" + n, t = to + "/" + n, r = rel + "/" + n;
    struct stat st;
    if (::lstat(s.c_str(), &st) != 0) return sysError("cannot read", s, errno);
    if (S_ISDIR(st.st_mode)) {
      if (llvm::Error e = copyIn(s, t, r, items)) return e;
    } else if (S_ISLNK(st.st_mode)) {
      char buf[4096];
      ssize_t len = ::readlink(s.c_str(), buf, sizeof buf - 1);
      if (len < 0) return sysError("cannot read link", s, errno);
      std::string target(buf, std::size_t(len));
      if (::symlink(target.c_str(), t.c_str()) != 0)
        return sysError("cannot create link", t, errno);
      items.push_back({'l', r, {}, target});
    } else if (S_ISREG(st.st_mode)) {
      if (llvm::Error e = linkOrCopy(s, t, st.st_mode)) return e;
      if (::lstat(t.c_str(), &st) != 0)
        return sysError("cannot read", t, errno);
      FileStamp stamp = stampOf(st);
      stamp.dev = 0;
      stamp.ctime_ns = 0;
      items.push_back({'f', r, stamp, ""});
    }
    // Pipes, sockets and devices are not outputs a later run can have.
  }
  return llvm::Error::success();
}

std::string manifestText(const StepPlan& s, llvm::StringRef run,
                         std::int64_t created,
                         const std::vector<ManifestItem>& items) {
  std::string out = kManifestHeader.str() + "\n";
  out += "step " + s.name + "\n";
  out += "run " + run.str() + "\n";
  out += "created " + std::to_string(created) + "\n";
  for (const ManifestItem& i : items) {
    switch (i.kind) {
      case 'd':
        out += "d " + i.rel + "\n";
        break;
      case 'l':
        out += "l " + i.rel + "\n  " + i.target + "\n";
        break;
      default:
        out += llvm::formatv("f {0} {1} {2} ", i.stamp.ino, i.stamp.size,
                             i.stamp.mtime_ns)
                   .str() +
               i.rel + "\n";
    }
  }
  return out;
}

struct Manifest {
  std::string step, run;
  std::int64_t created = 0;
  std::vector<ManifestItem> items;
};

// "INODE SIZE MTIME REL", a file of a manifest.
bool parseFileItem(llvm::StringRef l, ManifestItem& it) {
  it.kind = 'f';
  llvm::StringRef ino, size, mtime;
  std::tie(ino, l) = l.split(' ');
  std::tie(size, l) = l.split(' ');
  std::tie(mtime, l) = l.split(' ');
  if (ino.getAsInteger(10, it.stamp.ino) ||
      size.getAsInteger(10, it.stamp.size) ||
      mtime.getAsInteger(10, it.stamp.mtime_ns) || l.empty())
    return false;
  it.rel = l.str();
  return true;
}

// The file at `path` is still what `i` recorded: same inode, size and
// modification time (not ctime: every new link changes it).
bool unchangedFile(const std::string& path, const ManifestItem& i) {
  struct stat st;
  return ::lstat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode) &&
         std::uint64_t(st.st_ino) == i.stamp.ino &&
         std::uint64_t(st.st_size) == i.stamp.size &&
         ns(st.st_mtim) == i.stamp.mtime_ns;
}

std::optional<Manifest> parseManifest(llvm::StringRef text) {
  llvm::SmallVector<llvm::StringRef, 0> lines;
  text.split(lines, '\n');
  if (lines.size() < 4 || lines[0] != kManifestHeader || lines.back() != "")
    return std::nullopt;
  Manifest m;
  llvm::StringRef v = lines[1];
  if (!v.consume_front("step ")) return std::nullopt;
  m.step = v.str();
  v = lines[2];
  if (!v.consume_front("run ")) return std::nullopt;
  m.run = v.str();
  v = lines[3];
  if (!v.consume_front("created ") || v.getAsInteger(10, m.created))
    return std::nullopt;
  for (std::size_t i = 4; i + 1 < lines.size(); ++i) {
    llvm::StringRef l = lines[i];
    ManifestItem it;
    if (l.consume_front("d ")) {
      it.kind = 'd';
      it.rel = l.str();
    } else if (l.consume_front("l ")) {
      it.kind = 'l';
      it.rel = l.str();
      if (i + 2 >= lines.size() || !lines[i + 1].startswith("  "))
        return std::nullopt;
      it.target = lines[++i].drop_front(2).str();
    } else if (l.consume_front("f ")) {
      if (!parseFileItem(l, it)) return std::nullopt;
    } else {
      return std::nullopt;
    }
    // Nothing may lead out of the entry.
    if (llvm::StringRef(it.rel).contains("/../") ||
        llvm::StringRef(it.rel).endswith("/..") || it.rel.empty() ||
        it.rel[0] == '/' || it.rel[0] == '.')
      return std::nullopt;
    m.items.push_back(std::move(it));
  }
  return m;
}

std::string readSmallFile(const std::string& path) {
  Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (fd.fd < 0) return "";
  std::string text;
  char buf[1 << 14];
  ssize_t n;
  while ((n = ::read(fd.fd, buf, sizeof buf)) > 0)
    text.append(buf, std::size_t(n));
  return text;
}

// Writes `data` to `path`, synced.
llvm::Error writeSynced(const std::string& path, llvm::StringRef data) {
  Fd fd(::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644));
  if (fd.fd < 0) return sysError("cannot create", path, errno);
  for (std::size_t done = 0; done < data.size();) {
    ssize_t w = ::write(fd.fd, data.data() + done, data.size() - done);
    if (w < 0 && errno == EINTR) continue;
    if (w < 0) return sysError("cannot write", path, errno);
    done += std::size_t(w);
  }
  if (::fsync(fd.fd) != 0) return sysError("cannot sync", path, errno);
  return llvm::Error::success();
}

llvm::Error removeAll(const std::string& path) {
  struct stat st;
  if (::lstat(path.c_str(), &st) != 0)
    return errno == ENOENT ? llvm::Error::success()
                           : sysError("cannot remove", path, errno);
  if (S_ISDIR(st.st_mode)) {
    auto names = sortedNames(path);
    if (!names) return names.takeError();
    for (const std::string& n : *names)
      if (llvm::Error e = removeAll(path + "/" + n)) return e;
    if (::rmdir(path.c_str()) != 0 && errno != ENOENT)
      return sysError("cannot remove", path, errno);
    return llvm::Error::success();
  }
  if (::unlink(path.c_str()) != 0 && errno != ENOENT)
    return sysError("cannot remove", path, errno);
  return llvm::Error::success();
}

// Syncs the folder of a staged entry, which is then ready to be renamed in.
llvm::Error sealStage(const std::string& stage) {
  if (llvm::Error e = syncPath(stage, true)) return e;
  if (const char* crash = std::getenv("PIPEC_CACHE_CRASH_BEFORE_RENAME");
      crash && *crash)
    ::raise(SIGKILL);  // tests: a run killed while storing
  return llvm::Error::success();
}

// A name in tmp/ no other store uses.
std::string uniqueName(llvm::StringRef stem) {
  static unsigned counter = 0;
  return llvm::formatv("{0}.{1}.{2}.{3}", stem, ::getpid(),
                       std::int64_t(std::time(nullptr)), ++counter)
      .str();
}

// Where the output channel `o` of `s` is (a bound folder, or the run's).
std::string outputDir(const StepPlan& s, const lowering::OutputData& o) {
  return o.target.empty() ? s.ml_root + "/output/" + o.channel : o.target;
}

// The bytes on disk below `path`; `files` counts the files (not folders).
std::uint64_t treeBytes(const std::string& path, std::uint64_t* files) {
  struct stat st;
  if (::lstat(path.c_str(), &st) != 0) return 0;
  if (!S_ISDIR(st.st_mode)) {
    if (files) ++*files;
    return std::uint64_t(st.st_blocks) * 512;
  }
  std::uint64_t total = std::uint64_t(st.st_blocks) * 512;
  auto names = sortedNames(path);
  if (!names) {
    llvm::consumeError(names.takeError());
    return total;
  }
  for (const std::string& n : *names) total += treeBytes(path + "/" + n, files);
  return total;
}

constexpr llvm::StringLiteral kPackHeader = "pipec-batch-pack 1";

// The manifest of a pack of mini-batch results.
struct PackManifest {
  std::string step, run;
  std::int64_t created = 0;
  std::vector<ManifestItem> files;  // rows/N.rows
  struct Result {
    Digest key;
    std::string file;
    std::uint64_t offset = 0, length = 0, items = 0;
  };
  std::vector<Result> results;
};

std::optional<PackManifest> parsePackManifest(llvm::StringRef text) {
  llvm::SmallVector<llvm::StringRef, 0> lines;
  text.split(lines, '\n', -1, false);
  if (lines.empty() || lines[0] != kPackHeader) return std::nullopt;
  PackManifest m;
  auto safe = [](llvm::StringRef rel) {
    return rel.startswith("rows/") && !rel.contains("..") &&
           rel.count('/') == 1;
  };
  for (std::size_t i = 1; i < lines.size(); ++i) {
    llvm::StringRef l = lines[i];
    if (l.consume_front("step ")) {
      m.step = l.str();
    } else if (l.consume_front("run ")) {
      m.run = l.str();
    } else if (l.consume_front("created ")) {
      if (l.getAsInteger(10, m.created)) return std::nullopt;
    } else if (l.consume_front("f ")) {
      ManifestItem it;
      if (!parseFileItem(l, it) || !safe(it.rel)) return std::nullopt;
      m.files.push_back(std::move(it));
    } else if (l.consume_front("b ")) {
      PackManifest::Result r;
      llvm::StringRef key, file, off, len, items;
      std::tie(key, l) = l.split(' ');
      std::tie(file, l) = l.split(' ');
      std::tie(off, l) = l.split(' ');
      std::tie(len, items) = l.split(' ');
      std::optional<Digest> d = Digest::parse(key);
      if (!d || off.getAsInteger(10, r.offset) ||
          len.getAsInteger(10, r.length) || items.getAsInteger(10, r.items) ||
          (r.length && !safe(file)))
        return std::nullopt;
      r.key = *d;
      if (r.length) r.file = file.str();
      m.results.push_back(std::move(r));
    } else {
      return std::nullopt;
    }
  }
  return m;
}

}  // namespace

std::string StepCache::entryDir(const Digest& key) const {
  return dir_ + "/entries/" + key.hex();
}

void StepCache::loadRecords(ContentHasher& content) const {
  content.load(readSmallFile(dir_ + "/files"));
}

llvm::Error StepCache::saveRecords(const ContentHasher& content) const {
  if (llvm::Error e = makeDirs(dir_ + "/tmp")) return e;
  std::string tmp = dir_ + "/tmp/" + uniqueName("files");
  Fd fd(::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644));
  if (fd.fd < 0) return sysError("cannot create", tmp, errno);
  std::string text = content.save();
  if (::write(fd.fd, text.data(), text.size()) != ssize_t(text.size())) {
    int err = errno;
    ::unlink(tmp.c_str());
    return sysError("cannot write", tmp, err);
  }
  std::string to = dir_ + "/files";
  if (::rename(tmp.c_str(), to.c_str()) != 0) {
    int err = errno;
    ::unlink(tmp.c_str());
    return sysError("cannot replace", to, err);
  }
  return llvm::Error::success();
}

llvm::Expected<std::optional<StepCache::Hit>> StepCache::restore(
    const StepPlan& s, const Digest& key, std::string& dropped) {
  std::string entry = entryDir(key);
  struct stat st;
  if (::stat((entry + "/manifest").c_str(), &st) != 0)
    return std::nullopt;  // the common miss: no lock taken
  if (llvm::Error e = makeDirs(dir_ + "/locks")) return e;
  EntryLock lock;
  if (llvm::Error e = lock.take(dir_ + "/locks/" + key.hex())) return e;
  std::string text = readSmallFile(entry + "/manifest");
  if (text.empty()) return std::nullopt;  // removed meanwhile
  std::optional<Manifest> m = parseManifest(text);
  auto drop = [&](const std::string& why) -> llvm::Error {
    dropped = why;
    return removeAll(entry);
  };
  if (!m) {
    if (llvm::Error e = drop("its manifest is not readable")) return e;
    return std::nullopt;
  }
  // Every file as stored: same inode, size and modification time.
  for (const ManifestItem& i : m->items) {
    std::string p = entry + "/" + i.rel;
    struct stat is;
    bool ok = ::lstat(p.c_str(), &is) == 0;
    if (ok && i.kind == 'd') ok = S_ISDIR(is.st_mode);
    if (ok && i.kind == 'l') ok = S_ISLNK(is.st_mode);
    if (ok && i.kind == 'f') ok = unchangedFile(p, i);
    if (!ok) {
      if (llvm::Error e = drop("'" + i.rel + "' changed since it was stored"))
        return e;
      return std::nullopt;
    }
  }
  // Into the step's folders: out/<channel>/ to its output, logs/ to logs.
  for (const ManifestItem& i : m->items) {
    llvm::StringRef rel = i.rel;
    std::string to;
    if (rel.consume_front("out/")) {
      auto [channel, below] = rel.split('/');
      const lowering::OutputData* o = nullptr;
      for (const lowering::OutputData& out : s.outputs)
        if (out.channel == channel) o = &out;
      if (!o) continue;
      to = outputDir(s, *o);
      if (!below.empty()) to += "/" + below.str();
    } else if (rel.consume_front("logs")) {
      to = s.logs_dir + rel.str();
    } else {
      continue;
    }
    std::string from = entry + "/" + i.rel;
    if (i.kind == 'd') {
      if (llvm::Error e = makeDirs(to)) return e;
      continue;
    }
    if (::unlink(to.c_str()) != 0 && errno != ENOENT)
      return sysError("cannot replace", to, errno);
    if (i.kind == 'l') {
      if (::symlink(i.target.c_str(), to.c_str()) != 0)
        return sysError("cannot create link", to, errno);
    } else if (llvm::Error e = linkOrCopy(from, to, 0644)) {
      return e;
    }
  }
  // When it was last used, for `pipec cache prune`.
  std::string used = entry + "/used";
  Fd fd(::open(used.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0644));
  if (fd.fd >= 0) ::futimens(fd.fd, nullptr);
  return Hit{m->run};
}

llvm::Error StepCache::store(const StepPlan& s, const Digest& key,
                             llvm::StringRef run, bool replace) {
  std::string entry = entryDir(key);
  if (!replace && ::access((entry + "/manifest").c_str(), F_OK) == 0)
    return llvm::Error::success();
  for (const char* sub : {"/tmp", "/entries", "/locks"})
    if (llvm::Error e = makeDirs(dir_ + sub)) return e;
  // Staged in tmp/, renamed into entries/ once all of it is on disk.
  std::string stage = dir_ + "/tmp/" + uniqueName(key.hex());
  if (::mkdir(stage.c_str(), 0755) != 0)
    return sysError("cannot create folder", stage, errno);
  auto fail = [&](llvm::Error e) {
    llvm::consumeError(removeAll(stage));
    return e;
  };
  std::vector<ManifestItem> items;
  if (::mkdir((stage + "/out").c_str(), 0755) != 0)
    return fail(sysError("cannot create folder", stage + "/out", errno));
  for (const lowering::OutputData& o : s.outputs) {
    std::string from = outputDir(s, o);
    struct stat st;
    if (::stat(from.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) continue;
    if (llvm::Error e = copyIn(from, stage + "/out/" + o.channel,
                               "out/" + o.channel, items))
      return fail(std::move(e));
  }
  if (::access(s.logs_dir.c_str(), F_OK) == 0)
    if (llvm::Error e = copyIn(s.logs_dir, stage + "/logs", "logs", items))
      return fail(std::move(e));
  // The data of every file, then the manifest, then the folders.
  for (const ManifestItem& i : items)
    if (i.kind == 'f')
      if (llvm::Error e = syncPath(stage + "/" + i.rel, false))
        return fail(std::move(e));
  // Its last use (restore() touches it), for `pipec cache prune`.
  if (llvm::Error e = writeSynced(stage + "/used", ""))
    return fail(std::move(e));
  if (llvm::Error e = writeSynced(
          stage + "/manifest", manifestText(s, run, realNowSeconds(), items)))
    return fail(std::move(e));
  for (auto it = items.rbegin(); it != items.rend(); ++it)
    if (it->kind == 'd')
      if (llvm::Error e = syncPath(stage + "/" + it->rel, true))
        return fail(std::move(e));
  if (llvm::Error e = sealStage(stage)) return fail(std::move(e));
  EntryLock lock;
  if (llvm::Error e = lock.take(dir_ + "/locks/" + key.hex()))
    return fail(std::move(e));
  if (::rename(stage.c_str(), entry.c_str()) != 0) {
    if (errno != EEXIST && errno != ENOTEMPTY)
      return fail(sysError("cannot store", entry, errno));
    if (!replace) return fail(llvm::Error::success());  // another run's
    // The old entry goes aside first: a reader sees it or the new one.
    std::string old = dir_ + "/tmp/" + uniqueName("old");
    if (::rename(entry.c_str(), old.c_str()) != 0 ||
        ::rename(stage.c_str(), entry.c_str()) != 0)
      return fail(sysError("cannot store", entry, errno));
    llvm::consumeError(removeAll(old));
  }
  return syncPath(dir_ + "/entries", true);
}

namespace {

// What `pipec cache ls` shows of the entry or pack at `where` below `dir`:
// the files below `stored` count as its files; its own (manifest, used)
// count in bytes.
CacheEntryInfo describeEntry(const std::string& dir, const std::string& where,
                             std::string step, std::string run,
                             std::int64_t created,
                             std::initializer_list<const char*> stored) {
  std::string path = dir + "/" + where;
  CacheEntryInfo info;
  info.key = llvm::sys::path::filename(where).str();
  info.step = std::move(step);
  info.run = std::move(run);
  info.created = created;
  struct stat st;
  info.used = ::stat((path + "/used").c_str(), &st) == 0
                  ? std::int64_t(st.st_mtim.tv_sec)
                  : created;
  for (const char* sub : stored)
    info.bytes += treeBytes(path + sub, &info.files);
  info.bytes += treeBytes(path + "/manifest", nullptr) +
                treeBytes(path + "/used", nullptr);
  info.where = where;
  return info;
}

}  // namespace

std::vector<CacheEntryInfo> StepCache::list() const {
  std::vector<CacheEntryInfo> out;
  auto names = sortedNames(dir_ + "/entries");
  if (!names) {
    llvm::consumeError(names.takeError());
    return out;
  }
  for (const std::string& n : *names) {
    if (!Digest::parse(n)) continue;
    std::string entry = dir_ + "/entries/" + n;
    std::optional<Manifest> m =
        parseManifest(readSmallFile(entry + "/manifest"));
    if (!m) continue;
    out.push_back(describeEntry(dir_, "entries/" + n, m->step, m->run,
                                m->created, {"/out", "/logs"}));
  }
  // The mini-batch results of parallel steps.
  auto packs = sortedNames(dir_ + "/batches");
  if (!packs) llvm::consumeError(packs.takeError());
  for (const std::string& n : packs ? *packs : std::vector<std::string>()) {
    std::string pack = dir_ + "/batches/" + n;
    std::optional<PackManifest> m =
        parsePackManifest(readSmallFile(pack + "/manifest"));
    if (!m) continue;
    std::string step = m->step + " (" + std::to_string(m->results.size()) +
                       " mini-batch" + (m->results.size() == 1 ? ")" : "es)");
    out.push_back(describeEntry(dir_, "batches/" + n, step, m->run, m->created,
                                {"/rows"}));
  }
  std::stable_sort(out.begin(), out.end(),
                   [](const CacheEntryInfo& a, const CacheEntryInfo& b) {
                     return a.used < b.used;
                   });
  return out;
}

llvm::Expected<std::vector<CacheEntryInfo>> StepCache::prune(
    std::int64_t older_than_s, std::int64_t max_bytes, std::int64_t now_s) {
  std::vector<CacheEntryInfo> entries = list(), removed;
  std::uint64_t total = 0;
  for (const CacheEntryInfo& e : entries) total += e.bytes;
  for (const CacheEntryInfo& e : entries) {
    bool old = older_than_s >= 0 && now_s - e.used > older_than_s;
    bool over = max_bytes >= 0 && total > std::uint64_t(max_bytes);
    if (!old && !over) continue;
    if (llvm::Error err = makeDirs(dir_ + "/locks")) return err;
    EntryLock lock;
    if (llvm::Error err = lock.take(dir_ + "/locks/" + e.key)) return err;
    if (llvm::Error err = removeAll(dir_ + "/" + e.where)) return err;
    ::unlink((dir_ + "/locks/" + e.key).c_str());
    total -= e.bytes;
    removed.push_back(e);
  }
  // What stores of processes that are gone left in tmp/ (the second field
  // of a name is the pid of its writer).
  auto names = sortedNames(dir_ + "/tmp");
  if (names) {
    for (const std::string& n : *names) {
      llvm::SmallVector<llvm::StringRef, 4> parts;
      llvm::StringRef(n).split(parts, '.');
      int pid = 0;
      if (parts.size() == 4 && !parts[1].getAsInteger(10, pid) && pid > 0 &&
          (::kill(pid, 0) == 0 || errno != ESRCH))
        continue;
      llvm::consumeError(removeAll(dir_ + "/tmp/" + n));
    }
  } else {
    llvm::consumeError(names.takeError());
  }
  return removed;
}

// --- mini-batch results ------------------------------------------------------

llvm::Error BatchCache::load(const Digest& part,
                             std::vector<std::string>& dropped) {
  auto names = sortedNames(dir_ + "/batches");
  if (!names) {
    llvm::consumeError(names.takeError());
    return llvm::Error::success();  // nothing stored yet
  }
  std::string prefix = part.hex() + ".";
  // Newer packs last: their results win.
  std::vector<std::pair<std::int64_t, std::string>> found;
  std::vector<PackManifest> manifests;
  for (const std::string& n : *names) {
    if (!llvm::StringRef(n).startswith(prefix)) continue;
    std::string pack = dir_ + "/batches/" + n;
    std::optional<PackManifest> m =
        parsePackManifest(readSmallFile(pack + "/manifest"));
    std::string why;
    if (!m) {
      why = "its manifest is not readable";
    } else {
      for (const ManifestItem& i : m->files) {
        if (!unchangedFile(pack + "/" + i.rel, i)) {
          why = "'" + i.rel + "' changed since it was stored";
          break;
        }
      }
    }
    if (!why.empty()) {
      if (llvm::Error e = makeDirs(dir_ + "/locks")) return e;
      EntryLock lock;
      if (llvm::Error e = lock.take(dir_ + "/locks/" + n)) return e;
      if (llvm::Error e = removeAll(pack)) return e;
      dropped.push_back("the results of run " + (m ? m->run : "?") + " (" +
                        why + ")");
      continue;
    }
    found.emplace_back(m->created, n);
    manifests.push_back(std::move(*m));
  }
  std::vector<std::size_t> order(found.size());
  for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::stable_sort(order.begin(), order.end(),
                   [&](std::size_t a, std::size_t b) {
                     return found[a].first < found[b].first;
                   });
  for (std::size_t i : order) {
    packs_.push_back({found[i].second, manifests[i].results.size(), 0});
    std::string pack = dir_ + "/batches/" + found[i].second + "/";
    for (const PackManifest::Result& r : manifests[i].results) {
      Result& to = index_[{r.key.hi, r.key.lo}];
      to.file = r.length ? pack + r.file : "";
      to.offset = r.offset;
      to.length = r.length;
      to.items = r.items;
      to.pack = packs_.size() - 1;
      to.hit = false;
    }
  }
  return llvm::Error::success();
}

BatchCache::Result* BatchCache::find(const Digest& key) {
  auto it = index_.find({key.hi, key.lo});
  return it == index_.end() ? nullptr : &it->second;
}

llvm::Error BatchCache::take(Result& r, const std::string& to) {
  const Pack& p = packs_[r.pack];
  if (!r.hit) {
    r.hit = true;
    ++packs_[r.pack].hits;
  }
  std::string pack = dir_ + "/batches/" + p.name;
  EntryLock lock;
  if (llvm::Error e = lock.take(dir_ + "/locks/" + p.name)) return e;
  if (!r.file.empty()) {
    struct stat st;
    if (::stat(to.c_str(), &st) != 0) {
      if (::access((pack + "/manifest").c_str(), F_OK) != 0)
        return sysError("cannot read", pack, ENOENT);  // pruned meanwhile
      if (llvm::Error e = linkOrCopy(r.file, to, 0644)) return e;
    }
  }
  Fd fd(::open((pack + "/used").c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0644));
  if (fd.fd >= 0) ::futimens(fd.fd, nullptr);
  return llvm::Error::success();
}

llvm::Error BatchCache::store(const Digest& part, llvm::StringRef step,
                              llvm::StringRef run,
                              const std::vector<Stored>& results) {
  if (results.empty()) return llvm::Error::success();
  for (const char* sub : {"/tmp", "/batches", "/locks"})
    if (llvm::Error e = makeDirs(dir_ + sub)) return e;
  std::string stage = dir_ + "/tmp/" + uniqueName("batches");
  auto fail = [&](llvm::Error e) {
    llvm::consumeError(removeAll(stage));
    return e;
  };
  if (::mkdir(stage.c_str(), 0755) != 0 ||
      ::mkdir((stage + "/rows").c_str(), 0755) != 0)
    return fail(sysError("cannot create folder", stage, errno));
  // Each rows file once, by a name of its own in the pack.
  std::map<std::string, std::string> rel_of;
  std::string files, lines;
  for (const Stored& r : results) {
    std::string rel;
    if (r.length) {
      auto [it, added] = rel_of.emplace(r.file, "");
      if (added) {
        it->second = "rows/" + std::to_string(rel_of.size()) + ".rows";
        std::string to = stage + "/" + it->second;
        if (llvm::Error e = linkOrCopy(r.file, to, 0644))
          return fail(std::move(e));
        struct stat st;
        if (::stat(to.c_str(), &st) != 0)
          return fail(sysError("cannot read", to, errno));
        if (llvm::Error e = syncPath(to, false)) return fail(std::move(e));
        files +=
            llvm::formatv("f {0} {1} {2} {3}\n", std::uint64_t(st.st_ino),
                          std::uint64_t(st.st_size), ns(st.st_mtim), it->second)
                .str();
      }
      rel = it->second;
    }
    lines += llvm::formatv("b {0} {1} {2} {3} {4}\n", r.key.hex(),
                           rel.empty() ? "-" : rel, r.offset, r.length, r.items)
                 .str();
  }
  std::string text = kPackHeader.str() + "\nstep " + step.str() + "\nrun " +
                     run.str() + "\ncreated " +
                     std::to_string(realNowSeconds()) + "\n" + files + lines;
  if (llvm::Error e = writeSynced(stage + "/used", ""))
    return fail(std::move(e));
  if (llvm::Error e = writeSynced(stage + "/manifest", text))
    return fail(std::move(e));
  if (llvm::Error e = syncPath(stage + "/rows", true))
    return fail(std::move(e));
  if (llvm::Error e = sealStage(stage)) return fail(std::move(e));
  KeyHasher id;
  id.add(run);
  id.add(llvm::StringRef(stage));
  std::string name = part.hex() + "." + id.finish().hex().substr(0, 16);
  std::string pack = dir_ + "/batches/" + name;
  {
    EntryLock lock;
    if (llvm::Error e = lock.take(dir_ + "/locks/" + name))
      return fail(std::move(e));
    if (::rename(stage.c_str(), pack.c_str()) != 0)
      return fail(sysError("cannot store", pack, errno));
  }
  if (llvm::Error e = syncPath(dir_ + "/batches", true)) return e;
  // Packs whose every result came into this one are redundant.
  for (const Pack& p : packs_) {
    if (p.hits != p.results || p.name == name) continue;
    EntryLock lock;
    if (llvm::Error e = lock.take(dir_ + "/locks/" + p.name)) return e;
    if (llvm::Error e = removeAll(dir_ + "/batches/" + p.name)) return e;
    ::unlink((dir_ + "/locks/" + p.name).c_str());
  }
  return llvm::Error::success();
}

// --- option values -----------------------------------------------------------

std::optional<std::int64_t> parseAge(llvm::StringRef text) {
  text = text.trim();
  if (text.empty()) return std::nullopt;
  std::int64_t unit = 1;
  switch (text.back()) {
    case 's':
      break;
    case 'm':
      unit = 60;
      break;
    case 'h':
      unit = 3600;
      break;
    case 'd':
      unit = 86400;
      break;
    case 'w':
      unit = 7 * 86400;
      break;
    default:
      return std::nullopt;
  }
  std::int64_t n;
  if (text.drop_back().getAsInteger(10, n) || n < 0 ||
      n > std::int64_t(1) << 40)
    return std::nullopt;
  return n * unit;
}

std::optional<std::int64_t> parseSize(llvm::StringRef text) {
  text = text.trim();
  if (!text.consume_back("iB")) text.consume_back("B");
  double unit = 1;
  if (!text.empty()) {
    switch (llvm::toUpper(text.back())) {
      case 'K':
        unit = 1024.0;
        break;
      case 'M':
        unit = 1024.0 * 1024;
        break;
      case 'G':
        unit = 1024.0 * 1024 * 1024;
        break;
      case 'T':
        unit = 1024.0 * 1024 * 1024 * 1024;
        break;
    }
    if (unit != 1) text = text.drop_back();
  }
  double n;
  if (text.empty() ||
      !llvm::all_of(text,
                    [](char c) { return llvm::isDigit(c) || c == '.'; }) ||
      text.getAsDouble(n) || n * unit > 9e18)
    return std::nullopt;
  return std::int64_t(n * unit);
}

}  // namespace pipec::runtime
