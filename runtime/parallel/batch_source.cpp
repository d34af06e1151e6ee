// Choosing the source for an input, and what the sources share.
#include "runtime/parallel/batch_source.h"

#include <sys/stat.h>

#include <cerrno>
#include <cstring>

#include "llvm/Support/Path.h"
#include "llvm/Support/SHA1.h"
#include "runtime/parallel/source_impl.h"

namespace pipec::runtime::parallel {

BatchSource::~BatchSource() = default;

InputKind inputKind(const SourceOptions& opts) {
  return opts.input_type == ir::Type::Table ? InputKind::Table
                                            : InputKind::Files;
}

void appendKeyObject(std::string& out, const std::vector<std::string>& keys,
                     const std::vector<std::string>& values) {
  out.append("{\"k\":[");
  for (std::size_t i = 0; i < keys.size(); ++i) {
    if (i) out.push_back(',');
    appendJsonString(out, keys[i]);
  }
  out.append("],\"v\":[");
  for (std::size_t i = 0; i < values.size(); ++i) {
    if (i) out.push_back(',');
    appendJsonString(out, values[i]);
  }
  out.append("]}");
}

std::string keyLabel(const std::vector<std::string>& keys,
                     const std::vector<std::string>& values) {
  std::string s;
  for (std::size_t i = 0; i < keys.size() && i < values.size(); ++i) {
    if (i) s.append(", ");
    s.append(keys[i]).append("=").append(values[i]);
  }
  return s;
}

namespace {

class SingleFileSource : public BatchSource {
 public:
  explicit SingleFileSource(std::string path) : path_(std::move(path)) {}
  std::optional<std::uint64_t> total() const override { return 1; }
  bool next(MiniBatch& out) override {
    if (produced_) return false;
    out.index = 0;
    out.items = 1;
    out.label = path_;
    out.payload.assign(1, '[');
    appendJsonString(out.payload, path_);
    out.payload.push_back(']');
    out.files = path_;
    out.files.push_back('\0');
    llvm::SHA1 sha;
    sha.update(llvm::sys::path::filename(path_));
    std::copy_n(sha.final().bytes_begin(), 16, out.hash.bytes.begin());
    ++produced_;
    return true;
  }

 private:
  std::string path_;
};

}  // namespace

std::unique_ptr<BatchSource> openSingleFileSource(const std::string& path) {
  return std::make_unique<SingleFileSource>(path);
}

std::unique_ptr<BatchSource> openBatchSource(const SourceOptions& opts,
                                             Problem& problem) {
  struct stat st;
  if (opts.input_path.empty()) {
    problem = {ir::diag::ParallelInputUnreadable, "",
               "the step has no input_data path"};
    return nullptr;
  }
  if (::stat(opts.input_path.c_str(), &st) != 0) {
    problem = {ir::diag::ParallelInputUnreadable, opts.input_path,
               std::strerror(errno)};
    return nullptr;
  }
  if (inputKind(opts) == InputKind::Table)
    return openTableSource(opts, problem);
  if (!S_ISDIR(st.st_mode)) {
    if (opts.batch_by == ir::ParallelSettings::BatchBy::PartitionKeys) {
      problem = {ir::diag::ParallelPartitionKeyMissing,
                 opts.partition_keys.empty() ? "" : opts.partition_keys[0],
                 "needs a table or a partitioned folder; '" + opts.input_path +
                     "' is a single file"};
      return nullptr;
    }
    return openSingleFileSource(opts.input_path);
  }
  return openFolderSource(opts, problem);
}

}  // namespace pipec::runtime::parallel
