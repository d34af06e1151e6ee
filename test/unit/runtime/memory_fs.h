// An in-memory FileSystem for tests of the plan and the layout.
#pragma once

#include <map>
#include <string>

#include "runtime/file_system.h"

namespace pipec::runtime {

class MemoryFileSystem : public FileSystem {
 public:
  struct Node {
    Kind kind = Kind::Directory;
    std::string data;    ///< file contents
    std::string target;  ///< symbolic link target, when not empty
  };
  std::map<std::string, Node> nodes{{"/", Node{}}};

  void addFile(const std::string& path, std::string data) {
    addDirs(parentOf(path));
    nodes[path] = Node{Kind::File, std::move(data), ""};
  }
  void addDirs(const std::string& path) {
    if (path.empty() || nodes.count(path)) return;
    addDirs(parentOf(path));
    nodes[path] = Node{};
  }
  /// The node at `path` after following links, or null.
  const Node* resolve(std::string path, int depth = 0) const {
    auto it = nodes.find(path);
    if (it == nodes.end() || depth > 8) return nullptr;
    if (it->second.target.empty()) return &it->second;
    const std::string& t = it->second.target;
    return resolve(t[0] == '/' ? t : normalize(parentOf(path) + "/" + t),
                   depth + 1);
  }

  Kind kind(llvm::StringRef path) override {
    const Node* n = resolve(path.str());
    return n ? n->kind : Kind::Missing;
  }
  llvm::Error makeDir(llvm::StringRef path) override {
    std::string p = path.str();
    if (const Node* n = resolve(p))
      return n->kind == Kind::Directory ? llvm::Error::success()
                                        : fail("exists", p);
    if (kind(parentOf(p)) != Kind::Directory) return fail("no parent", p);
    nodes[p] = Node{};
    return llvm::Error::success();
  }
  llvm::Error makeDirs(llvm::StringRef path) override {
    addDirs(path.str());
    return llvm::Error::success();
  }
  llvm::Error writeFile(llvm::StringRef path, llvm::StringRef data) override {
    std::string p = path.str();
    if (kind(parentOf(p)) != Kind::Directory) return fail("no parent", p);
    nodes[p] = Node{Kind::File, data.str(), ""};
    return llvm::Error::success();
  }
  llvm::Expected<std::string> readFile(llvm::StringRef path) override {
    const Node* n = resolve(path.str());
    if (!n || n->kind != Kind::File) return fail("cannot read", path.str());
    return n->data;
  }
  llvm::Error symlink(llvm::StringRef target, llvm::StringRef link) override {
    std::string p = link.str();
    if (nodes.count(p)) return fail("exists", p);
    nodes[p] = Node{Kind::Other, "", target.str()};
    return llvm::Error::success();
  }
  llvm::Error copyTree(llvm::StringRef from, llvm::StringRef to) override {
    std::string prefix = from.str() + "/";
    std::map<std::string, Node> copies;
    for (const auto& [path, node] : nodes)
      if (llvm::StringRef(path).startswith(prefix))
        copies[to.str() + "/" + path.substr(prefix.size())] = node;
    nodes.insert(copies.begin(), copies.end());
    return llvm::Error::success();
  }
  bool isEmptyDir(llvm::StringRef dir) override {
    std::string prefix = dir.str() + "/";
    for (const auto& [path, node] : nodes)
      if (llvm::StringRef(path).startswith(prefix)) return false;
    return kind(dir) == Kind::Directory;
  }
  llvm::Error removeTree(llvm::StringRef path) override {
    std::string p = path.str(), prefix = p + "/";
    for (auto it = nodes.begin(); it != nodes.end();)
      it = it->first == p || llvm::StringRef(it->first).startswith(prefix)
               ? nodes.erase(it)
               : std::next(it);
    return llvm::Error::success();
  }

  static std::string parentOf(const std::string& p) {
    auto slash = p.rfind('/');
    return slash == 0                   ? "/"
           : slash == std::string::npos ? ""
                                        : p.substr(0, slash);
  }
  static std::string normalize(const std::string& p) {
    std::vector<std::string> parts;
    llvm::SmallVector<llvm::StringRef, 16> pieces;
    llvm::StringRef(p).split(pieces, '/', -1, false);
    for (llvm::StringRef piece : pieces) {
      if (piece == ".") continue;
      if (piece == "..") {
        if (!parts.empty()) parts.pop_back();
        continue;
      }
      parts.push_back(piece.str());
    }
    std::string out;
    for (const std::string& part : parts) out += "/" + part;
    return out.empty() ? "/" : out;
  }

 private:
  static llvm::Error fail(const char* what, const std::string& p) {
    return llvm::createStringError(llvm::inconvertibleErrorCode(), "%s: %s",
                                   what, p.c_str());
  }
};

}  // namespace pipec::runtime
