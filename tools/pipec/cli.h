// A small command-line parser for pipec's subcommands: options, help text,
// usage errors.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "llvm/ADT/StringRef.h"
#include "llvm/Support/raw_ostream.h"

namespace pipec::driver {

/// Exit statuses of every subcommand.
enum ExitCode : int { kExitOk = 0, kExitErrors = 1, kExitUsage = 2 };

/// Options of one subcommand.
class ArgParser {
 public:
  ArgParser(std::string command, std::string usage, std::string summary);

  /// `--name` without a value.
  void flag(std::string name, std::string help, bool* out);
  /// `--name VALUE` or `--name=VALUE`; the last one wins.
  void value(std::string name, std::string metavar, std::string help,
             std::string* out);
  /// `--name VALUE`, repeatable.
  void list(std::string name, std::string metavar, std::string help,
            std::vector<std::string>* out);
  /// Positional arguments: at least `min`, at most `max` (0: unlimited).
  void positional(std::string metavar, std::string help,
                  std::vector<std::string>* out, std::size_t min,
                  std::size_t max);
  /// A short alias, e.g. alias("-o", "--output").
  void alias(std::string short_name, std::string long_name);

  /// Parses `args` (without the program and subcommand names). On `--help`
  /// prints help to `out` and sets helpRequested(). Returns false with
  /// `error` set on a usage error.
  bool parse(const std::vector<std::string>& args, std::string& error,
             llvm::raw_ostream& out);
  bool helpRequested() const { return help_; }
  void printHelp(llvm::raw_ostream& os) const;
  const std::string& command() const { return command_; }

 private:
  struct Option {
    std::string name;
    std::string metavar;
    std::string help;
    bool* flag = nullptr;
    std::string* value = nullptr;
    std::vector<std::string>* list = nullptr;
  };
  const Option* find(llvm::StringRef name) const;

  std::string command_, usage_, summary_;
  std::vector<Option> options_;
  std::vector<std::pair<std::string, std::string>> aliases_;
  std::string pos_metavar_, pos_help_;
  std::vector<std::string>* positional_ = nullptr;
  std::size_t pos_min_ = 0, pos_max_ = 0;
  bool help_ = false;
};

/// Reports a usage error the way every subcommand does and returns kExitUsage.
int usageError(const ArgParser& p, llvm::StringRef message);

}  // namespace pipec::driver
