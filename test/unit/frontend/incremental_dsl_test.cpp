// The incremental reading of .pipe files (SessionOptions::reuse_declarations,
// what the language server uses) against reading the same text afresh:
// random edit sequences over the examples, the standard library, the DSL
// tests' files and the language-server benchmark's file; after every edit
// the diagnostics (codes, messages, positions, notes, fix-its), the AST with
// every range and the IR with its locations must be identical, also while a
// declaration does not parse and after it is fixed.
#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

#include "frontend/ast_json.h"
#include "frontend/dsl/dsl_loader.h"
#include "frontend/session.h"
#include "ir/json_dump.h"
#include "llvm/ADT/SmallString.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"

namespace pipec::frontend {
namespace {

// Everything a check shows a user, positions resolved, as text.
std::string render(Session& s, const CheckResult& r, llvm::StringRef path) {
  auto at = [&](llvm::SMRange range) {
    std::string out;
    for (llvm::SMLoc l : {range.Start, range.End}) {
      if (!l.isValid()) {
        out += " -";
        continue;
      }
      auto p = r.locate(l);
      out += p ? " " + p->display + ":" + std::to_string(p->line) + ":" +
                     std::to_string(p->column) + "/" + std::to_string(p->utf16)
               : std::string(" ?");
    }
    return out;
  };
  std::string out;
  for (const FileDiagnostics& f : r.files) {
    out += "file " + f.display + " " + std::to_string(f.errors) + " " +
           std::to_string(f.warnings) + "\n";
    for (const ir::Diagnostic& d : f.diagnostics) {
      out += std::string(d.code()) + " " + std::to_string(int(d.severity)) +
             at(d.range) + " " + d.message + " [" + d.origin + "]\n";
      for (const ir::DiagNote& n : d.notes)
        out += "  note" + at(n.range) + " " + n.message + "\n";
      for (const ir::DiagFixIt& x : d.fixits)
        out += "  fixit" + at(x.range) + " " + x.replacement + "\n";
    }
  }
  out += "errors " + std::to_string(r.errors) + " warnings " +
         std::to_string(r.warnings) + " verified " +
         std::to_string(r.verified) + "\n";
  if (const ast::File* f = s.loadFile(path))
    out += dumpAst(*f, path, s.sourceMgr());
  else
    out += "no AST\n";
  if (r.module) {
    ir::DumpOptions o;
    o.locations = true;
    o.sm = &s.sourceMgr();
    out += ir::dumpJson(*r.module, o);
  } else {
    out += "no module\n";
  }
  return out;
}

std::string checked(Session& s, const std::string& path,
                    const std::string& text) {
  s.update(path, text);
  auto r = s.check(path);
  if (!r) return "internal error: " + llvm::toString(r.takeError());
  return render(s, *r, path);
}

// The text with one random edit: characters that open or close blocks,
// strings and comments, keywords, line breaks, deletions, moved lines.
std::string edit(const std::string& text, std::mt19937& rng) {
  static const char* const kPieces[] = {"{",
                                        "}",
                                        "(",
                                        ")",
                                        "\"",
                                        "\"\"\"",
                                        "/*",
                                        "*/",
                                        "//",
                                        "\n",
                                        "x",
                                        "7",
                                        ".",
                                        ",",
                                        ":",
                                        "=",
                                        "\\",
                                        " ",
                                        "\n}\n",
                                        "\ncomponent ",
                                        "\nparallel component p {\n",
                                        "\npipeline ",
                                        "\nimport ",
                                        "in x: int\n",
                                        "  param lr: float = 0.5\n",
                                        "é",
                                        "component extra {\n  image \"a\"\n  "
                                        "command \"echo $<<inputs.y>>\"\n}\n"};
  std::string t = text;
  auto pos = [&] {
    return t.empty()
               ? std::size_t(0)
               : std::uniform_int_distribution<std::size_t>(0, t.size())(rng);
  };
  switch (std::uniform_int_distribution<int>(0, 9)(rng)) {
    case 0:
    case 1:
    case 2:
    case 3: {  // insert a piece
      const char* piece = kPieces[std::uniform_int_distribution<std::size_t>(
          0, std::size(kPieces) - 1)(rng)];
      t.insert(pos(), piece);
      break;
    }
    case 4:
    case 5: {  // delete a few characters
      std::size_t at = pos();
      std::size_t n = std::uniform_int_distribution<std::size_t>(1, 8)(rng);
      if (at < t.size()) t.erase(at, std::min(n, t.size() - at));
      break;
    }
    case 6: {  // replace one character (as typing over a digit does)
      std::size_t at = pos();
      if (at < t.size()) t[at] = "0123456789abcxyz_"[rng() % 17];
      break;
    }
    case 7: {  // move a line elsewhere
      std::size_t a = t.rfind('\n', pos());
      a = a == std::string::npos ? 0 : a + 1;
      std::size_t b = t.find('\n', a);
      b = b == std::string::npos ? t.size() : b + 1;
      std::string line = t.substr(a, b - a);
      t.erase(a, b - a);
      t.insert(pos(), line);
      break;
    }
    case 8: {  // duplicate a line
      std::size_t a = t.rfind('\n', pos());
      a = a == std::string::npos ? 0 : a + 1;
      std::size_t b = t.find('\n', a);
      b = b == std::string::npos ? t.size() : b + 1;
      t.insert(a, t.substr(a, b - a));
      break;
    }
    default: {  // swap two characters
      std::size_t a = pos(), b = pos();
      if (a < t.size() && b < t.size()) std::swap(t[a], t[b]);
      break;
    }
  }
  return t;
}

// Applies `edits` random edits to `original` (now and then going back to
// the original or to the text before the last edit, as undo does) and
// compares the incremental Session with a fresh one after each.
void fuzz(const std::string& path, const std::string& original, unsigned seed,
          unsigned edits) {
  SessionOptions inc_opts;
  inc_opts.reuse_declarations = true;
  Session inc(inc_opts);
  std::mt19937 rng(seed);
  std::string text = original, before = original;
  ASSERT_EQ(checked(inc, path, text), [&] {
    Session fresh;
    return checked(fresh, path, text);
  }());
  for (unsigned i = 0; i < edits; ++i) {
    unsigned r = rng() % 10;
    std::string next = r == 0 ? original : r == 1 ? before : edit(text, rng);
    before = text;
    text = next;
    Session fresh;
    std::string want = checked(fresh, path, text);
    std::string got = checked(inc, path, text);
    if (got != want) {
      ADD_FAILURE() << path << ": seed " << seed << ", edit " << i
                    << ", text:\n"
                    << text << "\n--- incremental:\n"
                    << got << "\n--- afresh:\n"
                    << want;
      return;
    }
  }
}

std::string source(llvm::StringRef rel) {
  llvm::SmallString<256> p(PIPEC_SOURCE_DIR);
  llvm::sys::path::append(p, rel);
  return std::string(p);
}

std::vector<std::string> pipeFiles() {
  std::vector<std::string> out;
  for (const char* dir : {"examples", "stdlib", "test/DSL"}) {
    std::error_code ec;
    for (llvm::sys::fs::recursive_directory_iterator it(source(dir), ec), end;
         it != end && !ec; it.increment(ec))
      if (llvm::StringRef(it->path()).endswith(".pipe"))
        out.push_back(it->path());
  }
  std::sort(out.begin(), out.end());
  return out;
}

std::string readFile(const std::string& path) {
  auto b = llvm::MemoryBuffer::getFile(path);
  return b ? (*b)->getBuffer().str() : "";
}

// tools/bench/lsp/bench.py's file: `components` components and a pipeline
// of `steps` steps calling them.
std::string benchFile(unsigned components, unsigned steps) {
  std::string s;
  for (unsigned c = 0; c < components; ++c) {
    std::string n = std::to_string(c);
    s +=
        "// Component " + n + ": reads a folder and a table, writes a model.\n";
    s += "component c" + n + " {\n";
    s += "  version \"1.0." + n + "\"\n";
    s += "  description \"component number " + n + "\"\n";
    s += "  image \"python:3.11-slim\"\n";
    s += "  command \"python3 run.py --data $<<inputs.data>> --lr "
         "$<<parameters.lr>>\"\n";
    s += "      \" --out $<<outputs.model>>\"\n";
    s += "  in data: folder\n  out model: folder\n";
    s += "  param lr: float = 0.01 in 0..1\n";
    s += "  param mode: string = \"fast\" in { \"fast\", \"slow\" }\n}\n";
  }
  s += "pipeline big(raw: folder, rate: float = 0.5) -> (final: folder) {\n";
  for (unsigned i = 0; i < steps; ++i) {
    std::string src = i == 0 ? "raw" : "s" + std::to_string(i - 1) + ".model";
    s += "  s" + std::to_string(i) + " = c" + std::to_string(i % components) +
         "(data: " + src + ", lr: rate)\n";
  }
  s += "  final = s" + std::to_string(steps - 1) + ".model\n}\n";
  return s;
}

TEST(IncrementalDsl, RandomEditsOfEveryPipeFileMatchAFreshRead) {
  std::vector<std::string> files = pipeFiles();
  ASSERT_GE(files.size(), 20u) << "the repository's .pipe files were not found";
  unsigned seed = 1;
  for (const std::string& f : files) {
    SCOPED_TRACE(f);
    fuzz(f, readFile(f), seed++, 40);
  }
}

TEST(IncrementalDsl, RandomEditsOfTheBenchmarkFileMatchAFreshRead) {
  // In the examples' folder, so that the relative paths resolve alike.
  std::string path = source("examples/basic/bench-incremental.pipe");
  fuzz(path, benchFile(30, 120), 7, 60);
  fuzz(path, benchFile(300, 1300), 11, 6);
}

TEST(IncrementalDsl, ReusedDeclarationsKeepTheirPositionsWhenTextMoves) {
  // A component whose text does not change, after a line is added above it:
  // its diagnostic moves down with it.
  std::string path = source("examples/basic/moved.pipe");
  std::string text =
      "component a {\n  image \"x\"\n  command \"echo\"\n}\n"
      "component b {\n  imag \"x\"\n  command \"echo\"\n}\n";
  SessionOptions o;
  o.reuse_declarations = true;
  Session inc(o);
  std::string first = checked(inc, path, text);
  EXPECT_NE(first.find("moved.pipe:6:3"), std::string::npos) << first;
  text.insert(text.find("component a") + 13, "\n  // a comment\n");
  std::string second = checked(inc, path, text);
  EXPECT_NE(second.find("moved.pipe:8:3"), std::string::npos) << second;
  Session fresh;
  EXPECT_EQ(second, checked(fresh, path, text));
}

TEST(IncrementalDsl, AnUnchangedPipelineIsBuiltAgainWhenTheImportsChange) {
  // The pipeline's text stays; what its calls resolve to does not.
  std::string path = source("test/DSL/Inputs/interop/pipeline.pipe");
  std::string text = readFile(path);
  ASSERT_NE(text.find("as lib\n"), std::string::npos);
  SessionOptions o;
  o.reuse_declarations = true;
  Session inc(o);
  auto same = [&](const std::string& t) {
    Session fresh;
    std::string got = checked(inc, path, t), want = checked(fresh, path, t);
    EXPECT_EQ(got, want);
    return got;
  };
  std::string clean = same(text);
  std::string renamed = text;
  renamed.replace(renamed.find("as lib\n"), 7, "as lub\n");
  EXPECT_NE(same(renamed).find("E13"), std::string::npos);
  // A standard component called without an import, then imported.
  std::string implicit = renamed;
  implicit.replace(implicit.find("lib.score"), 9, "std.copy_folder");
  same(implicit);
  same("import std.copy_folder\n" + implicit);
  EXPECT_EQ(same(text), clean);
}

TEST(IncrementalDsl, DeclarationStartsSkipCommentsAndStrings) {
  std::string text =
      "import std.copy_folder\n"        // 0: the first line is not a cut
      "component a {\n"                 // 23
      "  command \"x\\\ncomponent\"\n"  // an escaped line break
      "}\n"
      "/* component b {\n"
      "component c { */\n"
      "\"\"\"\n"
      "pipeline p {\n"
      "\"\"\"\n"
      "  parallel component\n"  // indented: still a cut
      "pipeline\n"              // no blank after: not a cut
      "// component d {\n";
  std::vector<std::size_t> starts = dslDeclarationStarts(text);
  std::vector<std::string> lines;
  for (std::size_t s : starts)
    lines.push_back(text.substr(s, text.find('\n', s) - s));
  EXPECT_EQ(lines, (std::vector<std::string>{"component a {",
                                             "  parallel component"}));
}

}  // namespace
}  // namespace pipec::frontend
