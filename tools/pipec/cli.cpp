// The command-line parser.
#include "tools/pipec/cli.h"

#include "ir/suggest.h"
#include "llvm/Support/FormatVariadic.h"

namespace pipec::driver {

ArgParser::ArgParser(std::string command, std::string usage,
                     std::string summary)
    : command_(std::move(command)),
      usage_(std::move(usage)),
      summary_(std::move(summary)) {}

void ArgParser::flag(std::string name, std::string help, bool* out) {
  options_.push_back(
      {std::move(name), "", std::move(help), out, nullptr, nullptr});
}

void ArgParser::value(std::string name, std::string metavar, std::string help,
                      std::string* out) {
  options_.push_back({std::move(name), std::move(metavar), std::move(help),
                      nullptr, out, nullptr});
}

void ArgParser::list(std::string name, std::string metavar, std::string help,
                     std::vector<std::string>* out) {
  options_.push_back({std::move(name), std::move(metavar), std::move(help),
                      nullptr, nullptr, out});
}

void ArgParser::positional(std::string metavar, std::string help,
                           std::vector<std::string>* out, std::size_t min,
                           std::size_t max) {
  pos_metavar_ = std::move(metavar);
  pos_help_ = std::move(help);
  positional_ = out;
  pos_min_ = min;
  pos_max_ = max;
}

void ArgParser::alias(std::string short_name, std::string long_name) {
  aliases_.emplace_back(std::move(short_name), std::move(long_name));
}

const ArgParser::Option* ArgParser::find(llvm::StringRef name) const {
  for (const auto& [s, l] : aliases_)
    if (s == name) name = l;
  for (const Option& o : options_)
    if (o.name == name) return &o;
  return nullptr;
}

bool ArgParser::parse(const std::vector<std::string>& args, std::string& error,
                      llvm::raw_ostream& out) {
  bool only_positional = false;
  for (std::size_t i = 0; i < args.size(); ++i) {
    llvm::StringRef a = args[i];
    if (only_positional || a == "-" || !a.startswith("-")) {
      if (!positional_ || (pos_max_ && positional_->size() >= pos_max_)) {
        error = "unexpected argument '" + a.str() + "'";
        return false;
      }
      positional_->push_back(a.str());
      continue;
    }
    if (a == "--") {
      only_positional = true;
      continue;
    }
    if (a == "--help" || a == "-h") {
      help_ = true;
      printHelp(out);
      return true;
    }
    llvm::StringRef name = a, inline_value;
    bool has_inline = false;
    if (auto eq = a.find('=');
        eq != llvm::StringRef::npos && a.startswith("--")) {
      name = a.take_front(eq);
      inline_value = a.drop_front(eq + 1);
      has_inline = true;
    }
    const Option* o = find(name);
    // A short option that takes a value may have it attached: -j2.
    if (!o && !a.startswith("--") && a.size() > 2) {
      const Option* s = find(a.take_front(2));
      if (s && !s->flag) {
        o = s;
        name = a.take_front(2);
        inline_value = a.drop_front(2);
        has_inline = true;
      }
    }
    if (!o) {
      std::vector<std::string> names;
      for (const Option& c : options_) names.push_back(c.name);
      error =
          "unknown option '" + name.str() + "'" + ir::didYouMean(name, names);
      return false;
    }
    if (o->flag) {
      if (has_inline) {
        error = "option '" + o->name + "' takes no value";
        return false;
      }
      *o->flag = true;
      continue;
    }
    bool given = has_inline || i + 1 < args.size();
    std::string v = has_inline ? inline_value.str() : given ? args[++i] : "";
    if (v.empty()) {
      error = "option '" + o->name + "' needs a value (" + o->metavar + ")" +
              (given ? ", not an empty one" : "");
      return false;
    }
    if (o->value)
      *o->value = v;
    else
      o->list->push_back(v);
  }
  if (positional_ && positional_->size() < pos_min_) {
    error = "missing " + pos_metavar_;
    return false;
  }
  return true;
}

void ArgParser::printHelp(llvm::raw_ostream& os) const {
  os << "pipec " << command_ << ": " << summary_ << "\n\n";
  os << "USAGE: " << usage_ << "\n";
  if (positional_)
    os << "\n  " << llvm::formatv("{0,-28}", pos_metavar_) << pos_help_ << "\n";
  os << "\nOPTIONS:\n";
  for (const Option& o : options_) {
    std::string left = o.name;
    for (const auto& [s, l] : aliases_)
      if (l == o.name) left = s + ", " + left;
    if (!o.metavar.empty()) left += " " + o.metavar;
    // A long option gets its help on the next line, aligned.
    if (left.size() >= 28)
      os << "  " << left << "\n  " << std::string(28, ' ') << o.help << "\n";
    else
      os << "  " << llvm::formatv("{0,-28}", left) << o.help << "\n";
  }
  os << "  " << llvm::formatv("{0,-28}", "-h, --help") << "show this help\n";
}

int usageError(const ArgParser& p, llvm::StringRef message) {
  llvm::errs() << "pipec " << p.command() << ": error: " << message << "\n"
               << "Try 'pipec " << p.command() << " --help'.\n";
  return kExitUsage;
}

}  // namespace pipec::driver
