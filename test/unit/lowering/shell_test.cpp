// Word splitting and the "needs a shell" test that lets pipec skip sh.
#include "lowering/shell.h"

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <map>

#include "llvm/Support/FileSystem.h"

namespace pipec::lowering {
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

// --- lowerCommand: how values enter commands ---------------------------------

CommandPiece text(const char* t) {
  return {CommandPiece::Kind::Text, t, "", {}};
}
CommandPiece val(const std::string& v, const char* var = "PAI_HPS_S") {
  return {CommandPiece::Kind::Value, v, var, {}};
}

TEST(LowerCommand, EachQuotingContextGetsItsReference) {
  auto shell = [](std::vector<CommandPiece> p) {
    return lowerCommand(p, {}).shell;
  };
  EXPECT_EQ(shell({text("echo "), val("x")}), "echo \"$PAI_HPS_S\"");
  EXPECT_EQ(shell({text("echo \"v="), val("x"), text("\"")}),
            "echo \"v=${PAI_HPS_S}\"");
  EXPECT_EQ(shell({text("echo 'v="), val("x"), text("'")}),
            "echo 'v='\"$PAI_HPS_S\"''");
  EXPECT_EQ(shell({text("echo \"$(basename "), val("x"), text(")\"")}),
            "echo \"$(basename \"$PAI_HPS_S\")\"");
  EXPECT_EQ(shell({text("echo `basename "), val("x"), text("`")}),
            "echo `basename \"$PAI_HPS_S\"`");
  EXPECT_EQ(shell({text("echo ${X:-"), val("x"), text("}")}),
            "echo ${X:-\"$PAI_HPS_S\"}");
  EXPECT_EQ(shell({text("echo \"${X:-"), val("x"), text("}\"")}),
            "echo \"${X:-${PAI_HPS_S}}\"");
  EXPECT_EQ(shell({text("cat <<EOF\nv="), val("x"), text("\nEOF\n")}),
            "cat <<EOF\nv=${PAI_HPS_S}\nEOF\n");
  // A quoted here-document with a binding is written unquoted, its own text
  // escaped so that it still reads literally.
  EXPECT_EQ(shell({text("cat <<'EOF'\n$HOME `x` \\ "), val("x"),
                   text("\nEOF\necho $HOME")}),
            "cat <<EOF\n\\$HOME \\`x\\` \\\\ ${PAI_HPS_S}\nEOF\necho $HOME");
  // Without a binding in it, a quoted here-document is left alone.
  EXPECT_EQ(shell({text("cat <<'EOF'\n$HOME\nEOF\necho "), val("x")}),
            "cat <<'EOF'\n$HOME\nEOF\necho \"$PAI_HPS_S\"");
  EXPECT_EQ(shell({text("# uses "), val("x"), text("\necho")}),
            "# uses ${PAI_HPS_S}\necho");
}

TEST(LowerCommand, ValuesAreWholeWordsWithoutAShell) {
  LoweredCommand c =
      lowerCommand({text("wc -c "), val("/a b/f'x"), text(" \"--o="),
                    val("$(y)"), text("\" 'k="), val("1 2"), text("'")},
                   {});
  EXPECT_EQ(c.argv, (Words{"wc", "-c", "/a b/f'x", "--o=$(y)", "k=1 2"}));
  // A value as the program's name goes through the shell, which decides
  // what it names.
  EXPECT_TRUE(lowerCommand({val("prog"), text(" x")}, {}).argv.empty());
}

TEST(LowerCommand, BareUserArgsAreOneWordPerFlagAndValue) {
  std::vector<UserArg> args = {{"--a", "PAI_HPS_A", "hello world"},
                               {"--b", "PAI_HPS_B", ""}};
  LoweredCommand c =
      lowerCommand({text("python main.py $PAI_USER_ARGS")}, args);
  EXPECT_EQ(c.shell, "python main.py --a \"$PAI_HPS_A\" --b \"$PAI_HPS_B\"");
  EXPECT_EQ(c.argv,
            (Words{"python", "main.py", "--a", "hello world", "--b", ""}));
  c = lowerCommand({text("run ${PAI_USER_ARGS} --x 1")}, args);
  EXPECT_EQ(c.shell, "run --a \"$PAI_HPS_A\" --b \"$PAI_HPS_B\" --x 1");
  // Quoted, or part of a longer word, the variable keeps its text.
  EXPECT_EQ(lowerCommand({text("echo \"$PAI_USER_ARGS\"")}, args).shell,
            "echo \"$PAI_USER_ARGS\"");
  EXPECT_EQ(lowerCommand({text("echo $PAI_USER_ARGSX")}, args).shell,
            "echo $PAI_USER_ARGSX");
}

TEST(LowerCommand, ProblemsThatCannotBeMadeSafe) {
  LoweredCommand c =
      lowerCommand({text("echo $(( "), val("a[$(id)]"), text(" + 1 ))")}, {});
  ASSERT_EQ(c.problems.size(), 1u);
  EXPECT_EQ(c.problems[0].kind, CommandProblem::Kind::ArithmeticValue);
  EXPECT_TRUE(lowerCommand({text("echo $(( "), val("-12"), text(" + 1 ))")}, {})
                  .problems.empty());
  c = lowerCommand({text("cat <<"), val("EOF"), text("\nx\nEOF")}, {});
  ASSERT_EQ(c.problems.size(), 1u);
  EXPECT_EQ(c.problems[0].kind, CommandProblem::Kind::HeredocDelimiter);
  c = lowerCommand({text("cat <<'E F'\n"), val("x"), text("\nE F\n")}, {});
  ASSERT_EQ(c.problems.size(), 1u);
  EXPECT_EQ(c.problems[0].kind, CommandProblem::Kind::HeredocNeedsRewrite);
}

// Runs `shell -c line` with `env` and returns its standard output.
std::string runShell(const std::vector<std::string>& shell,
                     const std::string& line,
                     const std::map<std::string, std::string>& env,
                     const std::string& cwd) {
  int fds[2];
  if (::pipe(fds) != 0) return "<pipe failed>";
  pid_t pid = ::fork();
  if (pid == 0) {
    ::dup2(fds[1], 1);
    ::close(fds[0]);
    if (::chdir(cwd.c_str()) != 0) ::_exit(126);
    std::vector<std::string> args = shell;
    args.push_back("-c");
    args.push_back(line);
    std::vector<char*> argv, envp;
    for (std::string& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    std::vector<std::string> entries = {"PATH=/usr/bin:/bin"};
    for (const auto& [k, v] : env) entries.push_back(k + "=" + v);
    for (std::string& e : entries) envp.push_back(e.data());
    envp.push_back(nullptr);
    ::execve(argv[0], argv.data(), envp.data());
    ::_exit(127);
  }
  ::close(fds[1]);
  std::string out;
  char buf[4096];
  ssize_t n;
  while ((n = ::read(fds[0], buf, sizeof buf)) > 0) out.append(buf, n);
  ::close(fds[0]);
  int status = 0;
  ::waitpid(pid, &status, 0);
  return out;
}

// Every hostile value arrives intact through every quoting context, under
// every shell the targets use, and nothing in it runs.
TEST(LowerCommand, HostileValuesArriveIntactInEveryShell) {
  llvm::SmallString<128> dir;
  ASSERT_FALSE(llvm::sys::fs::createUniqueDirectory("pipec-quote", dir));
  std::string cwd(dir.str());
  const std::vector<std::string> values = {"$(touch pwned1)",
                                           "`touch pwned2`",
                                           "a; touch pwned3",
                                           "it's",
                                           "say \"hi\"",
                                           "two\nlines",
                                           "-n",
                                           "",
                                           "a b  c",
                                           "*",
                                           "back\\slash",
                                           "$HOME",
                                           "EOF",
                                           "x'\"'\"y",
                                           "${IFS}"};
  // Each context prints the value between < and >; printf keeps it exact.
  const std::vector<std::vector<CommandPiece>> contexts = {
      {text("printf '<%s>' "), val("")},
      {text("printf '<%s>' \""), val(""), text("\"")},
      {text("printf '<%s>' 'pre:"), val(""), text("'")},
      {text("printf '<%s>' \"$(printf %s "), val(""), text(")\"")},
      {text("printf '<%s>' \"${UNSET:-"), val(""), text("}\"")},
      {text("cat <<EOF\n<"), val(""), text(">\nEOF\n")},
      {text("cat <<'EOF'\n<"), val(""), text(">\nEOF\n")},
      {text("cat <<-\"EOF\"\n\t<"), val(""), text(">\n\tEOF\n")},
  };
  std::vector<std::vector<std::string>> shells = {{"/bin/sh"}};
  if (::access("/bin/dash", X_OK) == 0) shells.push_back({"/bin/dash"});
  if (::access("/bin/bash", X_OK) == 0)
    shells.push_back({"/bin/bash", "--posix"});
  for (const std::string& v : values) {
    for (std::size_t k = 0; k < contexts.size(); ++k) {
      std::vector<CommandPiece> pieces = contexts[k];
      pieces[1].text = v;
      LoweredCommand c = lowerCommand(pieces, {});
      ASSERT_TRUE(c.problems.empty());
      std::string want = "<" + std::string(k == 2 ? "pre:" : "") + v + ">";
      if (k >= 5) want += "\n";
      for (const auto& sh : shells) {
        std::string got = runShell(sh, c.shell, {{"PAI_HPS_S", v}}, cwd);
        EXPECT_EQ(got, want) << sh[0] << " context " << k << ": " << c.shell;
      }
    }
  }
  for (const char* f : {"pwned1", "pwned2", "pwned3"})
    EXPECT_FALSE(llvm::sys::fs::exists(cwd + "/" + f)) << f << " was created";
  llvm::sys::fs::remove_directories(cwd);
}

}  // namespace
}  // namespace pipec::lowering
