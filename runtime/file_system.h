// The file operations the runtime needs, behind an interface so that the
// layout and the plan can be tested on an in-memory tree.
#pragma once

#include <string>

#include "llvm/ADT/StringRef.h"
#include "llvm/Support/Error.h"

namespace pipec::runtime {

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

  bool exists(llvm::StringRef path) { return kind(path) != Kind::Missing; }
};

/// The machine's file system, through plain system calls.
class RealFileSystem : public FileSystem {
 public:
  Kind kind(llvm::StringRef path) override;
  llvm::Error makeDir(llvm::StringRef path) override;
  llvm::Error makeDirs(llvm::StringRef path) override;
  llvm::Error writeFile(llvm::StringRef path, llvm::StringRef data) override;
  llvm::Expected<std::string> readFile(llvm::StringRef path) override;
  llvm::Error symlink(llvm::StringRef target, llvm::StringRef link) override;
  llvm::Error copyTree(llvm::StringRef from, llvm::StringRef to) override;
  bool isEmptyDir(llvm::StringRef dir) override;
  llvm::Error removeTree(llvm::StringRef path) override;
};

}  // namespace pipec::runtime
