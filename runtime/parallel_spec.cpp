// JSON round trip of ParallelStepSpec.
#include "runtime/parallel_spec.h"

#include "ir/settings.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/raw_ostream.h"
#include "lowering/plan_json.h"

namespace pipec::runtime {

using llvm::json::Array;
using llvm::json::Object;

namespace {

llvm::Error bad(const std::string& what) {
  return llvm::createStringError(llvm::inconvertibleErrorCode(),
                                 "parallel step spec: " + what);
}

}  // namespace

llvm::json::Value toJson(const ParallelStepSpec& s) {
  Array args;
  for (const auto& a : s.program_arguments) args.push_back(a);
  Object env;
  for (const auto& [k, v] : s.env) env[k] = v;
  Object o{{"step_name", s.step_name},
           {"location", s.location},
           {"python", s.python},
           {"code_dir", s.code_dir},
           {"entry_script", s.entry_script},
           {"program_arguments", std::move(args)},
           {"input_path", s.input_path},
           {"input_type", ir::typeName(s.input_type)},
           {"settings", ir::settingsJson(s.settings)},
           {"instance_count", s.instance_count},
           {"append_row_to", s.append_row_to},
           {"env", std::move(env)},
           {"logs_dir", s.logs_dir},
           {"state_dir", s.state_dir},
           {"resume", s.resume}};
  if (!s.batch_cache_dir.empty()) {
    o["batch_cache"] = Object{{"dir", s.batch_cache_dir},
                              {"key", s.batch_cache_key},
                              {"use", s.batch_cache_use},
                              {"store", s.batch_cache_store}};
  }
  return o;
}

llvm::Expected<ParallelStepSpec> parallelStepSpecFromJson(
    const llvm::json::Value& v) {
  const Object* o = v.getAsObject();
  if (!o) return bad("not an object");
  ParallelStepSpec s;
  auto str = [&](const Object& obj, llvm::StringRef key, std::string& out) {
    if (auto x = obj.getString(key)) out = x->str();
  };
  auto num = [&](const Object& obj, llvm::StringRef key, auto& out) {
    if (auto x = obj.getInteger(key))
      out = static_cast<std::decay_t<decltype(out)>>(*x);
  };
  str(*o, "step_name", s.step_name);
  str(*o, "location", s.location);
  str(*o, "python", s.python);
  str(*o, "code_dir", s.code_dir);
  str(*o, "entry_script", s.entry_script);
  str(*o, "input_path", s.input_path);
  str(*o, "append_row_to", s.append_row_to);
  str(*o, "logs_dir", s.logs_dir);
  str(*o, "state_dir", s.state_dir);
  num(*o, "instance_count", s.instance_count);
  if (auto r = o->getBoolean("resume")) s.resume = *r;
  if (const Object* c = o->getObject("batch_cache")) {
    str(*c, "dir", s.batch_cache_dir);
    str(*c, "key", s.batch_cache_key);
    if (auto b = c->getBoolean("use")) s.batch_cache_use = *b;
    if (auto b = c->getBoolean("store")) s.batch_cache_store = *b;
  }
  if (auto t = o->getString("input_type")) {
    auto type = ir::parseType(*t);
    if (!type) return bad("unknown input_type '" + t->str() + "'");
    s.input_type = *type;
  }
  if (const Array* a = o->getArray("program_arguments"))
    for (const auto& x : *a)
      if (auto w = x.getAsString()) s.program_arguments.push_back(w->str());
  if (const Object* e = o->getObject("env"))
    for (const auto& kv : *e)
      if (auto w = kv.second.getAsString())
        s.env.emplace_back(kv.first.str(), w->str());
  std::sort(s.env.begin(), s.env.end());
  const Object* p = o->getObject("settings");
  if (!p) return bad("missing settings");
  if (llvm::Error e = ir::settingsFromJson(*p, s.settings))
    return bad(llvm::toString(std::move(e)));
  return s;
}

llvm::Error writeParallelStepSpec(const ParallelStepSpec& spec,
                                  llvm::StringRef path) {
  std::string tmp = path.str() + ".tmp";
  {
    std::error_code ec;
    llvm::raw_fd_ostream os(tmp, ec, llvm::sys::fs::OF_Text);
    if (ec) return llvm::createFileError(tmp, ec);
    os << llvm::formatv("{0:2}", toJson(spec)) << "\n";
    os.close();
    if (os.has_error()) return llvm::createFileError(tmp, os.error());
  }
  if (std::error_code ec = llvm::sys::fs::rename(tmp, path))
    return llvm::createFileError(path, ec);
  return llvm::Error::success();
}

llvm::Expected<ParallelStepSpec> readParallelStepSpec(llvm::StringRef path) {
  auto buf = llvm::MemoryBuffer::getFile(path);
  if (!buf) return llvm::createFileError(path, buf.getError());
  auto v = llvm::json::parse((*buf)->getBuffer());
  if (!v) return v.takeError();
  return parallelStepSpecFromJson(*v);
}

}  // namespace pipec::runtime
