// The file operations the runtime needs, behind an interface so that the
// layout and the plan can be tested on an in-memory tree.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>

#include "llvm/ADT/ArrayRef.h"
#include "llvm/ADT/StringRef.h"
#include "llvm/Support/Error.h"

namespace pipec::runtime {

/// One entry of a tree made by FileSystem::makeTree.
struct TreeEntry {
  enum class Kind : std::uint8_t { Dir, File, Link };
  Kind kind;
  std::string path;  ///< relative to the tree's root; parents come first
  std::string data;  ///< a file's contents, or a link's target
};

class FileSystem {
 public:
  enum class Kind { Missing, File, Directory, Other };

  virtual ~FileSystem();
  /// What `path` is, following symbolic links.
  virtual Kind kind(llvm::StringRef path) = 0;
  /// Creates `path`; its parent must exist. An existing directory is fine.
  virtual llvm::Error makeDir(llvm::StringRef path) = 0;
  /// Creates `path` and every missing parent.
  virtual llvm::Error makeDirs(llvm::StringRef path) = 0;
  /// Creates or replaces the file `path` with `data`.
  virtual llvm::Error writeFile(llvm::StringRef path, llvm::StringRef data) = 0;
  /// Replaces the file `path` with `data` so that a reader sees the old
  /// contents or the new, never a part (the default: writeFile()).
  virtual llvm::Error replaceFile(llvm::StringRef path, llvm::StringRef data);
  virtual llvm::Expected<std::string> readFile(llvm::StringRef path) = 0;
  /// Creates the symbolic link `link` pointing at `target` (as written).
  virtual llvm::Error symlink(llvm::StringRef target, llvm::StringRef link) = 0;
  /// Copies the tree at `from` into the existing directory `to`: files
  /// (reflinked when the file system can), folders and symbolic links.
  virtual llvm::Error copyTree(llvm::StringRef from, llvm::StringRef to) = 0;
  /// True when `dir` is a directory with no entries.
  virtual bool isEmptyDir(llvm::StringRef dir) = 0;
  /// Removes `path` and, when it is a directory (not a link to one),
  /// everything below it. A missing path is fine.
  virtual llvm::Error removeTree(llvm::StringRef path) = 0;
  /// Creates the folder `root` (as makeDir) and `entries` below it, in
  /// order. Existing folders are fine; existing files and links are
  /// replaced. The default goes through the calls above with whole paths.
  virtual llvm::Error makeTree(llvm::StringRef root,
                               llvm::ArrayRef<TreeEntry> entries);

  bool exists(llvm::StringRef path) { return kind(path) != Kind::Missing; }
};

/// Copies the regular file `from` to `to` (created or truncated, with
/// `mode`): a reflink when the file system shares blocks, else
/// copy_file_range, else read/write.
llvm::Error copyFile(const std::string& from, const std::string& to,
                     mode_t mode);

/// The machine's file system, through plain system calls.
class RealFileSystem : public FileSystem {
 public:
  Kind kind(llvm::StringRef path) override;
  llvm::Error makeDir(llvm::StringRef path) override;
  llvm::Error makeDirs(llvm::StringRef path) override;
  llvm::Error writeFile(llvm::StringRef path, llvm::StringRef data) override;
  /// A file beside `path`, renamed over it.
  llvm::Error replaceFile(llvm::StringRef path, llvm::StringRef data) override;
  llvm::Expected<std::string> readFile(llvm::StringRef path) override;
  llvm::Error symlink(llvm::StringRef target, llvm::StringRef link) override;
  llvm::Error copyTree(llvm::StringRef from, llvm::StringRef to) override;
  bool isEmptyDir(llvm::StringRef dir) override;
  llvm::Error removeTree(llvm::StringRef path) override;
  /// Creates the entries relative to the root's descriptor: no path is
  /// looked up twice, and nothing is checked before it is created.
  llvm::Error makeTree(llvm::StringRef root,
                       llvm::ArrayRef<TreeEntry> entries) override;
};

}  // namespace pipec::runtime
