// Front-end flags, diagnostic printers and --set/--input parsing.
#include "tools/pipec/common.h"

#include <unistd.h>

#include <optional>

#include "ir/suggest.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/Process.h"

namespace pipec::driver {

namespace diag = ir::diag;

void FrontendFlags::addTo(ArgParser& p) {
  p.list("--component-path", "DIR",
         "search DIR (recursively) for registry components; repeatable",
         &component_paths);
  p.value("--root", "DIR",
          "relative paths must stay inside DIR (default: the git checkout or "
          "the file's folder)",
          &root);
  p.value("--diagnostics-format", "text|json", "how to print diagnostics",
          &diagnostics_format);
  p.value("--color", "auto|always|never", "color diagnostics", &color);
  p.value("--error-limit", "N", "stop printing after N errors (0: no limit)",
          &error_limit);
  p.flag("--Werror", "treat warnings as errors", &werror);
  p.flag("-w", "do not print warnings", &no_warnings);
  p.flag("--pedantic", "warn on versions that are not x.y.z", &pedantic);
}

std::string FrontendFlags::validate() const {
  if (diagnostics_format != "text" && diagnostics_format != "json")
    return "--diagnostics-format must be 'text' or 'json', not '" +
           diagnostics_format + "'";
  if (color != "auto" && color != "always" && color != "never")
    return "--color must be 'auto', 'always' or 'never', not '" + color + "'";
  unsigned n;
  if (!error_limit.empty() && llvm::StringRef(error_limit).getAsInteger(10, n))
    return "--error-limit needs a whole number, not '" + error_limit + "'";
  // A folder that is not there would only show up later as components or
  // files that cannot be found, far from the flag that caused it.
  auto folder = [](const char* flag, const std::string& dir) -> std::string {
    if (llvm::sys::fs::is_directory(dir)) return "";
    return std::string(flag) + " '" + dir + "' " +
           (llvm::sys::fs::exists(dir) ? "is not a folder" : "does not exist");
  };
  for (const std::string& d : component_paths)
    if (std::string e = folder("--component-path", d); !e.empty()) return e;
  if (!root.empty())
    if (std::string e = folder("--root", root); !e.empty()) return e;
  return "";
}

Frontend::Frontend(const FrontendFlags& flags) {
  frontend::SessionOptions opts;
  opts.component_paths = flags.component_paths;
  opts.project_root = flags.root;
  opts.pedantic = flags.pedantic;
  session_ = std::make_unique<frontend::Session>(opts);
  if (flags.diagnostics_format == "json") {
    printer_ = std::make_unique<ir::JsonDiagnosticPrinter>(
        llvm::errs(), session_->sourceMgr());
  } else {
    bool colors = flags.color == "always" ||
                  (flags.color == "auto" && llvm::errs().has_colors());
    printer_ = std::make_unique<ir::TextDiagnosticPrinter>(
        llvm::errs(), session_->sourceMgr(), colors);
  }
  session_->setDiagnosticConsumer(*printer_);
  auto& d = session_->diags();
  d.setWarningsAsErrors(flags.werror);
  d.setIgnoreWarnings(flags.no_warnings);
  unsigned limit = 0;
  if (!flags.error_limit.empty())
    llvm::StringRef(flags.error_limit).getAsInteger(10, limit);
  d.setErrorLimit(limit);
}

Frontend::~Frontend() {
  finish();
  if (free_at_exit_) return;
  for (std::unique_ptr<ir::Module>& m : kept_) (void)m.release();
  (void)session_.release();
}

std::unique_ptr<ir::Module> Frontend::compile(const std::string& path,
                                              const std::string& entry) {
  auto result = session_->check(path, entry);
  if (!result) {
    internal_error_ = true;
    llvm::errs() << "pipec: internal error: "
                 << llvm::toString(result.takeError())
                 << "pipec: please report this with the input\n";
    return nullptr;
  }
  return std::move(result->module);
}

void Frontend::finish() {
  if (finished_) return;
  finished_ = true;
  printer_->finish();
}

namespace {

std::vector<std::string> paramNames(const ir::Component& c) {
  std::vector<std::string> names;
  for (const ir::Param& p : c.params) names.push_back(p.name);
  return names;
}

bool convertSet(const ir::Param& p, llvm::StringRef text, ir::Value& out,
                std::string& why) {
  ir::ConvertError err;
  auto v = ir::convertLiteral(text, p.type, err);
  if (!v) {
    why =
        fmt::format("'{}' is not {} {}", text.str(),
                    p.type == ir::Type::Int ? "an" : "a", ir::typeName(p.type));
    if (err == ir::ConvertError::OutOfRange)
      why = fmt::format("'{}' does not fit in {}", text.str(),
                        ir::typeName(p.type));
    return false;
  }
  ir::Violation viol = ir::checkConstraints(p, *v);
  if (viol != ir::Violation::None) {
    why = fmt::format("{} '{}' must be {}", p.name, v->toText(),
                      ir::describeConstraint(p, viol));
    return false;
  }
  out = *v;
  return true;
}

}  // namespace

bool parseOverrides(const ir::Component& root,
                    const std::vector<std::string>& sets,
                    const std::vector<std::string>& inputs,
                    ir::FlattenOptions& out, ir::DiagnosticEngine& diags) {
  bool ok = true;
  auto fail = [&](const std::string& arg, const std::string& why) {
    diags.report(llvm::SMRange(), diag::BadOverride, "--set", arg, why)
        .origin("--set");
    ok = false;
  };
  // Leaf steps by qualified name, for STEP.NAME (flattened only when a
  // --set or --input needs them); null with `why` set when there is none of
  // that name.
  std::optional<ir::FlatPipeline> flat;
  auto plainSteps = [&]() -> const std::vector<ir::FlatStep>& {
    if (!flat) flat = ir::flatten(root, {});
    return flat->steps;
  };
  auto findStep = [&](llvm::StringRef step,
                      std::string& why) -> const ir::FlatStep* {
    std::vector<std::string> step_names;
    for (const ir::FlatStep& s : plainSteps()) {
      if (s.name == step) return &s;
      step_names.push_back(s.name);
    }
    why = fmt::format("no step named '{}'{}", step.str(),
                      ir::didYouMean(step, step_names));
    return nullptr;
  };
  for (const std::string& arg : sets) {
    llvm::StringRef a(arg);
    auto eq = a.find('=');
    if (eq == llvm::StringRef::npos || eq == 0) {
      fail(arg, "expected NAME=VALUE");
      continue;
    }
    llvm::StringRef name = a.take_front(eq), text = a.drop_front(eq + 1);
    auto dot = name.rfind('.');
    if (dot == llvm::StringRef::npos) {
      const ir::Param* p = root.findParam(name);
      if (!p) {
        std::string why = fmt::format(
            "'{}' has no parameter '{}'",
            root.name.empty() ? "the pipeline" : root.name, name.str());
        std::string dym = ir::didYouMean(name, paramNames(root));
        if (dym.empty())
          for (const ir::FlatStep& s : plainSteps())
            if (s.component->findParam(name)) {
              dym = fmt::format("; did you mean '{}.{}'?", s.name, name.str());
              break;
            }
        fail(arg, why + dym);
        continue;
      }
      ir::Value v;
      std::string why;
      if (!convertSet(*p, text, v, why)) {
        fail(arg, why);
        continue;
      }
      out.root_params[name.str()] = v;
      continue;
    }
    llvm::StringRef step = name.take_front(dot),
                    param = name.drop_front(dot + 1);
    std::string why_step;
    const ir::FlatStep* fs = findStep(step, why_step);
    if (!fs) {
      fail(arg, why_step);
      continue;
    }
    const ir::Param* p = fs->component->findParam(param);
    if (!p) {
      fail(arg, fmt::format("step '{}' has no parameter '{}'{}", step.str(),
                            param.str(),
                            ir::didYouMean(param, paramNames(*fs->component))));
      continue;
    }
    ir::Value v;
    std::string why;
    if (!convertSet(*p, text, v, why)) {
      fail(arg, why);
      continue;
    }
    out.step_params[step.str()][param.str()] = v;
  }
  for (const std::string& arg : inputs) {
    llvm::StringRef a(arg);
    auto eq = a.find('=');
    auto badInput = [&](const std::string& why) {
      diags.report(llvm::SMRange(), diag::BadOverride, "--input", arg, why)
          .origin("--input");
      ok = false;
    };
    if (eq == llvm::StringRef::npos || eq == 0) {
      badInput("expected NAME=PATH");
      continue;
    }
    llvm::StringRef name = a.take_front(eq), path = a.drop_front(eq + 1);
    if (path.empty()) {
      badInput("expected a path after '='");
      continue;
    }
    // A URI (pvc://, https://) stays as written; the target decides.
    std::string where = path.str();
    if (!path.contains("://")) {
      llvm::SmallString<256> abs(path);
      llvm::sys::fs::make_absolute(abs);
      llvm::sys::path::remove_dots(abs, true);
      where = std::string(abs);
    }
    if (root.findInput(name)) {
      out.root_inputs[name.str()] = where;
      continue;
    }
    auto dot = name.rfind('.');
    if (dot == llvm::StringRef::npos) {
      std::vector<std::string> names;
      for (const ir::Port& p : root.inputs) names.push_back(p.name);
      std::string dym = ir::didYouMean(name, names);
      if (dym.empty())
        for (const ir::FlatStep& s : plainSteps())
          if (s.component->findInput(name)) {
            dym = fmt::format("; did you mean '{}.{}'?", s.name, name.str());
            break;
          }
      badInput(fmt::format("no data input named '{}'{}", name.str(), dym));
      continue;
    }
    // STEP.NAME: one step's input (nested steps by their dotted path).
    llvm::StringRef step = name.take_front(dot),
                    input = name.drop_front(dot + 1);
    std::string why_step;
    const ir::FlatStep* fs = findStep(step, why_step);
    if (!fs) {
      badInput(why_step);
      continue;
    }
    if (!fs->component->findInput(input)) {
      std::vector<std::string> names;
      for (const ir::Port& p : fs->component->inputs) names.push_back(p.name);
      badInput(fmt::format("step '{}' has no data input '{}'{}", step.str(),
                           input.str(), ir::didYouMean(input, names)));
      continue;
    }
    out.step_inputs[step.str()][input.str()] = where;
  }
  return ok;
}

bool writeOutputFile(llvm::StringRef command, const std::string& output,
                     llvm::StringRef text) {
  if (output.empty() || output == "-") {
    llvm::outs() << text;
    return true;
  }
  std::error_code ec;
  llvm::raw_fd_ostream file(output, ec, llvm::sys::fs::OF_None);
  if (!ec) file << text;
  if (!ec && file.has_error()) ec = file.error();
  file.clear_error();
  if (!ec) return true;
  llvm::errs() << "pipec " << command << ": error: cannot write '" << output
               << "': " << ec.message() << "\n";
  return false;
}

}  // namespace pipec::driver
