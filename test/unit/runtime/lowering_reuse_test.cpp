// lowering::lowerStep() over a LoweredStep that held another step: the
// targets lower one step at a time into the same object (its storage
// reused), which must give exactly what lowering into a fresh one gives,
// whatever step came before.
#include <gtest/gtest.h>

#include <filesystem>
#include <regex>
#include <sstream>

#include "frontend/session.h"
#include "ir/flatten.h"
#include "llvm/Support/MemoryBuffer.h"
#include "lowering/step.h"

namespace pipec::lowering {
namespace {

// Every field of `s`, one per line.
std::string describe(const LoweredStep& s) {
  std::ostringstream o;
  o << "name " << s.name << "\nlocation " << s.location << "\nkind "
    << int(s.kind) << "\njob_type " << int(s.job_type) << "\ncomponent "
    << s.component_id << "\nimage " << s.image << "\ncache " << s.cache
    << "\nml_root " << s.ml_root << "\nwork_dir " << s.work_dir << "\ncommand "
    << s.command << "\nresources " << s.resources.instance_count << " "
    << s.resources.gpu_count << " " << s.resources.process_count_per_instance
    << " " << s.resources.instance_type << "\n";
  for (const std::string& w : s.argv) o << "argv " << w << "\n";
  for (const auto& [k, v] : s.env) o << "env " << k << "=" << v << "\n";
  o << "hps " << s.hyperparameters_json << "job " << s.training_job_json;
  for (const ProcessSlot& p : s.processes) {
    o << "process " << p.name << " " << p.role << " " << p.index << "\n";
    for (const auto& [k, v] : p.env) o << "  " << k << "=" << v << "\n";
  }
  for (const InputData& in : s.inputs)
    o << "input " << in.channel << " " << int(in.type) << " " << in.optional
      << " " << int(in.source.kind) << " " << in.source.path << " "
      << in.source.step << " " << in.source.output << " " << in.path << " "
      << in.single_file << "\n";
  for (const OutputData& out : s.outputs)
    o << "output " << out.channel << " " << int(out.type) << " " << out.path
      << " " << out.target << " " << out.own_tree << "\n";
  o << "code " << s.code << " " << s.code_is_url << "\n";
  if (s.task) {
    o << "task " << s.task->entry_script << " " << s.task->input_path << " "
      << s.task->append_row_to << " " << s.task->instance_count << " "
      << int(s.task->input_type) << "\n";
    for (const std::string& w : s.task->program_arguments)
      o << "arg " << w << "\n";
  }
  for (std::size_t d : s.deps) o << "dep " << d << "\n";
  for (const LayoutEntry& e : s.layout)
    o << "layout " << int(e.kind) << " " << e.path << " " << e.target << " "
      << e.make_target << e.after_code << "\n";
  return o.str();
}

std::vector<std::string> pipelineFiles() {
  namespace fs = std::filesystem;
  std::vector<std::string> out;
  fs::path src(PIPEC_SOURCE_DIR);
  std::vector<fs::path> dirs = {src / "examples/basic",
                                src / "examples/parallel",
                                src / "test/Backends/sh/Inputs"};
  for (const auto& e : fs::directory_iterator(src / "test"))
    if (fs::is_directory(e.path() / "Inputs"))
      dirs.push_back(e.path() / "Inputs");
  for (const fs::path& root : dirs) {
    for (const auto& e : fs::recursive_directory_iterator(root)) {
      std::string name = e.path().filename().string();
      auto ends = [&](llvm::StringRef end) {
        return llvm::StringRef(name).endswith(end);
      };
      if (e.is_regular_file() &&
          (ends(".yaml") || ends(".pipe") || ends(".yaml.in")))
        out.push_back(e.path().string());
    }
  }
  std::sort(out.begin(), out.end());
  return out;
}

TEST(LoweringReuse, EqualsAFreshLoweringWhateverCameBefore) {
  std::size_t steps = 0;
  for (const std::string& path : pipelineFiles()) {
    SCOPED_TRACE(path);
    frontend::Session session;
    ir::StoringDiagnosticConsumer diags;
    session.setDiagnosticConsumer(diags);
    std::string file = path;
    if (llvm::StringRef(path).endswith(".in")) {
      // A template of a lit test: its @NAME@ places get a path.
      auto text = llvm::MemoryBuffer::getFile(path);
      ASSERT_TRUE(bool(text));
      file.resize(file.size() - 3);
      session.update(file, std::regex_replace((*text)->getBuffer().str(),
                                              std::regex("@[A-Z_]+@"),
                                              "/tmp/pipec-reuse"));
    }
    auto checked = session.check(file);
    if (!checked) {
      llvm::consumeError(checked.takeError());
      continue;
    }
    if (!checked->module || checked->errors || !checked->verified) continue;
    ir::FlatPipeline flat = ir::flatten(*checked->module->root, {});
    std::size_t n = flat.steps.size();
    for (bool layout : {true, false}) {
      LoweringOptions lo;
      lo.layout = layout;
      std::vector<std::string> fresh;
      for (std::size_t i = 0; i < n; ++i) {
        LoweringCache own;
        LoweringOptions alone = lo;
        alone.cache = &own;
        fresh.push_back(describe(lowerStep(flat, i, "/ml/" + std::to_string(i),
                                           alone, session.diags())));
      }
      // Forward, backward, and each step after every other one, into one
      // LoweredStep with one cache.
      LoweringCache cache;
      lo.cache = &cache;
      LoweredStep s;
      auto into = [&](std::size_t i) {
        lowerStep(flat, i, "/ml/" + std::to_string(i), lo, session.diags(), s);
        EXPECT_EQ(describe(s), fresh[i]) << "step " << i;
        ++steps;
      };
      for (std::size_t i = 0; i < n; ++i) into(i);
      for (std::size_t i = n; i-- > 0;) into(i);
      for (std::size_t i = 0; i < n; ++i)
        for (std::size_t j = 0; j < n; ++j) {
          into(j);
          into(i);
        }
    }
  }
  // The inputs hold pipelines of several steps and every kind of step.
  EXPECT_GT(steps, 1000u);
}

}  // namespace
}  // namespace pipec::lowering
