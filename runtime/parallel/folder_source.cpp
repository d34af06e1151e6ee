// Folder inputs: files sorted by relative path, N per mini-batch, or one
// mini-batch per Hive-style partition folder (`Store=1/Brand=x/`).
#include <sys/stat.h>

#include <algorithm>

#include "llvm/Support/SHA1.h"
#include "runtime/parallel/batch_source.h"
#include "runtime/parallel/external_sort.h"
#include "runtime/parallel/file_list.h"
#include "runtime/parallel/source_impl.h"

namespace pipec::runtime::parallel {

bool filesUnchangedSince(int root_fd, llvm::StringRef files,
                         std::int64_t since_ns) {
  while (!files.empty()) {
    std::size_t nul = files.find('\0');
    if (nul == llvm::StringRef::npos) return false;
    const char* path = files.data();  // NUL-terminated in place
    files = files.drop_front(nul + 1);
    struct stat st;
    if (::fstatat(root_fd, path, &st, 0) != 0) return false;
    // The change time too: it moves when the modification time is set
    // back (cp -p, touch -d, rsync -t) and cannot be set by hand.
    std::int64_t mtime =
        std::int64_t(st.st_mtim.tv_sec) * 1000000000 + st.st_mtim.tv_nsec;
    std::int64_t ctime =
        std::int64_t(st.st_ctim.tv_sec) * 1000000000 + st.st_ctim.tv_nsec;
    if (std::max(mtime, ctime) >= since_ns) return false;
  }
  return true;
}

namespace {

class FolderSource : public BatchSource {
 public:
  FolderSource(std::string root, std::unique_ptr<ExternalSorter> sorter,
               std::uint64_t per_batch, std::vector<std::string> keys)
      : root_(std::move(root)),
        sorter_(std::move(sorter)),
        per_batch_(per_batch ? per_batch : 1),
        keys_(std::move(keys)) {
    have_next_ = sorter_->next(next_);
  }

  std::optional<std::uint64_t> total() const override {
    if (!keys_.empty()) return std::nullopt;
    return (sorter_->count() + per_batch_ - 1) / per_batch_;
  }

  bool next(MiniBatch& out) override {
    if (!have_next_ || failed()) return false;
    out.index = produced_;
    out.payload.clear();
    out.files.clear();
    out.items = 0;
    out.label = next_;
    llvm::SHA1 sha;
    std::vector<std::string> tuple;
    if (!keys_.empty() && !keyTuple(next_, tuple)) return false;
    out.payload.append(keys_.empty() ? "[" : "{\"p\":[");
    std::vector<std::string> t;
    while (have_next_) {
      if (keys_.empty()) {
        if (out.items == per_batch_) break;
      } else {
        if (!keyTuple(next_, t)) return false;
        if (t != tuple) break;
      }
      if (out.items) out.payload.push_back(',');
      path_.assign(root_);
      path_.push_back('/');
      path_.append(next_);
      appendJsonString(out.payload, path_);
      out.files.append(next_);
      out.files.push_back('\0');
      ++out.items;
      have_next_ = sorter_->next(next_);
    }
    if (!sorter_->error().empty()) {
      problem_ = {ir::diag::ParallelInputUnreadable, root_, sorter_->error()};
      return false;
    }
    out.payload.push_back(']');
    sha.update(out.files);
    if (!keys_.empty()) {
      out.payload.append(",\"pk\":");
      appendKeyObject(out.payload, keys_, tuple);
      out.payload.push_back('}');
      out.label = keyLabel(keys_, tuple);
      for (const std::string& v : tuple) {
        sha.update(v);
        sha.update(llvm::StringRef("\x1f", 1));
      }
    }
    std::copy_n(sha.final().bytes_begin(), 16, out.hash.bytes.begin());
    ++produced_;
    return true;
  }

 private:
  // The values of the partition keys in the folders of `rel`.
  bool keyTuple(const std::string& rel, std::vector<std::string>& tuple) {
    tuple.assign(keys_.size(), std::string());
    std::vector<bool> seen(keys_.size(), false);
    llvm::StringRef dir = llvm::StringRef(rel).rsplit('/').first;
    if (dir == rel) dir = "";
    while (!dir.empty()) {
      auto [segment, rest] = dir.split('/');
      dir = rest;
      auto [k, v] = segment.split('=');
      for (std::size_t i = 0; i < keys_.size(); ++i)
        if (k == keys_[i] && segment.contains('=')) {
          tuple[i] = v.str();
          seen[i] = true;
        }
    }
    for (std::size_t i = 0; i < keys_.size(); ++i)
      if (!seen[i]) {
        problem_ = {ir::diag::ParallelPartitionKeyMissing, keys_[i],
                    "has no '" + keys_[i] + "=VALUE' folder in the path of '" +
                        rel + "'"};
        return false;
      }
    return true;
  }

  std::string root_;
  std::unique_ptr<ExternalSorter> sorter_;
  std::uint64_t per_batch_;
  std::vector<std::string> keys_;
  std::string next_, path_;
  bool have_next_ = false;
};

}  // namespace

std::unique_ptr<BatchSource> openFolderSource(const SourceOptions& opts,
                                              Problem& problem) {
  auto sorter =
      std::make_unique<ExternalSorter>(opts.scratch_dir, opts.sort_memory);
  std::string root = opts.input_path;
  while (root.size() > 1 && root.back() == '/') root.pop_back();
  llvm::Error err =
      listFiles(root, [&](llvm::StringRef rel) { return sorter->add(rel); });
  if (!err) err = sorter->finish();
  if (err) {
    problem = {ir::diag::ParallelInputUnreadable, root,
               llvm::toString(std::move(err))};
    return nullptr;
  }
  std::vector<std::string> keys;
  if (opts.batch_by == ir::ParallelSettings::BatchBy::PartitionKeys)
    keys = opts.partition_keys;
  return std::make_unique<FolderSource>(std::move(root), std::move(sorter),
                                        opts.mini_batch_size, std::move(keys));
}

}  // namespace pipec::runtime::parallel
