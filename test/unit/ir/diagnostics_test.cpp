// Unit tests of the diagnostics engine and its printers: text with carets,
// ranges, long lines, notes and fix-its; JSON; counting and limits.
#include "ir/diagnostics.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "llvm/Support/JSON.h"

namespace pipec::ir {
namespace {

// One in-memory file, an engine, and what a printer wrote.
struct Printed {
  llvm::SourceMgr sm;
  std::string out;
  llvm::raw_string_ostream os{out};
  std::unique_ptr<DiagnosticConsumer> printer;
  std::unique_ptr<DiagnosticEngine> diags;
  const char* base = nullptr;

  explicit Printed(llvm::StringRef text, bool json = false) {
    sm.AddNewSourceBuffer(llvm::MemoryBuffer::getMemBufferCopy(text, "f.yaml"),
                          llvm::SMLoc());
    base = sm.getMemoryBuffer(1)->getBufferStart();
    if (json)
      printer = std::make_unique<JsonDiagnosticPrinter>(os, sm);
    else
      printer = std::make_unique<TextDiagnosticPrinter>(os, sm);
    diags = std::make_unique<DiagnosticEngine>(sm, *printer);
  }
  llvm::SMLoc at(std::size_t offset) const {
    return llvm::SMLoc::getFromPointer(base + offset);
  }
  llvm::SMRange range(std::size_t from, std::size_t to) const {
    return llvm::SMRange(at(from), at(to));
  }
  std::string text() {
    printer->finish();
    return os.str();
  }
};

TEST(TextPrinter, CaretUnderTheRangeOfTheRightLine) {
  Printed p("name: x\nvalue: abcdef\n");
  p.diags->report(p.range(15, 21), diag::DuplicateKey, "abcdef");
  EXPECT_EQ(p.text(),
            "f.yaml:2:8: error: duplicate key 'abcdef' [E0106]\n"
            "value: abcdef\n"
            "       ^~~~~~\n");
}

TEST(TextPrinter, FixItUnderTheCaretAndNotesAfter) {
  Printed p("type: strng\nname: a\n");
  p.diags->report(p.range(6, 11), diag::UnknownType, "strng", "")
      .fixit(p.range(6, 11), "string")
      .note(p.range(12, 16), "declared {} here", "'name'");
  EXPECT_EQ(p.text(),
            "f.yaml:1:7: error: unknown type 'strng' [E0301]\n"
            "type: strng\n"
            "      ^~~~~\n"
            "      string\n"
            "f.yaml:2:1: note: declared 'name' here\n"
            "name: a\n"
            "^~~~\n");
}

TEST(TextPrinter, LongLineIsCutAroundTheCaret) {
  std::string line(5000, 'a');
  line.replace(3000, 3, "bad");
  Printed p(line + "\n");
  p.diags->report(p.range(3000, 3003), diag::DuplicateKey, "bad");
  std::string out = p.text();
  std::size_t first = out.find('\n');
  std::string shown =
      out.substr(first + 1, out.find('\n', first + 1) - first - 1);
  EXPECT_EQ(out.substr(0, first),
            "f.yaml:1:3001: error: duplicate key 'bad' [E0106]");
  EXPECT_LT(shown.size(), 200u);
  EXPECT_EQ(shown.substr(0, 3), "...");
  EXPECT_EQ(shown.substr(shown.size() - 3), "...");
  std::string marks = out.substr(out.find('\n', first + 1) + 1);
  std::size_t caret = marks.find('^');
  ASSERT_NE(caret, std::string::npos);
  EXPECT_EQ(shown.substr(caret, 3), "bad");
  EXPECT_EQ(marks.substr(caret, 4), "^~~\n");
}

TEST(TextPrinter, UnprintableBytesAndNonAsciiKeepTheCaretAligned) {
  // \x01 and a stray 0xFF byte show as '?'; "é" is one column.
  Printed p("k: \x01\xFF\xC3\xA9 bad\n");
  p.diags->report(p.range(8, 11), diag::DuplicateKey, "bad");
  EXPECT_EQ(p.text(),
            "f.yaml:1:9: error: duplicate key 'bad' [E0106]\n"
            "k: ??\xC3\xA9 bad\n"
            "       ^~~\n");
}

TEST(TextPrinter, WithoutLocationPrintsTheOrigin) {
  Printed p("");
  p.diags
      ->report(llvm::SMRange(), diag::FileNotFound, "a.yaml",
               "No such file or directory")
      .origin("a.yaml");
  p.diags->report(llvm::SMRange(), diag::BadOverride, "--set", "x\ny", "bad");
  EXPECT_EQ(p.text(),
            "a.yaml: error: cannot open 'a.yaml': No such file or directory "
            "[E0001]\n"
            "pipec: error: bad --set 'x\\ny': bad [E0004]\n");
}

std::string str(const llvm::json::Object* o, llvm::StringRef key) {
  auto v = o->getString(key);
  return v ? v->str() : "<none>";
}
std::int64_t num(const llvm::json::Object* o, llvm::StringRef key) {
  auto v = o->getInteger(key);
  return v ? *v : -1;
}

TEST(JsonPrinter, OneArrayWithLocationsNotesAndFixIts) {
  Printed p("type: strng\nname: a\n", /*json=*/true);
  p.diags->report(p.range(6, 11), diag::UnknownType, "strng", "")
      .fixit(p.range(6, 11), "string")
      .note(p.range(12, 16), "declared here");
  p.diags->report(llvm::SMRange(), diag::ExtraDocument).origin("b.yaml");
  auto parsed = llvm::json::parse(p.text());
  ASSERT_TRUE(bool(parsed)) << llvm::toString(parsed.takeError());
  const llvm::json::Array* all = parsed->getAsArray();
  ASSERT_TRUE(all);
  ASSERT_EQ(all->size(), 2u);
  const llvm::json::Object* e = (*all)[0].getAsObject();
  EXPECT_EQ(str(e, "severity"), "error");
  EXPECT_EQ(str(e, "code"), "E0301");
  EXPECT_EQ(str(e, "kind"), "UnknownType");
  EXPECT_EQ(str(e, "message"), "unknown type 'strng'");
  EXPECT_EQ(str(e, "file"), "f.yaml");
  EXPECT_EQ(num(e, "line"), 1);
  EXPECT_EQ(num(e, "column"), 7);
  EXPECT_EQ(num(e, "end_line"), 1);
  EXPECT_EQ(num(e, "end_column"), 12);
  const llvm::json::Array* notes = e->getArray("notes");
  ASSERT_TRUE(notes && notes->size() == 1);
  EXPECT_EQ(num((*notes)[0].getAsObject(), "line"), 2);
  const llvm::json::Array* fixits = e->getArray("fixits");
  ASSERT_TRUE(fixits && fixits->size() == 1);
  EXPECT_EQ(str((*fixits)[0].getAsObject(), "replacement"), "string");
  const llvm::json::Object* w = (*all)[1].getAsObject();
  EXPECT_EQ(str(w, "severity"), "warning");
  EXPECT_EQ(str(w, "origin"), "b.yaml");
  EXPECT_EQ(num(w, "line"), -1);
}

TEST(DiagnosticEngine, WarningsAsErrorsIgnoredAndLimited) {
  Printed p("");
  StoringDiagnosticConsumer kept;
  p.diags->setConsumer(kept);
  p.diags->setWarningsAsErrors(true);
  p.diags->report(llvm::SMRange(), diag::ExtraDocument);
  EXPECT_EQ(kept.diags.at(0).severity, Severity::Error);
  p.diags->setWarningsAsErrors(false);
  p.diags->setIgnoreWarnings(true);
  p.diags->report(llvm::SMRange(), diag::ExtraDocument);
  EXPECT_EQ(kept.diags.size(), 1u);
  p.diags->setErrorLimit(3);
  for (int i = 0; i < 5; ++i) p.diags->report(llvm::SMRange(), diag::EmptyFile);
  // Two more errors fit under the limit, then one "too many" and silence.
  ASSERT_EQ(kept.diags.size(), 4u);
  EXPECT_EQ(kept.diags.back().kind, DiagKind::TooManyErrors);
  EXPECT_EQ(kept.diags.back().message,
            "too many errors emitted (3), stopping now");
  EXPECT_EQ(p.diags->errorCount(), 6u);
}

TEST(LineTable, ResolvesAgainAfterTheSourceMgrIsMadeAgain) {
  llvm::SourceMgr sm;
  sm.AddNewSourceBuffer(llvm::MemoryBuffer::getMemBufferCopy("a\nb\n", "one"),
                        llvm::SMLoc());
  LineTable lines(sm);
  const char* one = sm.getMemoryBuffer(1)->getBufferStart();
  EXPECT_EQ(lines.resolve(llvm::SMLoc::getFromPointer(one + 2)).line, 2u);
  sm = llvm::SourceMgr();
  sm.AddNewSourceBuffer(
      llvm::MemoryBuffer::getMemBufferCopy("x\ny\nz\nw\n", "two"),
      llvm::SMLoc());
  const char* two = sm.getMemoryBuffer(1)->getBufferStart();
  LineCol lc = lines.resolve(llvm::SMLoc::getFromPointer(two + 6));
  EXPECT_EQ(lc.file, "two");
  EXPECT_EQ(lc.line, 4u);
  EXPECT_EQ(lc.column, 1u);
}

// Lines are indexed only as far as asked: every offset, asked in any
// order, resolves as counting the newlines before it does.
TEST(LineTable, EveryOffsetInAnyOrderAsCountingNewlines) {
  for (std::string text : {std::string("a\nbc\n\n\rd\r\nlast"),
                           std::string("\n\nx\n"), std::string("one line")}) {
    llvm::SourceMgr sm;
    sm.AddNewSourceBuffer(llvm::MemoryBuffer::getMemBufferCopy(text, "f"),
                          llvm::SMLoc());
    const char* start = sm.getMemoryBuffer(1)->getBufferStart();
    std::vector<std::size_t> order(text.size());
    for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
    for (int round = 0; round < 3; ++round) {
      if (round == 1) std::reverse(order.begin(), order.end());
      if (round == 2)
        for (std::size_t i = 0; i < order.size(); ++i)
          std::swap(order[i], order[(i * 7 + 3) % order.size()]);
      LineTable lines(sm);
      for (std::size_t at : order) {
        auto loc = llvm::SMLoc::getFromPointer(start + at);
        // After the last newline before `at`, or the start.
        std::size_t line_start = 0;
        if (at > 0)
          if (std::size_t nl = text.rfind('\n', at - 1);
              nl != std::string::npos)
            line_start = nl + 1;
        std::size_t line_end = text.find('\n', at);
        if (line_end == std::string::npos) line_end = text.size();
        LineCol lc = lines.resolve(loc);
        EXPECT_EQ(lc.line,
                  1u + std::count(text.begin(), text.begin() + at, '\n'))
            << "offset " << at;
        EXPECT_EQ(lc.column, at - line_start + 1) << "offset " << at;
        EXPECT_EQ(lines.lineOf(loc),
                  llvm::StringRef(text).slice(line_start, line_end).rtrim("\r"))
            << "offset " << at;
      }
    }
  }
}

TEST(Utf16, LengthCountsCodeUnits) {
  EXPECT_EQ(utf16Length(""), 0u);
  EXPECT_EQ(utf16Length("abc"), 3u);
  EXPECT_EQ(utf16Length("\xC3\xA9"), 1u);          // é
  EXPECT_EQ(utf16Length("\xE2\x82\xAC"), 1u);      // €
  EXPECT_EQ(utf16Length("\xF0\x9F\x98\x80"), 2u);  // 😀, a surrogate pair
  EXPECT_EQ(utf16Length("a\xFF"
                        "b"),
            3u);                           // a stray byte: one unit
  EXPECT_EQ(utf16Length("\xE2\x82"), 2u);  // cut short: two bytes
}

TEST(DiagDef, MessagesAreFormattedFromTheTypedEntry) {
  EXPECT_EQ(diag::FileTooLarge.message("a.yaml", std::uint64_t(7), 5u),
            "'a.yaml' is too large (7 bytes; the limit is 5)");
  EXPECT_EQ(diag::InvalidUtf8.message(static_cast<unsigned char>(0xE9)),
            "invalid UTF-8 (byte 0xE9)");
  EXPECT_EQ(diag::ParallelBatchForTable.message(10, "data"),
            "mini_batch_size 10 of table input 'data' is a size in bytes "
            "for a table, and a count of files for an MLTable that only "
            "lists paths; write '10kb' or '1mb' for a size");
  EXPECT_EQ(diag::FileNotFound.kind(), DiagKind::FileNotFound);
  EXPECT_STREQ(diagInfo(DiagKind::FileNotFound).code, "E0001");
}

}  // namespace
}  // namespace pipec::ir
