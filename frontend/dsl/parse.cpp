// Runs the generated .pipe lexer and parser; turns their errors into one
// clear located diagnostic each.
#include "frontend/dsl/parse.h"

#include <set>

#include "fmt/format.h"
#include "ir/suggest.h"
#include "llvm/ADT/StringExtras.h"

namespace pipec::frontend::dsl {

namespace diag = ir::diag;
using pipec_dsl_gen::PipeLexer;
using pipec_dsl_gen::PipeParser;

ByteStream::ByteStream(llvm::StringRef bytes) {
  _data.reserve(bytes.size());
  for (char c : bytes) _data.push_back(static_cast<unsigned char>(c));
}

llvm::SMRange tokenRange(const Parse& p, const antlr4::Token* t) {
  return spanRange(p, t, t);
}

llvm::SMRange spanRange(const Parse& p, const antlr4::Token* from,
                        const antlr4::Token* to) {
  if (!from || !to) return {};
  std::size_t start = from->getStartIndex();
  std::size_t stop = to->getStopIndex();
  if (from->getType() == antlr4::Token::EOF || start == INVALID_INDEX)
    start = p.input->size();
  if (to->getType() == antlr4::Token::EOF || stop == INVALID_INDEX ||
      stop + 1 < start)
    stop = start == 0 ? 0 : start - 1;
  return {llvm::SMLoc::getFromPointer(p.base + start),
          llvm::SMLoc::getFromPointer(p.base + stop + 1)};
}

llvm::StringRef tokenText(const Parse& p, const antlr4::Token* t) {
  if (t->getType() == antlr4::Token::EOF) return "";
  std::size_t start = t->getStartIndex(), stop = t->getStopIndex();
  if (stop + 1 < start) return "";
  return llvm::StringRef(p.base + start, stop + 1 - start);
}

namespace {

std::string describeToken(const Parse& p, const antlr4::Token* t) {
  switch (t->getType()) {
    case antlr4::Token::EOF:
      return "end of file";
    case PipeLexer::STRING:
    case PipeLexer::TEXT_BLOCK:
      return "a string";
    default:
      break;
  }
  std::string text = tokenText(p, t).str();
  if (text.size() > 24) text = text.substr(0, 21) + "...";
  return "'" + text + "'";
}

std::string describeType(const antlr4::dfa::Vocabulary& vocab, size_t type) {
  switch (type) {
    case antlr4::Token::EOF:
      return "the end of the file";
    case PipeLexer::IDENT:
      return "a name";
    case PipeLexer::STRING:
    case PipeLexer::TEXT_BLOCK:
      return "a string";
    case PipeLexer::INT:
    case PipeLexer::FLOAT:
      return "a number";
    case PipeLexer::UNIT_NUMBER:
      return "a size or a duration";
    default:
      return vocab.getLiteralName(type);
  }
}

std::string joinOr(const std::vector<std::string>& items) {
  std::string out;
  for (std::size_t i = 0; i < items.size(); ++i) {
    if (i) out += i + 1 == items.size() ? " or " : ", ";
    out += items[i];
  }
  return out;
}

// What the parser wanted, in words: the token kinds when few, else what the
// enclosing rule holds.
std::string expectedText(PipeParser& parser) {
  std::vector<std::string> names;
  std::set<std::string> seen;
  antlr4::misc::IntervalSet set;
  try {
    set = parser.getExpectedTokens();
  } catch (...) {
    return "";
  }
  for (size_t t : set.toList()) {
    std::string n = describeType(parser.getVocabulary(), t);
    if (!n.empty() && seen.insert(n).second) names.push_back(n);
  }
  if (!names.empty() && names.size() <= 4) return joinOr(names);
  antlr4::ParserRuleContext* ctx = parser.getContext();
  switch (ctx ? ctx->getRuleIndex() : size_t(-1)) {
    case PipeParser::RuleFile:
      return "'import', 'component', 'parallel component' or 'pipeline'";
    case PipeParser::RuleComponentDecl:
    case PipeParser::RuleComponentItem:
      return "'in', 'out', 'param', an attribute or '}'";
    case PipeParser::RulePipelineDecl:
    case PipeParser::RulePipelineItem:
      return "a step (NAME = COMPONENT(...)), an attribute or '}'";
    case PipeParser::RuleBlock:
    case PipeParser::RuleSetting:
      return "a setting (NAME: VALUE) or '}'";
    case PipeParser::RuleValue:
    case PipeParser::RuleLiteral:
    case PipeParser::RuleAttribute:
    case PipeParser::RuleArgument:
      return "a value";
    default:
      return "";
  }
}

// "; did you mean 'component'?" when a name stands where a keyword was
// expected and looks like one.
std::string keywordHint(PipeParser* parser, antlr4::Token* offending) {
  if (!parser || offending->getType() != PipeLexer::IDENT) return "";
  std::vector<std::string> words;
  try {
    for (size_t t : parser->getExpectedTokens().toList()) {
      std::string lit = parser->getVocabulary().getLiteralName(t);
      if (lit.size() > 3 && llvm::isAlpha(lit[1]))
        words.push_back(lit.substr(1, lit.size() - 2));
    }
  } catch (...) {
    return "";
  }
  return ir::didYouMean(offending->getText(), words);
}

// YAML habit: `image: "x"` where the DSL writes `image "x"`.
std::string colonHint(PipeParser* parser, antlr4::Token* offending) {
  if (!parser || offending->getText() != ":") return "";
  antlr4::ParserRuleContext* ctx = parser->getContext();
  if (!ctx || ctx->getRuleIndex() != PipeParser::RuleAttribute) return "";
  return "; attributes take no ':' (write 'image \"x\"', not 'image: \"x\"')";
}

class ErrorListener : public antlr4::BaseErrorListener {
 public:
  ErrorListener(Parse& p, ir::DiagnosticEngine& diags,
                const std::set<size_t>& quiet_lines)
      : p_(p), diags_(diags), quiet_lines_(quiet_lines) {}

  void syntaxError(antlr4::Recognizer* recognizer, antlr4::Token* offending,
                   size_t line, size_t, const std::string& msg,
                   std::exception_ptr) override {
    if (!offending) return;
    if (quiet_lines_.count(line)) return;
    if (offending->getTokenIndex() == last_index_) return;
    last_index_ = offending->getTokenIndex();
    auto* parser = dynamic_cast<PipeParser*>(recognizer);
    std::string expected = parser ? expectedText(*parser) : "";
    std::string found = describeToken(p_, offending);
    std::string text;
    llvm::StringRef m(msg);
    if (m.startswith("missing ")) {
      text = fmt::format("missing {} before {}",
                         expected.empty() ? "a token" : expected, found);
    } else if (m.startswith("extraneous input")) {
      text = expected.empty()
                 ? fmt::format("unexpected {}", found)
                 : fmt::format("unexpected {}; expected {}", found, expected);
    } else {
      text = expected.empty()
                 ? fmt::format("unexpected {}", found)
                 : fmt::format("expected {}, found {}", expected, found);
    }
    if (m.startswith("extraneous") || m.startswith("mismatched") ||
        m.startswith("no viable"))
      text += colonHint(parser, offending);
    auto d = diags_.report(tokenRange(p_, offending), diag::DslSyntax, text,
                           keywordHint(parser, offending));
    if (offending->getType() == antlr4::Token::EOF && p_.unclosed)
      d.note(tokenRange(p_, p_.unclosed), "'{}' opened here is not closed",
             tokenText(p_, p_.unclosed).str());
    ++p_.errors;
  }

 private:
  Parse& p_;
  ir::DiagnosticEngine& diags_;
  const std::set<size_t>& quiet_lines_;
  size_t last_index_ = size_t(-1);
};

// The character itself, unless it is a control character.
std::string printable(llvm::StringRef s) {
  auto c = static_cast<unsigned char>(s[0]);
  if (c >= 0x80 || (c >= 0x20 && c < 0x7F)) return s.str();
  return fmt::format("\\x{:02X}", c);
}

}  // namespace

bool checkBytes(llvm::StringRef text, ir::DiagnosticEngine& diags) {
  auto at = [&](std::size_t i) {
    llvm::SMLoc l = llvm::SMLoc::getFromPointer(text.data() + i);
    return llvm::SMRange(l, l);
  };
  const auto* s = reinterpret_cast<const unsigned char*>(text.data());
  std::size_t n = text.size();
  for (std::size_t i = 0; i < n;) {
    unsigned char c = s[i];
    if (c == 0) {
      diags.report(at(i), diag::BinaryFile);
      return false;
    }
    if (c < 0x80) {
      ++i;
      continue;
    }
    std::size_t len = (c & 0xE0) == 0xC0   ? 2
                      : (c & 0xF0) == 0xE0 ? 3
                      : (c & 0xF8) == 0xF0 ? 4
                                           : 0;
    bool ok = len && i + len <= n && !(len == 2 && c < 0xC2) &&
              !(len == 4 && c > 0xF4);
    for (std::size_t k = 1; ok && k < len; ++k) ok = (s[i + k] & 0xC0) == 0x80;
    if (!ok) {
      diags.report(at(i), diag::InvalidUtf8, c);
      return false;
    }
    i += len;
  }
  return true;
}

std::unique_ptr<Parse> parse(llvm::StringRef text, ir::DiagnosticEngine& diags,
                             bool tree_wanted, bool probe) {
  auto p = std::make_unique<Parse>();
  p->base = text.data();
  try {
    p->input = std::make_unique<ByteStream>(text);
    p->lexer = std::make_unique<PipeLexer>(p->input.get());
    p->lexer->removeErrorListeners();
    p->tokens = std::make_unique<antlr4::CommonTokenStream>(p->lexer.get());
    p->tokens->fill();

    // Lexical problems, reported once each; the parser then skips the bad
    // tokens and stays quiet on their lines.
    std::set<size_t> quiet_lines;
    std::vector<antlr4::Token*> open;
    const auto& all = p->tokens->getTokens();
    for (std::size_t i = 0; i < all.size(); ++i) {
      antlr4::Token* t = all[i];
      size_t type = t->getType();
      if (type == PipeLexer::UNTERMINATED_STRING) {
        // Read as a string so that the rest of the line still parses.
        diags.report(tokenRange(*p, t), diag::DslUnterminatedString);
        ++p->errors;
        if (auto* w = dynamic_cast<antlr4::WritableToken*>(t))
          w->setType(PipeLexer::STRING);
        continue;
      }
      if (type == PipeLexer::BAD_CHAR) {
        // A non-ASCII character arrives as one token per byte: report it
        // once, whole.
        antlr4::Token* last = t;
        auto lead = static_cast<unsigned char>(tokenText(*p, t)[0]);
        std::size_t extra = lead >= 0xF0   ? 3
                            : lead >= 0xE0 ? 2
                            : lead >= 0xC0 ? 1
                                           : 0;
        for (std::size_t k = 0; k < extra && i + 1 < all.size(); ++k) {
          if (all[i + 1]->getType() != PipeLexer::BAD_CHAR) break;
          last = all[++i];
          if (auto* wl = dynamic_cast<antlr4::WritableToken*>(last))
            wl->setChannel(antlr4::Token::HIDDEN_CHANNEL);
        }
        llvm::SMRange r = spanRange(*p, t, last);
        diags.report(
            r, diag::DslBadCharacter,
            printable(llvm::StringRef(
                r.Start.getPointer(),
                std::size_t(r.End.getPointer() - r.Start.getPointer()))));
        ++p->errors;
        quiet_lines.insert(t->getLine());
        if (auto* w = dynamic_cast<antlr4::WritableToken*>(t))
          w->setChannel(antlr4::Token::HIDDEN_CHANNEL);
        continue;
      }
      if (t->getChannel() != antlr4::Token::DEFAULT_CHANNEL) continue;
      llvm::StringRef s = tokenText(*p, t);
      if (s == "{" || s == "(" || s == "[") {
        open.push_back(t);
        if (open.size() > kMaxNesting) {
          diags.report(tokenRange(*p, t), diag::DslNestingTooDeep, kMaxNesting);
          ++p->errors;
          return p;
        }
      } else if ((s == "}" || s == ")" || s == "]") && !open.empty()) {
        open.pop_back();
      }
    }
    if (!open.empty()) p->unclosed = open.back();
    if (!tree_wanted || (probe && p->errors)) return p;

    p->parser = std::make_unique<PipeParser>(p->tokens.get());
    // Fast path: SLL prediction, bail out at the first error; only a file
    // with errors (or a rare LL-only construct) is parsed again in full LL
    // mode with error recovery and reporting.
    p->parser->removeErrorListeners();
    p->parser->getInterpreter<antlr4::atn::ParserATNSimulator>()
        ->setPredictionMode(antlr4::atn::PredictionMode::SLL);
    p->parser->setErrorHandler(std::make_shared<antlr4::BailErrorStrategy>());
    try {
      p->tree = p->parser->file();
    } catch (antlr4::ParseCancellationException&) {
      p->tree = nullptr;
    }
    if (!p->tree && probe) {
      p->errors = 1;
    } else if (!p->tree) {
      p->tokens->seek(0);
      p->parser->reset();
      p->parser->getInterpreter<antlr4::atn::ParserATNSimulator>()
          ->setPredictionMode(antlr4::atn::PredictionMode::LL);
      p->parser->setErrorHandler(
          std::make_shared<antlr4::DefaultErrorStrategy>());
      ErrorListener listener(*p, diags, quiet_lines);
      p->parser->addErrorListener(&listener);
      p->tree = p->parser->file();
      p->parser->removeErrorListeners();
      if (p->errors == 0 && p->parser->getNumberOfSyntaxErrors() > 0) {
        // Only errors on lines that already have a lexical error.
        p->errors = 1;
      }
    }
  } catch (const std::exception& e) {
    diags.report(llvm::SMRange(llvm::SMLoc::getFromPointer(text.data()),
                               llvm::SMLoc::getFromPointer(text.data())),
                 diag::DslSyntax, "the parser gave up: ", e.what());
    ++p->errors;
    p->tree = nullptr;
  } catch (...) {
    diags.report(llvm::SMRange(llvm::SMLoc::getFromPointer(text.data()),
                               llvm::SMLoc::getFromPointer(text.data())),
                 diag::DslSyntax, "the parser gave up", "");
    ++p->errors;
    p->tree = nullptr;
  }
  return p;
}

}  // namespace pipec::frontend::dsl
