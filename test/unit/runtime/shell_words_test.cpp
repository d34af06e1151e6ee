// Word splitting and the "needs a shell" test that lets pipec skip sh.
#include "runtime/shell_words.h"

#include <gtest/gtest.h>

namespace pipec::runtime {
namespace {

using Words = std::vector<std::string>;

TEST(ShellWords, PlainWordsNeedNoShell) {
  SplitCommand c = splitCommand("python3 train.py --epochs 10 --lr 0.01");
  EXPECT_FALSE(c.needs_shell);
  EXPECT_EQ(c.words,
            (Words{"python3", "train.py", "--epochs", "10", "--lr", "0.01"}));
  EXPECT_FALSE(splitCommand("true").needs_shell);
  EXPECT_FALSE(splitCommand("  echo   a\tb  ").needs_shell);
  EXPECT_EQ(splitCommand("  echo   a\tb  ").words, (Words{"echo", "a", "b"}));
  EXPECT_FALSE(splitCommand("run --opt=a,b /x/y:z @f %g").needs_shell);
}

TEST(ShellWords, QuotesAsTheShellReadsThem) {
  // What shellQuote writes for "it's a \"test\"".
  SplitCommand c = splitCommand(R"(echo 'it'"'"'s a "test"' "a b" '' x'y'z)");
  EXPECT_FALSE(c.needs_shell);
  EXPECT_EQ(c.words, (Words{"echo", "it's a \"test\"", "a b", "", "xyz"}));
}

TEST(ShellWords, ExpansionsAndOperatorsNeedTheShell) {
  for (const char* line : {"echo $HOME",
                           "echo \"$x\"",
                           "echo `date`",
                           "a | b",
                           "a && b",
                           "a; b",
                           "a > f",
                           "a < f",
                           "(a)",
                           "ls *.txt",
                           "ls ?",
                           "ls [ab]",
                           "a # c",
                           "cd /tmp",
                           "export A=1",
                           "A=1 env",
                           "exit 3",
                           "echo a\nb",
                           "a & b",
                           "echo ~",
                           "echo \\x",
                           "echo 'unterminated",
                           "",
                           "   ",
                           "{ a; }",
                           "if true; then a; fi",
                           ". ./env.sh",
                           "echo !x"})
    EXPECT_TRUE(splitCommand(line).needs_shell) << line;
}

TEST(ShellWords, EqualsAfterTheFirstWordIsPlain) {
  SplitCommand c = splitCommand("env A=1 printenv A");
  EXPECT_FALSE(c.needs_shell);
  EXPECT_EQ(c.words[1], "A=1");
}

TEST(ShellWords, BackslashInDoubleQuotesEscapes) {
  SplitCommand c = splitCommand(R"(echo "a\"b")");
  EXPECT_TRUE(c.needs_shell);  // still split right, for program arguments
  EXPECT_EQ(c.words, (Words{"echo", "a\"b"}));
}

}  // namespace
}  // namespace pipec::runtime
