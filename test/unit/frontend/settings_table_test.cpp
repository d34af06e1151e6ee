// Every job setting of the table (ir/settings.h) works everywhere from its
// row alone: the YAML and DSL loaders take it in the section its row names,
// sema lands its value in the IR, completion offers it. A setting added to
// the table is covered here with no other edit.
#include <gtest/gtest.h>

#include <algorithm>

#include "frontend/index.h"
#include "frontend/session.h"
#include "frontend/yaml_loader.h"
#include "ir/json_dump.h"
#include "ir/settings.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/MemoryBuffer.h"

namespace pipec::frontend {
namespace {

using ir::SettingInfo;
using ir::SettingSection;

// Two values of the setting's kind, written alike in YAML and .pipe files.
std::vector<std::string> samples(const SettingInfo& s) {
  switch (s.kind) {
    case ir::SettingKind::Int:
      return {std::to_string(s.min + 2), std::to_string(s.min + 5)};
    case ir::SettingKind::Percent:
      return {"12.5", "40"};
    case ir::SettingKind::Duration:
      return {"90s", "7m"};
    case ir::SettingKind::Bool:
      return {"true", "false"};
    case ir::SettingKind::Level:
      return {"warning", "debug"};
    case ir::SettingKind::BatchSize:
      return {"1kb", "3"};
    case ir::SettingKind::Text:
      return {"a100", "b200"};
  }
  return {};
}

constexpr const char* kTrainYaml = R"(name: train
version: 1.0.0
command: python train.py --data ${{inputs.data}}
inputs:
  data: {type: uri_folder}
)";

constexpr const char* kScoreYaml = R"(name: score
version: 1.0.0
type: parallel
inputs:
  data: {type: uri_folder}
input_data: ${{inputs.data}}
task:
  type: run_function
  entry_script: score.py
)";

// A pipeline of a command step `train` and a parallel step `score`, with
// `setting` written where its row says (nothing when null). `tf`: `train`
// is a TensorFlow job (distribution settings apply to one).
std::string yamlPipeline(const SettingInfo* s, const std::string& value,
                         bool tf) {
  std::string train, score;
  std::string kv = s ? std::string(s->name) + ": " + value : "";
  std::string distribution =
      tf ? "    distribution:\n      type: tensorflow\n" : "";
  if (s && s->section == SettingSection::Resources)
    train = "    resources:\n      " + kv + "\n";
  if (s && s->section == SettingSection::Distribution)
    distribution += "      " + kv + "\n";
  if (s && s->section == SettingSection::Parallel && s->yaml_key)
    score = "    " + kv + "\n";
  if (s && s->section == SettingSection::Parallel && !s->yaml_key)
    score = "    task:\n      program_arguments: --" + std::string(s->name) +
            " " + value + "\n";
  if (s && s->section == SettingSection::Retry)
    score = "    retry_settings:\n      " + kv + "\n";
  return "type: pipeline\ninputs:\n  raw: {type: uri_folder}\njobs:\n"
         "  train:\n    type: command\n    component: ./train.yaml\n"
         "    inputs:\n      data: ${{parent.inputs.raw}}\n" +
         distribution + train +
         "  score:\n    type: parallel\n    component: ./score.yaml\n"
         "    inputs:\n      data: ${{parent.inputs.raw}}\n" +
         score;
}

// The same pipeline in a .pipe file.
std::string pipePipeline(const SettingInfo* s, const std::string& value,
                         bool tf) {
  std::string train, score;
  std::string kv = s ? std::string(s->name) + ": " + value : "";
  std::string distribution = tf ? "distribution { type: tensorflow" : "";
  if (s && s->section == SettingSection::Resources)
    train = " resources { " + kv + " }";
  if (s && s->section == SettingSection::Distribution)
    distribution += ", " + kv;
  if (s && s->section == SettingSection::Parallel) score = " " + kv;
  if (s && s->section == SettingSection::Retry) score = " retry { " + kv + " }";
  return R"(component train {
  command "python train.py $<<inputs.data>>"
  in data: folder
}
parallel component score {
  in data: folder
  input_data data
  entry_script "score.py"
}
pipeline p(raw: folder) {
  train = train(data: raw) { )" +
         distribution + (tf ? " }" : "") + train + R"( }
  score = score(data: raw) {)" +
         score + R"( }
}
)";
}

struct Checked {
  Session session;
  ir::StoringDiagnosticConsumer diags;
  std::unique_ptr<ir::Module> module;
};

std::unique_ptr<Checked> check(const std::string& path,
                               const std::string& text) {
  auto c = std::make_unique<Checked>();
  c->session.setDiagnosticConsumer(c->diags);
  c->session.update("/v/train.yaml", kTrainYaml);
  c->session.update("/v/score.yaml", kScoreYaml);
  c->session.update(path, text);
  auto r = c->session.check(path);
  if (!r) {
    ADD_FAILURE() << llvm::toString(r.takeError());
    return c;
  }
  c->module = std::move(r->module);
  return c;
}

std::string messages(const Checked& c) {
  std::string out;
  for (const auto& d : c.diags.diags) out += d.message + "\n";
  return out;
}

ir::Step* step(ir::Module& m, llvm::StringRef name) {
  for (ir::Step& s : m.root->body->steps)
    if (s.name == name) return &s;
  return nullptr;
}

// What the IR says of step `name`'s resources and parallel settings.
std::string settingsOf(const ir::Module& m, llvm::StringRef name) {
  llvm::json::Value v = ir::toJson(m);
  const llvm::json::Array* steps =
      v.getAsObject()->getObject("root")->getArray("steps");
  for (const llvm::json::Value& s : *steps) {
    const llvm::json::Object* o = s.getAsObject();
    if (o->getString("name") != name) continue;
    llvm::json::Object picked;
    picked["resources"] = *o->get("resources");
    if (const llvm::json::Object* p = o->getObject("parallel")) {
      llvm::json::Object par = *p;
      par.erase("program_arguments");  // its text, not a setting
      picked["parallel"] = std::move(par);
    }
    return llvm::formatv("{0:2}", llvm::json::Value(std::move(picked)));
  }
  return "no step " + name.str();
}

void checkEverySetting(const std::string& path,
                       std::string (*pipeline)(const SettingInfo*,
                                               const std::string&, bool)) {
  for (const SettingInfo& s : ir::allSettings()) {
    SCOPED_TRACE(s.name.str());
    bool tf = s.section == SettingSection::Distribution;
    auto base = check(path, pipeline(nullptr, "", tf));
    ASSERT_TRUE(base->module) << messages(*base);
    ASSERT_EQ(base->diags.diags.size(), 0u) << messages(*base);
    const char* at = s.parallel() ? "score" : "train";
    // A value that changes the step: the expected IR is the step without the
    // setting, with the value applied by the table's reader.
    std::string value, expected;
    for (const std::string& v : samples(s)) {
      auto want = check(path, pipeline(nullptr, "", tf));
      ir::Step* st = step(*want->module, at);
      ASSERT_NE(st, nullptr);
      ASSERT_EQ(ir::applySetting(s, v, st->resources,
                                 st->parallel ? &*st->parallel : nullptr),
                "");
      expected = settingsOf(*want->module, at);
      if (expected != settingsOf(*base->module, at)) {
        value = v;
        break;
      }
    }
    ASSERT_FALSE(value.empty()) << "no sample changes " << at;
    std::string text = pipeline(&s, value, tf);
    auto got = check(path, text);
    ASSERT_TRUE(got->module) << text;
    EXPECT_EQ(got->diags.diags.size(), 0u) << text << messages(*got);
    EXPECT_EQ(settingsOf(*got->module, at), expected) << text;
  }
}

TEST(SettingsTable, EverySettingReachesTheIrFromYaml) {
  checkEverySetting("/v/p.yaml", yamlPipeline);
}

TEST(SettingsTable, EverySettingReachesTheIrFromPipe) {
  checkEverySetting("/v/p.pipe", pipePipeline);
}

// A step that gives no setting and is not parallel holds nothing for them.
TEST(SettingsTable, AStepThatGivesNoneHoldsNone) {
  llvm::SourceMgr sm;
  unsigned id =
      sm.AddNewSourceBuffer(llvm::MemoryBuffer::getMemBufferCopy(
                                yamlPipeline(nullptr, "", false), "/v/p.yaml"),
                            llvm::SMLoc());
  ir::StoringDiagnosticConsumer sink;
  ir::DiagnosticEngine diags(sm, sink);
  auto file = loadYamlFile(sm, id, "/v/p.yaml", diags);
  ASSERT_TRUE(file);
  ASSERT_EQ(file->main->jobs.size(), 2u);
  const ast::Job& train = file->main->jobs[0];
  EXPECT_TRUE(train.settings.given.empty());
  EXPECT_FALSE(train.parallel);
  const ast::Job& score = file->main->jobs[1];
  EXPECT_TRUE(score.settings.given.empty());
  // `type: parallel` alone gives no parallel attribute.
  EXPECT_FALSE(score.parallel);
}

TEST(SettingsTable, EverySettingIsWrittenSomewhereInYaml) {
  for (const SettingInfo& s : ir::allSettings())
    EXPECT_TRUE(s.yaml_key || s.prs_flag) << s.name.str();
}

// The lines before the cursor name the mapping it is in.
TEST(SettingsTable, CompletionOffersEverySettingWithWhatItNeeds) {
  auto c = std::make_unique<Checked>();
  auto offered = [&](llvm::StringRef path, const std::string& text) {
    c->session.update(path, text);
    auto r = c->session.check(path);
    EXPECT_TRUE(bool(r));
    if (!r) return std::vector<Completion>{};
    SymbolIndex index = SymbolIndex::build(c->session, *r, path);
    return complete(index, path, text, text.size());
  };
  auto has = [](const std::vector<Completion>& items, const SettingInfo& s) {
    return std::any_of(items.begin(), items.end(), [&](const Completion& i) {
      return i.label == s.name && i.detail == ir::settingNeeds(s);
    });
  };
  std::string job = "type: pipeline\njobs:\n  a:\n    type: parallel\n";
  auto yamlAt = [&](SettingSection section) {
    switch (section) {
      case SettingSection::Resources:
        return offered("/v/c.yaml", job + "    resources:\n      ");
      case SettingSection::Distribution:
        return offered("/v/c.yaml", job + "    distribution:\n      ");
      case SettingSection::Parallel:
        return offered("/v/c.yaml", job + "    ");
      case SettingSection::Retry:
        return offered("/v/c.yaml", job + "    retry_settings:\n      ");
    }
    return std::vector<Completion>{};
  };
  std::vector<Completion> pipe = offered("/v/c.pipe", "pipeline p() {\n  ");
  for (const SettingInfo& s : ir::allSettings()) {
    SCOPED_TRACE(s.name.str());
    EXPECT_EQ(has(yamlAt(s.section), s), s.yaml_key);
    EXPECT_TRUE(has(pipe, s));
  }
}

}  // namespace
}  // namespace pipec::frontend
