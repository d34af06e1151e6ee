// libFuzzer target over the YAML reader, the loader and sema: the input is a
// pipeline file, optionally followed by a component file it may reference.
// Each file is first read by both the reader and the yaml-cpp oracle, which
// must agree (a difference aborts). What compiles clean also goes through
// the IR dump, flattening and the env.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "frontend/session.h"
#include "ir/flatten.h"
#include "ir/json_dump.h"
#include "llvm/ADT/StringRef.h"
#include "lowering/env.h"
#include "test/fuzz/yaml_cpp_oracle.h"

namespace {

// Everything after this line is the second file, `./component.yaml`.
constexpr llvm::StringRef kSplit = "\n#%component\n";
constexpr const char* kPipeline = "/pipec-fuzz/pipeline.yaml";
constexpr const char* kComponent = "/pipec-fuzz/component.yaml";

constexpr const char* kDefaultComponent = R"(name: comp
version: 1.0.0
command: python run.py --x $<<inputs.x>> --n $<<inputs.n>> --o $<<outputs.o>>
inputs:
  x: {type: uri_folder}
  n: {type: integer, default: 1, min: 0, max: 10}
  s: {type: string, enum: [a, b], optional: true}
outputs:
  o: {type: uri_folder}
)";

// Aborts when the reader and the yaml-cpp oracle disagree on `text`.
void crossCheck(llvm::StringRef text) {
  std::string d = pipec::test::yaml_oracle::compareReaders(text);
  if (d.empty()) return;
  std::fprintf(stderr, "the YAML reader and yaml-cpp differ: %s\n", d.c_str());
  std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data,
                                      std::size_t size) {
  llvm::StringRef in(reinterpret_cast<const char*>(data), size);
  llvm::StringRef pipeline = in, component = kDefaultComponent;
  if (auto at = in.find(kSplit); at != llvm::StringRef::npos) {
    pipeline = in.take_front(at);
    component = in.drop_front(at + kSplit.size());
  }
  crossCheck(pipeline);
  if (component.data() != kDefaultComponent) crossCheck(component);
  pipec::frontend::SessionOptions opts;
  opts.project_root = "/pipec-fuzz";
  pipec::frontend::Session session(opts);
  session.update(kPipeline, pipeline.str());
  session.update(kComponent, component.str());
  auto checked = session.check(kPipeline);
  // An IR that does not verify is a bug: crash so the fuzzer keeps it.
  if (!checked) std::abort();
  std::unique_ptr<pipec::ir::Module> module = std::move(checked->module);
  if (!module || !module->root || session.diags().hasErrors()) return 0;
  (void)pipec::ir::dumpJson(*module);
  pipec::ir::FlatPipeline flat = pipec::ir::flatten(*module->root, {});
  for (const pipec::ir::FlatStep& s : flat.steps)
    (void)pipec::lowering::buildPaiEnv(*s.component,
                                       pipec::lowering::stepValues(s, "/ml"));
  return 0;
}
