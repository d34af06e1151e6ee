// Kubernetes manifests for a lowered pipeline: job kinds per job type,
// ConfigMaps, the run's claim, and one Argo Workflow whose steps of one
// shape share a template.
#include "backends/k8s/k8s.h"

#include "backends/k8s/ranks.h"
#include "backends/k8s/yaml_writer.h"

#include <algorithm>
#include <array>
#include <cstring>
#include <deque>
#include <set>
#include <string_view>
#include <unordered_map>

#include "ir/json_dump.h"
#include "ir/settings.h"
#include "ir/yaml_quote.h"
#include "llvm/ADT/CachedHashString.h"
#include "llvm/ADT/DenseSet.h"
#include "llvm/ADT/SmallString.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/ADT/StringMap.h"
#include "llvm/ADT/StringSet.h"
#include "llvm/Support/Base64.h"
#include "llvm/Support/ErrorHandling.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/JSON.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/xxhash.h"
#include "lowering/shell.h"
#include "lowering/step.h"

namespace pipec::backends::k8s {

namespace {

using lowering::InputData;
using lowering::LoweredStep;

constexpr const char* kHarnessDir = "/opt/pipec";
constexpr const char* kStateDir = "/pipec/state";
constexpr const char* kGitImage = "alpine/git:2.45.2";
constexpr const char* kFetchImage = "curlimages/curl:8.8.0";
/// What lays out a step's working folder (code copy, links): sh, cp, ln.
constexpr const char* kLayoutImage = "busybox:1.36.1";
/// Where the layout init container reads a code ConfigMap.
constexpr const char* kCodeFilesDir = "/pipec/code";
/// A step's `<ml>/artifacts` tree on the claim, `steps/<job>/.artifacts`:
/// no channel is named so (channel names hold no '.').
constexpr const char* kTreeDir = ".artifacts";
constexpr const char* kDefaultImage = "python:3.11-slim";
/// MASTER_PORT of a multi-process command job: rank 0 listens there (the
/// port KubeDL gives a PyTorchJob's master).
constexpr std::uint16_t kRankPort = 23456;
/// Job names leave room for KubeDL's `-<type>-<index>` Service names and
/// the Indexed Job's `-<index>` host names within 63 characters.
constexpr std::size_t kJobNameMax = 47;

std::string hex8(llvm::StringRef text) {
  return llvm::utohexstr(llvm::xxHash64(text) & 0xffffffffu, true, 8);
}

/// Text safe to splice into a double-quoted manifest string by Argo.
bool spliceSafe(llvm::StringRef s) {
  return !s.contains('"') && !s.contains('\\') && !s.contains("{{") &&
         std::none_of(s.begin(), s.end(),
                      [](char c) { return (unsigned char)c < 0x20; });
}

/// A valid ConfigMap key: [-._a-zA-Z0-9]+, at most 253 characters.
bool configKey(llvm::StringRef s) {
  static constexpr std::array<bool, 256> kByte = [] {
    std::array<bool, 256> t{};
    for (int c = 0; c < 256; ++c)
      t[c] = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
             (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_';
    return t;
  }();
  // Every byte looked up, without a branch per byte.
  bool ok = !s.empty() && s.size() <= 253 && s != "." && s != "..";
  for (char c : s) ok &= kByte[static_cast<unsigned char>(c)];
  return ok;
}

/// Appends a claim path made of safe characters: others become '_'.
void appendClaimPath(std::string& out, llvm::StringRef rel) {
  std::size_t at = out.size();
  out.resize(at + rel.size());
  char* o = out.data() + at;
  for (char c : rel)
    *o++ = llvm::isAlnum(c) || c == '-' || c == '.' || c == '_' || c == '/'
               ? c
               : '_';
}

/// A claim path made of safe characters: others become '_'.
std::string claimPath(llvm::StringRef rel) {
  std::string out;
  appendClaimPath(out, rel);
  return out;
}

/// Where folder `path` of the `<ml_root>/artifacts` tree of job `job` is
/// on the claim.
std::string treeClaimPath(llvm::StringRef job, const std::string& ml_root,
                          llvm::StringRef path) {
  llvm::StringRef rest = path;
  if (!rest.consume_front(lowering::artifactsDir(ml_root)))
    llvm_unreachable("a path outside the step's artifacts tree");
  return ("steps/" + job + "/" + kTreeDir + rest).str();
}

/// The step's own tree is on the claim: a later step reads a default
/// output of it (`artifacts`, `default`).
bool ownTree(const LoweredStep& s) {
  return std::any_of(s.outputs.begin(), s.outputs.end(),
                     [](const lowering::OutputData& o) { return o.own_tree; });
}

/// What of a step's layout (LoweredStep::layout) its pods make themselves,
/// once its own tree is on the claim: the tree's folders, and the links
/// that wait for the code (`./outputs`, `./logs` of the working folder).
struct TreeLayout {
  bool tree = false;  ///< `ml/artifacts` is a folder of the layout
  std::vector<const lowering::LayoutEntry*> dirs;   ///< inside the tree
  std::vector<const lowering::LayoutEntry*> links;  ///< after_code
  /// The pods need the layout init container.
  bool init() const { return !links.empty(); }
};

TreeLayout treeLayout(const LoweredStep& s) {
  TreeLayout t;
  if (!ownTree(s)) return t;
  const std::string tree = lowering::artifactsDir("ml");
  for (const lowering::LayoutEntry& e : s.layout) {
    llvm::StringRef path = e.path;
    if (e.kind == lowering::LayoutEntry::Kind::Link) {
      if (e.after_code) t.links.push_back(&e);
    } else if (path == tree) {
      t.tree = true;
    } else if (path.startswith(tree) && path[tree.size()] == '/') {
      t.dirs.push_back(&e);
    }
  }
  return t;
}

/// Block-style YAML with every string double-quoted (kubectl reads YAML
/// 1.1, where `on` or `0755` unquoted are not strings), written by
/// YamlWriter. A signature writer (`Y(Y::kSignature)`) takes the same calls
/// and only appends them to a string, length-prefixed: equal signatures are
/// equal documents, at a fraction of the writer's cost.
class Y {
 public:
  struct Signature {};
  static constexpr Signature kSignature{};
  Y() : text_(own_) {}
  /// Writes into `out`, after what it holds.
  explicit Y(std::string& out) : text_(out) {}
  explicit Y(Signature) : sig_(true), text_(own_) {}
  Y(const Y&) = delete;
  Y& operator=(const Y&) = delete;
  Y& map() { return tok('{', &YamlWriter::map); }
  Y& end() { return tok('}', &YamlWriter::end); }
  Y& seq() { return tok('[', &YamlWriter::seq); }
  Y& endSeq() { return tok(']', &YamlWriter::endSeq); }
  Y& key(llvm::StringRef k) {
    if (sig_) return put('k', k);
    w_.key(k);
    return *this;
  }
  Y& str(llvm::StringRef v) {
    if (sig_) return put('s', v);
    w_.str(v);
    return *this;
  }
  Y& s(llvm::StringRef k, llvm::StringRef v) { return key(k).str(v); }
  Y& i(llvm::StringRef k, std::int64_t v) {
    key(k);
    if (sig_) return put('i', std::to_string(v));
    w_.integer(v);
    return *this;
  }
  Y& b(llvm::StringRef k, bool v) {
    key(k);
    if (sig_) return put('b', v ? "1" : "0");
    w_.boolean(v);
    return *this;
  }
  Y& literal(llvm::StringRef k, llvm::StringRef v) {
    key(k);
    if (sig_) return put('l', v);
    w_.literal(v);
    return *this;
  }
  /// Items of the open sequence that the caller writes into the output
  /// itself, each begun with its line end; returns their indent.
  std::size_t items() { return w_.items(); }
  /// The signature, or the document with its final line end.
  std::string text() && {
    finish();
    return std::move(text_);
  }
  /// Ends the document with its line end.
  void finish() {
    if (!sig_) text_ += '\n';
  }
  /// Without the final line end (a literal block adds its own).
  const std::string& raw() const { return text_; }

 private:
  Y& tok(char c, YamlWriter& (YamlWriter::*m)()) {
    if (sig_)
      text_ += c;
    else
      (w_.*m)();
    return *this;
  }
  Y& put(char tag, llvm::StringRef v) {
    char head[1 + sizeof(std::uint32_t)] = {tag};
    auto size = static_cast<std::uint32_t>(v.size());
    std::memcpy(head + 1, &size, sizeof size);
    text_.append(head, sizeof head);
    text_.append(v.data(), v.size());
    return *this;
  }

  bool sig_ = false;
  std::string own_;
  std::string& text_;
  YamlWriter w_{text_};
};

/// Step-specific values of a manifest: literal in a lone job, a parameter
/// of the shared template in a Workflow.
class Vals {
 public:
  enum class Mode : std::uint8_t { Literal, AllParams, Chosen };
  explicit Vals(Mode m, const std::set<std::string>* chosen = nullptr)
      : mode_(m), chosen_(chosen) {}
  std::string operator()(const std::string& key, const std::string& value) {
    keys_.emplace_back(key, value);
    bool param = mode_ == Mode::AllParams ||
                 (mode_ == Mode::Chosen && chosen_->count(key));
    return param ? "{{inputs.parameters." + key + "}}" : value;
  }
  /// Every (key, value) asked for, in order.
  const std::vector<std::pair<std::string, std::string>>& keys() const {
    return keys_;
  }

 private:
  Mode mode_;
  const std::set<std::string>* chosen_;
  std::vector<std::pair<std::string, std::string>> keys_;
};

enum class InputKind : std::uint8_t { Unbound, Claim, OtherClaim, Http };

/// Where one input's data is on the cluster.
struct InputPlace {
  InputKind kind = InputKind::Unbound;
  std::string where;  ///< claim subPath, or the URL
  std::string other_claim;
};

/// A local code folder shipped in a ConfigMap.
struct CodeMap {
  std::string name;
  /// key -> (path in the folder, contents)
  std::vector<std::pair<std::string, std::string>> items;
  std::vector<std::string> paths;
  std::vector<bool> binary;
};

/// What the emitter knows of one step.
struct StepPlan {
  /// The lowered step while it is written, and afterwards only for the
  /// first step of each shape (which the Workflow's templates are rendered
  /// from); null otherwise.
  const LoweredStep* s = nullptr;
  const ir::FlatStep* f = nullptr;
  /// The job name, and the step's folder on the claim (in step_dns_).
  llvm::StringRef dns;
  llvm::StringRef image;           ///< in Emitter::images_
  std::vector<InputPlace> inputs;  ///< as s->inputs
  const CodeMap* code = nullptr;
  bool argv = false;      ///< run s->argv (else sh -c s->command)
  bool parallel = false;  ///< s->task is set
  /// Every name in s->env is a valid ConfigMap key (planStep()).
  bool config_keys = false;
  /// The processes of a command job that starts several (an Indexed Job
  /// with one pod per rank and a headless Service); 0 otherwise.
  std::int64_t ranks = 0;
  /// Steps of one shape key render equal job manifests in a Workflow
  /// (shapeKey()); the index of this step's key.
  std::size_t shape = 0;
};

/// Collects diagnostics to report them later, in the order of the steps.
class Held : public ir::DiagnosticConsumer {
 public:
  void handle(const ir::Diagnostic& d) override { diags.push_back(d); }
  std::vector<ir::Diagnostic> diags;
};

struct KindInfo {
  const char* api;
  const char* kind;
  const char* specs;
  const char* container;
  const char* port_name;
  int port;
};

KindInfo kindInfo(ir::JobType jt) {
  switch (jt) {
    case ir::JobType::TensorFlow:
      return {"training.kubedl.io/v1alpha1",
              "TFJob",
              "tfReplicaSpecs",
              "tensorflow",
              "tfjob-port",
              2222};
    case ir::JobType::PyTorch:
      return {"training.kubedl.io/v1alpha1",
              "PyTorchJob",
              "pytorchReplicaSpecs",
              "pytorch",
              "pytorchjob-port",
              23456};
    case ir::JobType::XGBoost:
      return {"training.kubedl.io/v1alpha1",
              "XGBoostJob",
              "xgbReplicaSpecs",
              "xgboostjob",
              "xgboostjob-port",
              9999};
    case ir::JobType::ElasticBatch:
      return {"inference.kubedl.io/v1alpha1",
              "ElasticBatchJob",
              "elasticBatchReplicaSpecs",
              "elasticbatch",
              "elstcbatch-port",
              23456};
    case ir::JobType::Command:
      break;
  }
  return {"batch/v1", "Job", "", "main", "", 0};
}

/// KubeDL replicas of a step: (replica type, count), and the type whose
/// success decides the job.
struct Replicas {
  std::vector<std::pair<std::string, std::int64_t>> types;
  std::string decides;
  std::int64_t decides_count = 1;
};

Replicas replicasOf(const LoweredStep& s) {
  Replicas r;
  std::map<std::string, std::int64_t> roles;
  for (const lowering::ProcessSlot& p : s.processes) ++roles[p.role];
  switch (s.job_type) {
    case ir::JobType::PyTorch:
    case ir::JobType::XGBoost: {
      std::int64_t n = roles["rank"];
      r.types.emplace_back("Master", 1);
      if (n > 1) r.types.emplace_back("Worker", n - 1);
      r.decides = "Master";
      break;
    }
    case ir::JobType::TensorFlow:
      if (roles["chief"]) r.types.emplace_back("Chief", roles["chief"]);
      if (roles["ps"]) r.types.emplace_back("PS", roles["ps"]);
      if (roles["worker"]) r.types.emplace_back("Worker", roles["worker"]);
      r.decides = roles["chief"] ? "Chief" : "Worker";
      break;
    case ir::JobType::ElasticBatch:
      // The AIMaster (aimasterReplica) exits 0 once every shard is done.
      r.types.emplace_back("Worker", roles["worker"]);
      r.decides = "AIMaster";
      break;
    case ir::JobType::Command:
      break;
  }
  return r;
}

/// An elasticbatch step gets an AIMaster pod serving its shards.
bool hasAIMaster(const LoweredStep& s) {
  return s.job_type == ir::JobType::ElasticBatch && !s.task;
}

/// Builds the objects of a run.
class Emitter {
 public:
  Emitter(llvm::StringRef name, const ir::FlatPipeline& flat,
          llvm::StringRef root_dir, const Options& o,
          ir::DiagnosticEngine& diags)
      : flat_(flat),
        root_dir_(root_dir),
        o_(o),
        main_diags_(diags),
        diags_(diags.sourceMgr(), held_) {
    base_ = dnsLabel(name.empty() ? "pipeline" : name, kJobNameMax);
    claim_ = o.claim.empty() ? dnsLabel(base_ + "-data") : o.claim;
  }

  bool run(llvm::ArrayRef<std::size_t> chosen,
           llvm::function_ref<void(std::size_t, LoweredStep&)> lower,
           std::string& out, llvm::raw_ostream* sink);

 private:
  void placeStep(std::size_t k, StepPlan& p);
  void planStep(std::size_t k, const LoweredStep& s, StepPlan& p);
  InputPlace placeInput(llvm::StringRef step, llvm::StringRef channel,
                        const ir::DataSource& d);
  const CodeMap* codeMap(const ir::FlatStep& f);
  /// Moves what was reported so far to the place (step, phase) of the
  /// order in which it is reported.
  void hold(std::size_t step, unsigned phase);

  // Documents, each appended to `out` after its `---` line.
  void claimDoc(std::string& out) const;
  void harnessDoc(std::string& out) const;
  void codeDoc(const CodeMap& c, std::string& out) const;
  void configDoc(const StepPlan& p, std::string& out) const;
  void workflowDoc(const std::vector<StepPlan>& plans, std::string& out);
  /// With a sink, passes `out` on once it holds kChunk bytes.
  void pass(std::string& out) {
    if (sink_ && out.size() >= kChunk) {
      *sink_ << out;
      out.clear();
    }
  }
  static constexpr std::size_t kChunk = 1 << 17;
  llvm::raw_ostream* sink_ = nullptr;

  // Pieces of a job manifest.
  void jobManifest(Y& y, const StepPlan& p, Vals& v) const;
  void podTemplate(Y& y, const StepPlan& p, Vals& v, const std::string& name,
                   const KindInfo& k, bool parallel) const;
  void container(Y& y, const StepPlan& p, Vals& v, const std::string& name,
                 const KindInfo& k, bool parallel) const;
  void volumeMounts(Y& y, const StepPlan& p, Vals& v, const std::string& name,
                    bool parallel, bool gather) const;
  void volumes(Y& y, const StepPlan& p, Vals& v, const std::string& name,
               bool parallel) const;
  void initContainers(Y& y, const StepPlan& p, Vals& v,
                      const std::string& name) const;
  void labels(Y& y, const std::string& name, bool in_workflow) const;
  void gatherTemplate(Y& y, const StepPlan& p, Vals& v) const;
  void aimasterReplica(Y& y, const StepPlan& p, Vals& v,
                       const std::string& name, const KindInfo& k) const;
  void aimasterRbacDocs(std::string& out) const;
  /// The variables of the ranks of `p` (p.ranks > 0), rank 0 at
  /// `<name>-0.<name>`: Indexed Job pod i is host `<name>-i` of the
  /// subdomain, the headless Service `<name>`.
  RankVariables rankVars(const StepPlan& p, const std::string& name) const;
  /// The headless Service of a multi-process command job.
  void serviceManifest(Y& y, const StepPlan& p, Vals& v) const;
  /// The Workflow's templates of a multi-process command job: `name`, a
  /// DAG taking the parameters `params` of the job manifest `job`, whose
  /// tasks run `-job` (creates the Job, owned by the Workflow, and gives
  /// its uid), `-service` (the Service, owned by the Job) and `-wait`
  /// (until the Job's ranks are done).
  void rankTemplates(Y& y, const std::string& name, const StepPlan& p,
                     llvm::StringRef job,
                     const std::vector<std::string>& params) const;
  std::string successCondition(const StepPlan& p) const;
  std::string failureCondition(const StepPlan& p) const;
  std::string parallelConfig(const StepPlan& p) const;

  const ir::FlatPipeline& flat_;
  llvm::StringRef root_dir_;
  const Options& o_;
  ir::DiagnosticEngine& main_diags_;
  /// What the emitter reports goes here first: it is reported after the
  /// lowering of every step, and only when that reported no error.
  Held held_;
  ir::DiagnosticEngine diags_;
  std::vector<std::pair<std::size_t, ir::Diagnostic>> later_;
  std::string base_, claim_;
  /// Where configDoc() writes a ConfigMap before appending it.
  mutable std::string config_buf_;
  std::map<std::string, CodeMap> codes_;  ///< by folder
  /// Local data to copy onto the claim: (local path, claim path).
  std::set<std::pair<std::string, std::string>> uploads_;
  /// Where each local path read is on the claim.
  llvm::StringMap<std::string> local_places_;
  std::vector<std::string> step_dns_;  ///< by flat step index
  /// The steps' images, each once.
  llvm::StringSet<> images_;
  bool in_workflow_ = false;
};

void Emitter::hold(std::size_t step, unsigned phase) {
  for (ir::Diagnostic& d : held_.diags)
    later_.emplace_back(step * 3 + phase, std::move(d));
  held_.diags.clear();
}

InputPlace Emitter::placeInput(llvm::StringRef step, llvm::StringRef channel,
                               const ir::DataSource& d) {
  InputPlace p;
  switch (d.kind) {
    case ir::DataSource::Kind::None:
      return p;
    case ir::DataSource::Kind::StepOutput:
      p.kind = InputKind::Claim;
      if (llvm::is_contained(flat_.steps[d.step].default_outputs, d.output)) {
        // A default output: a folder of the producer's own tree.
        p.where = treeClaimPath(step_dns_[d.step], kMlRoot,
                                lowering::defaultOutputDir(kMlRoot, d.output));
      } else {
        const std::string& job = step_dns_[d.step];
        p.where.reserve(8 + job.size() + d.output.size());
        p.where += "steps/";
        p.where += job;
        p.where += '/';
        appendClaimPath(p.where, d.output);
      }
      return p;
    case ir::DataSource::Kind::Path:
      break;
  }
  llvm::StringRef path = d.path;
  if (d.is_uri) {
    if (path.startswith("http://") || path.startswith("https://")) {
      if (!spliceSafe(path) || path.contains(' ')) {
        diags_.report(d.range, ir::diag::K8sBadValue, "the URL", path,
                      "it holds a quote, a backslash, '{{', a blank or a "
                      "control character");
        return p;
      }
      p.kind = InputKind::Http;
      p.where = path.str();
      return p;
    }
    if (path.consume_front("pvc://")) {
      auto [claim, sub] = path.split('/');
      if (dnsLabel(claim) != claim || !spliceSafe(sub)) {
        diags_.report(d.range, ir::diag::K8sBadValue, "the claim path", d.path,
                      "write pvc://CLAIM/PATH with CLAIM a DNS-1123 label");
        return p;
      }
      p.kind = InputKind::OtherClaim;
      p.other_claim = claim.str();
      p.where = claimPath(sub);
      return p;
    }
    diags_.report(d.range, ir::diag::K8sUnsupportedUri, channel, step, d.path)
        .note(llvm::SMRange(),
              "bind it to pvc://CLAIM/PATH (data on a claim of the "
              "namespace), an http(s) URL, or a local path that is copied "
              "onto the run's claim");
    return p;
  }
  // A local path: where on the claim, worked out once per path (every step
  // of a pipeline may read one input of it).
  p.kind = InputKind::Claim;
  auto [known, fresh] = local_places_.try_emplace(d.path);
  if (!fresh) {
    p.where = known->second;
    return p;
  }
  std::string rel = ir::relativePath(d.path, root_dir_);
  if (llvm::StringRef(rel).startswith("..") ||
      llvm::sys::path::is_absolute(rel))
    rel =
        "outside-" + hex8(rel) + "/" + llvm::sys::path::filename(d.path).str();
  p.where = "inputs/" + claimPath(rel);
  known->second = p.where;
  // A path is placed here once: its upload is new, and warned of once.
  uploads_.emplace(d.path, p.where);
  diags_
      .report(d.range, ir::diag::K8sLocalInput, channel, step, rel, p.where,
              claim_)
      .note(llvm::SMRange(),
            "the comment at the top of the manifests shows how to copy it");
  return p;
}

const CodeMap* Emitter::codeMap(const ir::FlatStep& f) {
  struct {
    const std::string& code;
    llvm::SMRange range;
    std::string component_id;
  } s{f.component->code, f.range, f.component->displayId()};
  auto [it, fresh] = codes_.try_emplace(s.code);
  CodeMap& c = it->second;
  if (!fresh) return c.name.empty() ? nullptr : &c;
  std::vector<std::string> files;
  std::error_code ec;
  for (llvm::sys::fs::recursive_directory_iterator i(s.code, ec), e;
       i != e && !ec; i.increment(ec)) {
    llvm::StringRef leaf = llvm::sys::path::filename(i->path());
    if (leaf == ".git" || leaf == "__pycache__") {
      i.no_push();
      continue;
    }
    if (i->type() == llvm::sys::fs::file_type::regular_file)
      files.push_back(i->path());
  }
  if (ec) {
    diags_.report(s.range, ir::diag::K8sCodeUnreadable, s.code, ec.message());
    return nullptr;
  }
  std::sort(files.begin(), files.end());
  std::uint64_t total = 0;
  std::set<std::string> keys;
  for (const std::string& f : files) {
    auto buf = llvm::MemoryBuffer::getFile(f);
    if (!buf) {
      diags_.report(s.range, ir::diag::K8sCodeUnreadable, f,
                    buf.getError().message());
      return nullptr;
    }
    total += (*buf)->getBufferSize();
    if (total > o_.code_limit) continue;
    std::string rel = ir::relativePath(f, s.code);
    std::string key = claimPath(rel);
    std::replace(key.begin(), key.end(), '/', '_');
    if (!configKey(key) || !keys.insert(key).second) {
      key = "f" + std::to_string(c.items.size()) + "-" + hex8(rel);
      keys.insert(key);
    }
    llvm::StringRef text = (*buf)->getBuffer();
    bool bin = !llvm::json::isUTF8(text);
    c.items.emplace_back(key, bin ? llvm::encodeBase64(text) : text.str());
    c.paths.push_back(rel);
    c.binary.push_back(bin);
  }
  if (total > o_.code_limit) {
    diags_
        .report(s.range, ir::diag::K8sCodeTooLarge,
                ir::relativePath(s.code, root_dir_), s.component_id, total,
                o_.code_limit)
        .note(llvm::SMRange(),
              "give 'code:' a git URL (cloned by an init container), or "
              "build an image with the code in /ml/usercode and drop 'code:'");
    c.items.clear();
    return nullptr;
  }
  c.name = dnsLabel(
      base_ + "-code-" + hex8(ir::relativePath(s.code, root_dir_)), 63);
  return &c;
}

// What is known before the step is lowered: where its inputs are, its
// code.
void Emitter::placeStep(std::size_t k, StepPlan& p) {
  const ir::FlatStep& f = *p.f;
  const ir::Component& c = *f.component;
  p.parallel = c.kind == ir::ComponentKind::Parallel && f.parallel;
  static const ir::DataSource kUnbound;
  p.inputs.reserve(c.inputs.size());
  for (const ir::Port& port : c.inputs) {
    auto it = f.inputs.find(port.name);
    p.inputs.push_back(placeInput(
        f.name, port.name, it != f.inputs.end() ? it->second : kUnbound));
  }
  hold(k, 0);
  if (!c.code.empty() && !c.code_is_url) p.code = codeMap(f);
  hold(k, 1);
}

void Emitter::planStep(std::size_t k, const LoweredStep& s, StepPlan& p) {
  p.s = &s;
  const ir::FlatStep* f = p.f;
  std::string comp = f && f->component ? f->component->name : "";
  // An inline component has no name: its step's name stands for it.
  auto img = o_.images.find(comp.empty() ? s.name : comp);
  p.image = images_
                .insert(img != o_.images.end() ? llvm::StringRef(img->second)
                        : !s.image.empty()     ? llvm::StringRef(s.image)
                                               : llvm::StringRef(kDefaultImage))
                .first->getKey();
  lowering::checkSplitterMLTable(s, "k8s", diags_);
  p.argv = !s.argv.empty();
  std::int64_t ranks = 0;
  for (const lowering::ProcessSlot& slot : s.processes)
    if (slot.role == "rank") ++ranks;
  p.ranks = s.job_type == ir::JobType::Command && !s.task && ranks > 1 &&
                    ranks == std::int64_t(s.processes.size())
                ? ranks
                : 0;
  p.config_keys = true;
  for (const auto& [key, value] : s.env)
    if (!configKey(key)) {
      p.config_keys = false;
      diags_.report(s.range, ir::diag::K8sBadValue, "the variable name", key,
                    "a ConfigMap key holds only letters, digits, '-', '.' "
                    "and '_'");
    }
  hold(k, 2);
}

void Emitter::labels(Y& y, const std::string& name, bool in_workflow) const {
  y.key("labels").map();
  y.s("app.kubernetes.io/managed-by", "pipec");
  y.s("pipec.dev/pipeline", base_);
  y.s("pipec.dev/step", name);
  if (in_workflow) y.s("workflows.argoproj.io/workflow", "{{workflow.name}}");
  y.end();
}

/// What the layout init container runs: the code copied out of its
/// ConfigMap (`copy`; kubelet's own `..data` and time-stamped folders
/// dropped), the tree's folders, and each `after_code` link of the layout
/// where the code has nothing of that name (as `pipec run` and the shell
/// script make them).
std::string layoutScript(const LoweredStep& s, const TreeLayout& t, bool copy) {
  using lowering::appendShellQuoted;
  std::string sh = "set -e\n";
  if (copy) {
    sh += "cp -RL -- ";
    appendShellQuoted(sh, std::string(kCodeFilesDir) + "/.");
    sh += ' ';
    appendShellQuoted(sh, s.work_dir + "/");
    sh += "\nrm -rf -- ";
    appendShellQuoted(sh, s.work_dir + "/");
    sh += "..?*\n";
  }
  if (!t.dirs.empty()) {
    sh += "mkdir -p --";
    for (const lowering::LayoutEntry* e : t.dirs) {
      sh += ' ';
      appendShellQuoted(sh, "/" + e->path);
    }
    sh += '\n';
  }
  for (const lowering::LayoutEntry* e : t.links) {
    std::string link = "/" + e->path;
    sh += "[ -e ";
    appendShellQuoted(sh, link);
    sh += " ] || [ -L ";
    appendShellQuoted(sh, link);
    sh += " ] || ln -s -- ";
    appendShellQuoted(sh, e->target);
    sh += ' ';
    appendShellQuoted(sh, link);
    sh += '\n';
  }
  return sh;
}

void Emitter::initContainers(Y& y, const StepPlan& p, Vals& v,
                             const std::string& name) const {
  const LoweredStep& s = *p.s;
  bool git = !s.code.empty() && s.code_is_url;
  bool http = std::any_of(
      p.inputs.begin(), p.inputs.end(),
      [](const InputPlace& i) { return i.kind == InputKind::Http; });
  TreeLayout tree = treeLayout(s);
  if (!git && !http && !tree.init()) return;
  y.key("initContainers").seq();
  if (git) {
    llvm::StringRef url = s.code;
    url.consume_front("git+");
    y.map().s("name", "fetch-code").s("image", kGitImage);
    y.key("args").seq().str("clone").str("--depth").str("1").str("--");
    y.str(url).str(s.work_dir).endSeq();
    y.key("volumeMounts").seq().map();
    y.s("name", "code").s("mountPath", s.work_dir).end().endSeq();
    y.end();
  }
  if (tree.init()) {
    // The working folder is an emptyDir: the code is copied into it and
    // ./outputs and ./logs lead into the tree on the claim.
    y.map().s("name", "layout").s("image", kLayoutImage);
    y.key("command").seq().str("sh").str("-c");
    y.str(layoutScript(s, tree, p.code != nullptr)).endSeq();
    y.key("volumeMounts").seq();
    if (p.code) {
      y.map().s("name", "code-files").s("mountPath", kCodeFilesDir);
      y.b("readOnly", true).end();
    }
    y.map().s("name", "code").s("mountPath", s.work_dir).end();
    if (tree.tree)
      y.map()
          .s("name", "data")
          .s("mountPath", lowering::artifactsDir(s.ml_root))
          .s("subPath",
             treeClaimPath(name, s.ml_root, lowering::artifactsDir(s.ml_root)))
          .end();
    y.endSeq().end();
  }
  for (std::size_t i = 0; i < p.inputs.size(); ++i) {
    if (p.inputs[i].kind != InputKind::Http) continue;
    const InputData& in = s.inputs[i];
    std::string dir = s.ml_root + "/input/data/" + in.channel;
    std::string file =
        in.single_file
            ? in.path
            : dir + "/" +
                  llvm::sys::path::filename(
                      llvm::StringRef(p.inputs[i].where).split('?').first)
                      .str();
    std::string vol = "in-" + std::to_string(i);
    y.map().s("name", "fetch-" + std::to_string(i)).s("image", kFetchImage);
    y.key("args").seq().str("-fsSL").str("--retry").str("3").str("-o");
    y.str(file).str(v(vol, p.inputs[i].where)).endSeq();
    y.key("volumeMounts").seq().map();
    y.s("name", vol).s("mountPath", dir).end().endSeq();
    y.end();
  }
  y.endSeq();
}

void Emitter::volumeMounts(Y& y, const StepPlan& p, Vals& v,
                           const std::string& name, bool parallel,
                           bool gather) const {
  const LoweredStep& s = *p.s;
  y.key("volumeMounts").seq();
  auto mount = [&](const std::string& vol, const std::string& path,
                   const std::string& sub, bool ro) {
    y.map().s("name", vol).s("mountPath", path);
    if (!sub.empty()) y.s("subPath", sub);
    if (ro) y.b("readOnly", true);
    y.end();
  };
  mount("config", s.ml_root + "/input/config", "", true);
  if (!gather) {
    for (std::size_t i = 0; i < p.inputs.size(); ++i) {
      const InputData& in = s.inputs[i];
      const InputPlace& at = p.inputs[i];
      std::string dir = s.ml_root + "/input/data/" + in.channel;
      std::string key = "in-" + std::to_string(i);
      switch (at.kind) {
        case InputKind::Unbound:
          break;
        case InputKind::Claim:
          // A single-file input is its own file under the channel folder.
          if (in.single_file && in.source.kind == ir::DataSource::Kind::Path)
            mount("data", in.path, v(key, at.where), true);
          else
            mount("data", dir, v(key, at.where), true);
          break;
        case InputKind::OtherClaim:
          mount(key, in.single_file ? in.path : dir, v(key, at.where), true);
          break;
        case InputKind::Http:
          mount(key, dir, "", true);
          break;
      }
    }
  }
  // The channel folder is mounted; a file output is a file inside it. A
  // default output is the folder of the step's own tree it is.
  for (const lowering::OutputData& out : s.outputs) {
    std::string dir = s.ml_root + "/output/" + out.channel;
    if (!gather ||
        (s.task && llvm::StringRef(s.task->append_row_to).startswith(dir)))
      mount("data", dir,
            out.own_tree ? treeClaimPath(name, s.ml_root, out.target)
                         : "steps/" + name + "/" + claimPath(out.channel),
            false);
  }
  TreeLayout tree = treeLayout(s);
  if (tree.tree && !gather) {
    std::string dir = lowering::artifactsDir(s.ml_root);
    mount("data", dir, treeClaimPath(name, s.ml_root, dir), false);
  }
  if (!gather) {
    if (tree.init())
      mount("code", s.work_dir, "", false);
    else if (!s.code.empty())
      mount("code", s.work_dir, "", !s.code_is_url);
  } else if (p.code) {
    mount("code", s.work_dir, "", true);
  }
  if (parallel) {
    mount("harness", kHarnessDir, "", true);
    mount("data", kStateDir, "state/" + name, false);
  }
  y.endSeq();
}

void Emitter::volumes(Y& y, const StepPlan& p, Vals& v, const std::string& name,
                      bool parallel) const {
  const LoweredStep& s = *p.s;
  y.key("volumes").seq();
  y.map().s("name", "data").key("persistentVolumeClaim").map();
  y.s("claimName", claim_).end().end();
  y.map().s("name", "config").key("configMap").map();
  y.s("name", name + "-config").key("items").seq();
  llvm::SmallVector<const char*, 3> files{"hyperparameters.json",
                                          "training_job.json"};
  if (parallel && s.task) files.push_back("parallel.json");
  for (const char* f : files) y.map().s("key", f).s("path", f).end();
  y.endSeq().end().end();
  for (std::size_t i = 0; i < p.inputs.size(); ++i) {
    std::string key = "in-" + std::to_string(i);
    if (p.inputs[i].kind == InputKind::OtherClaim) {
      y.map().s("name", key).key("persistentVolumeClaim").map();
      y.s("claimName", v("claim-" + std::to_string(i), p.inputs[i].other_claim))
          .b("readOnly", true)
          .end()
          .end();
    } else if (p.inputs[i].kind == InputKind::Http) {
      y.map().s("name", key).key("emptyDir").map().end().end();
    }
  }
  // The code: a ConfigMap, or an emptyDir that an init container fills
  // (a git clone; the layout's copy of the ConfigMap, `code-files`).
  bool init = treeLayout(s).init();
  auto codeMap = [&](const char* vol) {
    y.map().s("name", vol);
    y.key("configMap").map().s("name", p.code->name).key("items").seq();
    for (std::size_t i = 0; i < p.code->items.size(); ++i)
      y.map()
          .s("key", p.code->items[i].first)
          .s("path", p.code->paths[i])
          .end();
    y.endSeq().end().end();
  };
  if (p.code && !init) {
    codeMap("code");
  } else if (!s.code.empty() || init) {
    y.map().s("name", "code").key("emptyDir").map().end().end();
    if (p.code) codeMap("code-files");
  }
  if (parallel) {
    y.map().s("name", "harness").key("configMap").map();
    y.s("name", dnsLabel(base_ + "-pipec-harness")).end().end();
  }
  y.endSeq();
}

void Emitter::container(Y& y, const StepPlan& p, Vals& v,
                        const std::string& name, const KindInfo& k,
                        bool parallel) const {
  const LoweredStep& s = *p.s;
  y.map().s("name", parallel ? "harness" : k.container).s("image", p.image);
  y.key("command").seq();
  RankVariables ranks;
  if (p.ranks) {
    // Each rank's own variables from its index, then the step's command
    // as it is run without ranks.
    ranks = rankVars(p, name);
    y.str("sh").str("-c").str(rankPrologue(ranks, p.ranks)).str("pipec");
  }
  if (parallel) {
    y.str("python3").str(std::string(kHarnessDir) + "/pipec_harness.py");
    y.str("--indexed").str(s.ml_root + "/input/config/parallel.json");
  } else if (p.argv) {
    for (const std::string& w : s.argv) y.str(w);
  } else {
    y.str("sh").str("-c").str(s.command);
  }
  y.endSeq();
  y.s("workingDir", s.work_dir);
  if (k.port) {
    y.key("ports").seq().map().s("name", k.port_name);
    y.i("containerPort", k.port).end().endSeq();
  }
  y.key("env").seq();
  std::string config = name + "-config";
  // A rank's variables win over the step's, as under `pipec run`.
  auto rankVar = [&ranks](llvm::StringRef key) {
    return llvm::any_of(ranks.shared,
                        [&](const auto& kv) { return kv.first == key; }) ||
           llvm::any_of(ranks.derived, [&](const DerivedVariable& d) {
             return d.name == key;
           });
  };
  for (const auto& [key, value] : s.env) {
    if (p.ranks && rankVar(key)) continue;
    y.map().s("name", key).key("valueFrom").map().key("configMapKeyRef").map();
    y.s("name", config).s("key", key).end().end().end();
  }
  for (const auto& [key, value] : ranks.shared)
    y.map().s("name", key).s("value", value).end();
  bool shards = hasAIMaster(s);
  if (shards) {
    // The shard client on the path; the AIMaster's address on the claim.
    bool own = std::any_of(s.env.begin(), s.env.end(), [](const auto& e) {
      return e.first == "PYTHONPATH";
    });
    y.map().s("name", "PYTHONPATH");
    y.s("value", std::string(kHarnessDir) + (own ? ":$(PYTHONPATH)" : ""));
    y.end().map().s("name", "PIPEC_AIMASTER_ADDR_FILE");
    y.s("value", std::string(kStateDir) + "/aimaster.addr").end();
  }
  y.endSeq();
  if (s.resources.gpu_count > 0) {
    std::int64_t per = std::max<std::int64_t>(
        1,
        s.resources.gpu_count /
            std::max<std::int64_t>(1, s.resources.process_count_per_instance));
    y.key("resources").map().key("limits").map();
    y.s("nvidia.com/gpu", std::to_string(per)).end().end();
  }
  volumeMounts(y, p, v, name, parallel || shards, false);
  y.end();
}

void Emitter::podTemplate(Y& y, const StepPlan& p, Vals& v,
                          const std::string& name, const KindInfo& k,
                          bool parallel) const {
  y.key("template").map();
  y.key("metadata").map();
  labels(y, name, in_workflow_);
  y.end();
  y.key("spec").map();
  if (!o_.service_account.empty())
    y.s("serviceAccountName", o_.service_account);
  if (std::string(k.kind) == "Job") y.s("restartPolicy", "Never");
  // Pod i of the Indexed Job is `<name>-i.<name>`, through the Service.
  if (p.ranks) y.s("subdomain", name);
  initContainers(y, p, v, name);
  y.key("containers").seq();
  container(y, p, v, name, k, parallel);
  y.endSeq();
  volumes(y, p, v, name, parallel || hasAIMaster(*p.s));
  y.end();
  y.end();
}

void Emitter::jobManifest(Y& y, const StepPlan& p, Vals& v) const {
  const LoweredStep& s = *p.s;
  std::string name = v("name", p.dns.str());
  bool parallel = s.task.has_value();
  KindInfo k = kindInfo(parallel ? ir::JobType::Command : s.job_type);
  y.map().s("apiVersion", k.api).s("kind", k.kind);
  y.key("metadata").map().s("name", name).s("namespace", o_.name_space);
  labels(y, name, in_workflow_);
  y.end();
  y.key("spec").map();
  if (std::string(k.kind) == "Job") {
    if (parallel) {
      std::int64_t n = s.task->instance_count;
      y.s("completionMode", "Indexed").i("completions", n).i("parallelism", n);
      y.i("backoffLimit",
          n * std::max<std::int64_t>(1, s.task->settings.max_retries));
    } else if (p.ranks) {
      // One pod per rank, all at once; no retries, as for one process.
      y.s("completionMode", "Indexed").i("completions", p.ranks);
      y.i("parallelism", p.ranks).i("backoffLimit", 0);
    } else {
      y.i("backoffLimit", 0);
    }
    podTemplate(y, p, v, name, k, parallel);
  } else {
    y.s("cleanPodPolicy", "Running");
    Replicas r = replicasOf(s);
    y.key(k.specs).map();
    if (hasAIMaster(s)) aimasterReplica(y, p, v, name, k);
    for (const auto& [type, count] : r.types) {
      // An ElasticBatch worker that dies of a signal is started again; the
      // AIMaster gave its shard to another worker.
      y.key(type).map().i("replicas", count);
      y.s("restartPolicy", hasAIMaster(s) ? "ExitCode" : "Never");
      podTemplate(y, p, v, name, k, false);
      y.end();
    }
    y.end();
  }
  y.end();
  y.end();
}

std::string Emitter::successCondition(const StepPlan& p) const {
  const LoweredStep& s = *p.s;
  // An Indexed Job succeeds once each of its N indexes did.
  if (s.task || p.ranks)
    return "status.succeeded > " +
           std::to_string((s.task ? s.task->instance_count : p.ranks) - 1);
  if (s.job_type == ir::JobType::Command) return "status.succeeded > 0";
  Replicas r = replicasOf(s);
  return "status.replicaStatuses." + r.decides + ".succeeded > " +
         std::to_string(r.decides_count - 1);
}

std::string Emitter::failureCondition(const StepPlan& p) const {
  const LoweredStep& s = *p.s;
  if (s.task)
    return "status.failed > " +
           std::to_string(
               s.task->instance_count *
               std::max<std::int64_t>(1, s.task->settings.max_retries));
  if (s.job_type == ir::JobType::Command) return "status.failed > 0";
  return "status.replicaStatuses." + replicasOf(s).decides + ".failed > 0";
}

RankVariables Emitter::rankVars(const StepPlan& p,
                                const std::string& name) const {
  const LoweredStep& s = *p.s;
  // The lowering's processes with the cluster's addresses and port: its
  // variables, not the backend, say what each rank gets.
  std::vector<lowering::ProcessSlot> slots = s.processes;
  for (std::size_t i = 0; i < slots.size(); ++i)
    slots[i].address = name + "-" + std::to_string(i) + "." + name;
  lowering::bindEndpoints(s.job_type, s.resources, slots, {kRankPort});
  llvm::Expected<RankVariables> vars = rankVariables(slots);
  if (!vars)
    llvm::report_fatal_error(
        llvm::Twine("the ranks of step '") + s.name +
        "' do not fit one pod template: " + llvm::toString(vars.takeError()));
  return std::move(*vars);
}

void Emitter::serviceManifest(Y& y, const StepPlan& p, Vals& v) const {
  std::string name = v("name", p.dns.str());
  y.map().s("apiVersion", "v1").s("kind", "Service");
  y.key("metadata").map().s("name", name).s("namespace", o_.name_space);
  labels(y, name, in_workflow_);
  if (in_workflow_) {
    // It goes with its Job (whose uid the Workflow passes on).
    y.key("ownerReferences").seq().map().s("apiVersion", "batch/v1");
    y.s("kind", "Job").s("name", name).s("uid", "{{inputs.parameters.uid}}");
    y.end().endSeq();
  }
  y.end();
  // Headless: a DNS name per pod, ready or not, so that every rank finds
  // rank 0 as soon as it runs.
  y.key("spec").map().s("clusterIP", "None");
  y.b("publishNotReadyAddresses", true);
  y.key("selector").map().s("pipec.dev/pipeline", base_);
  y.s("pipec.dev/step", name).end();
  y.key("ports").seq().map().s("name", "master").i("port", kRankPort);
  y.s("protocol", "TCP").end().endSeq();
  y.end().end();
}

void Emitter::rankTemplates(Y& y, const std::string& name, const StepPlan& p,
                            llvm::StringRef job,
                            const std::vector<std::string>& params) const {
  auto inputs = [&y](llvm::ArrayRef<std::string> names) {
    y.key("inputs").map().key("parameters").seq();
    for (const std::string& n : names) y.map().s("name", n).end();
    y.endSeq().end();
  };
  // One task of the step's DAG: its arguments are the DAG's parameters of
  // those names, and the uid the `job` task gave.
  auto task = [&y, &name](const char* task, const char* depends,
                          llvm::ArrayRef<std::string> names, bool uid) {
    y.map().s("name", task).s("template", name + "-" + task);
    if (depends) y.s("depends", depends);
    y.key("arguments").map().key("parameters").seq();
    for (const std::string& n : names)
      y.map().s("name", n).s("value", "{{inputs.parameters." + n + "}}").end();
    if (uid) {
      y.map().s("name", "uid");
      y.s("value", "{{tasks.job.outputs.parameters.uid}}").end();
    }
    y.endSeq().end().end();
  };
  const std::vector<std::string> just_name{"name"};
  y.map().s("name", name);
  inputs(params);
  y.key("dag").map().key("tasks").seq();
  task("job", nullptr, params, false);
  task("service", "job", just_name, true);
  task("wait", "service", just_name, false);
  y.endSeq().end().end();

  y.map().s("name", name + "-job");
  inputs(params);
  y.key("outputs").map().key("parameters").seq().map().s("name", "uid");
  y.key("valueFrom").map().s("jsonPath", "{.metadata.uid}").end();
  y.end().endSeq().end();
  y.key("resource").map().s("action", "create").b("setOwnerReference", true);
  y.literal("manifest", job);
  y.end().end();

  Y service;
  std::set<std::string> named{"name"};
  Vals v(Vals::Mode::Chosen, &named);
  serviceManifest(service, p, v);
  y.map().s("name", name + "-service");
  inputs({"name", "uid"});
  y.key("resource").map().s("action", "create");
  y.literal("manifest", service.raw());
  y.end().end();

  Y wait;
  wait.map().s("apiVersion", "batch/v1").s("kind", "Job");
  wait.key("metadata").map().s("name", "{{inputs.parameters.name}}");
  wait.s("namespace", o_.name_space).end().end();
  y.map().s("name", name + "-wait");
  inputs(just_name);
  y.key("resource").map().s("action", "get");
  y.s("successCondition", successCondition(p));
  y.s("failureCondition", failureCondition(p));
  y.literal("manifest", wait.raw());
  y.end().end();
}

void Emitter::gatherTemplate(Y& y, const StepPlan& p, Vals& v) const {
  const LoweredStep& s = *p.s;
  std::string name = v("name", p.dns.str());
  y.key("container").map().s("image", p.image);
  y.key("command").seq().str("python3");
  y.str(std::string(kHarnessDir) + "/pipec_harness.py").str("--gather");
  y.str(s.ml_root + "/input/config/parallel.json").endSeq();
  y.s("workingDir", s.work_dir);
  volumeMounts(y, p, v, name, true, true);
  y.end();
  volumes(y, p, v, name, true);
}

// The AIMaster of an ElasticBatchJob: stdlib/harness/pipec_aimaster.py
// serves the shards of the step's data input (split as a parallel step's
// pods split it) at the pod's IP, writes that address to the claim (KubeDL
// makes no Service for ElasticBatch), then marks the job `aimaster:
// "ready"` as the run's AIMaster service account, which lets KubeDL start
// the workers. It exits 0 once every shard is finished.
void Emitter::aimasterReplica(Y& y, const StepPlan& p, Vals& v,
                              const std::string& name,
                              const KindInfo& k) const {
  const LoweredStep& s = *p.s;
  const InputData* data = nullptr;
  for (const InputData& in : s.inputs)
    if (ir::isArtifact(in.type) &&
        in.source.kind != ir::DataSource::Kind::None && !in.path.empty()) {
      data = &in;
      break;
    }
  std::int64_t workers = 0;
  for (const auto& [type, count] : replicasOf(s).types) workers += count;
  y.key("AIMaster").map().i("replicas", 1).s("restartPolicy", "Never");
  y.key("template").map().key("metadata").map();
  labels(y, name, in_workflow_);
  y.end().key("spec").map();
  y.s("serviceAccountName", dnsLabel(base_ + "-aimaster"));
  initContainers(y, p, v, name);  // an http(s) input is fetched here too
  y.key("containers").seq();
  y.map().s("name", k.container).s("image", p.image);
  y.key("command").seq().str("python3");
  y.str(std::string(kHarnessDir) + "/pipec_aimaster.py");
  if (data) {
    bool table = data->type == ir::Type::Table;
    y.str("--input")
        .str(data->path)
        .str("--kind")
        .str(table ? "table" : "files");
    // As `pipec run`'s shard service: 10 files, or 1 MiB of rows.
    y.str("--batch-by").str(table ? "size" : "count");
    y.str("--size").str(table ? "1048576" : "10");
  }
  y.str("--workers").str(std::to_string(workers));
  y.str("--port").str(std::to_string(k.port));
  y.str("--addr-file").str(std::string(kStateDir) + "/aimaster.addr");
  y.endSeq();
  y.s("workingDir", s.work_dir);
  y.key("ports").seq().map().s("name", k.port_name);
  y.i("containerPort", k.port).end().endSeq();
  y.key("env").seq();
  y.map().s("name", "PIPEC_JOB_NAME").s("value", name).end();
  auto field = [&](const char* var, const char* path) {
    y.map().s("name", var).key("valueFrom").map().key("fieldRef").map();
    y.s("fieldPath", path).end().end().end();
  };
  field("PIPEC_NAMESPACE", "metadata.namespace");
  field("PIPEC_POD_IP", "status.podIP");
  y.endSeq();
  volumeMounts(y, p, v, name, true, false);
  y.end().endSeq();
  volumes(y, p, v, name, true);
  y.end().end().end();
}

// What the AIMaster pods of a run may do: read and annotate ElasticBatchJobs.
void Emitter::aimasterRbacDocs(std::string& out) const {
  std::string sa = dnsLabel(base_ + "-aimaster");
  auto start = [&](Y& y, const char* api, const char* kind) {
    y.map().s("apiVersion", api).s("kind", kind);
    y.key("metadata").map().s("name", sa).s("namespace", o_.name_space);
    y.key("labels").map().s("app.kubernetes.io/managed-by", "pipec");
    y.s("pipec.dev/pipeline", base_).end().end();
  };
  {
    out += "---\n";
    Y y(out);
    start(y, "v1", "ServiceAccount");
    y.end();
    y.finish();
  }
  {
    out += "---\n";
    Y y(out);
    start(y, "rbac.authorization.k8s.io/v1", "Role");
    y.key("rules").seq().map();
    y.key("apiGroups").seq().str("inference.kubedl.io").endSeq();
    y.key("resources").seq().str("elasticbatchjobs").endSeq();
    y.key("verbs").seq().str("get").str("patch").endSeq();
    y.end().endSeq().end();
    y.finish();
  }
  out += "---\n";
  Y y(out);
  start(y, "rbac.authorization.k8s.io/v1", "RoleBinding");
  y.key("roleRef").map().s("apiGroup", "rbac.authorization.k8s.io");
  y.s("kind", "Role").s("name", sa).end();
  y.key("subjects").seq().map().s("kind", "ServiceAccount");
  y.s("name", sa).s("namespace", o_.name_space).end().endSeq();
  y.end();
  y.finish();
}

std::string Emitter::parallelConfig(const StepPlan& p) const {
  const lowering::ParallelTask& t = *p.s->task;
  llvm::json::Array args;
  for (const std::string& a : t.program_arguments) args.push_back(a);
  std::string output_dir =
      t.append_row_to.empty()
          ? std::string(kStateDir) + "/logs/user"
          : llvm::sys::path::parent_path(t.append_row_to).str();
  llvm::json::Object cfg{
      {"entry_script", t.entry_script},
      {"code_dir", p.s->work_dir},
      {"program_arguments", std::move(args)},
      {"input_kind", t.input_type == ir::Type::Table ? "table" : "files"},
      {"input_path", t.input_path},
      {"logging_level", llvm::StringRef(t.settings.logging_level).upper()},
      {"append_rows", !t.append_row_to.empty()},
      {"append_row_to", t.append_row_to},
      {"output_dir", output_dir},
      {"log_dir", std::string(kStateDir) + "/logs"},
      {"state_dir", kStateDir},
      {"per_instance", t.settings.max_concurrency_per_instance},
      {"instance_count", t.instance_count},
      {"settings", ir::settingsJson(t.settings)},
  };
  return llvm::formatv("{0:2}", llvm::json::Value(std::move(cfg))).str() + "\n";
}

void Emitter::claimDoc(std::string& out) const {
  out += "---\n";
  Y y(out);
  y.map().s("apiVersion", "v1").s("kind", "PersistentVolumeClaim");
  y.key("metadata").map().s("name", claim_).s("namespace", o_.name_space);
  y.key("labels").map().s("app.kubernetes.io/managed-by", "pipec");
  y.s("pipec.dev/pipeline", base_).end().end();
  y.key("spec").map();
  y.key("accessModes").seq().str("ReadWriteMany").endSeq();
  if (!o_.storage_class.empty()) y.s("storageClassName", o_.storage_class);
  y.key("resources").map().key("requests").map();
  y.s("storage", o_.claim_size).end().end();
  y.end().end();
  y.finish();
}

void Emitter::harnessDoc(std::string& out) const {
  out += "---\n";
  Y y(out);
  y.map().s("apiVersion", "v1").s("kind", "ConfigMap");
  y.key("metadata").map().s("name", dnsLabel(base_ + "-pipec-harness"));
  y.s("namespace", o_.name_space).end();
  y.key("data").map();
  for (const auto& [file, text] : o_.harness) y.s(file, text);
  y.end().end();
  y.finish();
}

void Emitter::codeDoc(const CodeMap& c, std::string& out) const {
  out += "---\n";
  Y y(out);
  y.map().s("apiVersion", "v1").s("kind", "ConfigMap");
  y.key("metadata").map().s("name", c.name).s("namespace", o_.name_space);
  y.end();
  for (bool bin : {false, true}) {
    bool any = false;
    for (std::size_t i = 0; i < c.items.size(); ++i) {
      if (c.binary[i] != bin) continue;
      if (!any) y.key(bin ? "binaryData" : "data").map();
      any = true;
      y.s(c.items[i].first, c.items[i].second);
    }
    if (any) y.end();
  }
  y.end();
  y.finish();
}

void Emitter::configDoc(const StepPlan& p, std::string& out) const {
  // Written straight into `out`, in the layout YamlWriter gives (map keys
  // at their indents, every value double-quoted): a ConfigMap per step is
  // the bulk of the manifests. Room for the most it can take is made
  // first, and the document written through a pointer.
  const LoweredStep& s = *p.s;
  // The environment (sorted by name) and the config files, in the order
  // of their keys; a file wins over a variable of its name.
  std::string parallel = s.task ? parallelConfig(p) : std::string();
  std::pair<llvm::StringRef, llvm::StringRef> files[] = {
      {"hyperparameters.json", s.hyperparameters_json},
      {"parallel.json", parallel},
      {"training_job.json", s.training_job_json}};
  using ir::yaml::doubleQuotedBound;
  static constexpr llvm::StringLiteral kHead =
      "---\napiVersion: \"v1\"\nkind: \"ConfigMap\"\nmetadata:\n  name: ";
  static constexpr llvm::StringLiteral kNamespace = "-config\"\n  namespace: ";
  static constexpr llvm::StringLiteral kLabels =
      "\n  labels:\n    app.kubernetes.io/managed-by: \"pipec\"\n"
      "    pipec.dev/pipeline: ";
  static constexpr llvm::StringLiteral kStep = "\n    pipec.dev/step: ";
  static constexpr llvm::StringLiteral kAnnotations =
      "\n  annotations:\n    pipec.dev/step-name: ";
  static constexpr llvm::StringLiteral kData = "\ndata:";
  std::size_t bound =
      kHead.size() + kNamespace.size() + kLabels.size() + kStep.size() +
      kAnnotations.size() + kData.size() + 2 * doubleQuotedBound(p.dns.size()) +
      doubleQuotedBound(o_.name_space.size()) +
      doubleQuotedBound(base_.size()) + doubleQuotedBound(s.name.size()) + 1;
  // An entry: its line end, two blanks, the key, `: `, the value.
  auto entryBound = [](llvm::StringRef key, llvm::StringRef value) {
    return 5 + doubleQuotedBound(key.size()) + doubleQuotedBound(value.size());
  };
  for (const auto& [file, text] : files) bound += entryBound(file, text);
  for (const auto& [name, value] : s.env) bound += entryBound(name, value);

  // Written into a buffer that keeps its size from step to step (making
  // the room in `out` would fill it with zeros first), then appended.
  if (config_buf_.size() < bound) config_buf_.resize(bound);
  char* o = config_buf_.data();
  auto put = [&o](llvm::StringRef t) {
    std::memcpy(o, t.data(), t.size());
    o += t.size();
  };
  auto quoted = [&o](llvm::StringRef v) {
    o = ir::yaml::writeDoubleQuoted(o, v);
  };
  put(kHead);
  quoted(p.dns);
  --o;  // the name goes on inside the quotes
  put(kNamespace);
  quoted(o_.name_space);
  put(kLabels);
  quoted(base_);
  put(kStep);
  quoted(p.dns);
  put(kAnnotations);
  quoted(s.name);
  put(kData);
  // planStep() checked the variables' names as ConfigMap keys.
  auto plain = [&](llvm::StringRef key) {
    return p.config_keys ? plainKeyOfPlainBytes(key) : plainKey(key);
  };
  auto entry = [&](llvm::StringRef key, llvm::StringRef value) {
    std::memcpy(o, "\n  ", 3);
    o += 3;
    if (plain(key))
      put(key);
    else
      quoted(key);
    std::memcpy(o, ": ", 2);
    o += 2;
    quoted(value);
  };
  auto env = s.env.begin();
  for (const auto& [file, text] : files) {
    if (file == "parallel.json" && !s.task) continue;
    for (; env != s.env.end() && llvm::StringRef(env->first) <= file; ++env)
      if (env->first != file) entry(env->first, env->second);
    entry(file, text);
  }
  for (; env != s.env.end(); ++env) entry(env->first, env->second);
  *o++ = '\n';
  out.append(config_buf_.data(), o - config_buf_.data());
}

/// A step-specific value of a job manifest, by its key (Vals): the job
/// name, or where input N is.
struct ValueRef {
  enum class Kind : std::uint8_t { Name, Where, Claim } kind = Kind::Name;
  std::size_t input = 0;

  explicit ValueRef(llvm::StringRef key) {
    if (key.consume_front("in-"))
      kind = Kind::Where;
    else if (key.consume_front("claim-"))
      kind = Kind::Claim;
    if (kind != Kind::Name && key.getAsInteger(10, input))
      llvm_unreachable("a value key the manifest does not ask for");
  }
  llvm::StringRef of(const StepPlan& p) const {
    switch (kind) {
      case Kind::Where:
        return p.inputs[input].where;
      case Kind::Claim:
        return p.inputs[input].other_claim;
      case Kind::Name:
        break;
    }
    return p.dns;
  }
};

void Emitter::workflowDoc(const std::vector<StepPlan>& plans,
                          std::string& out) {
  in_workflow_ = true;
  // Steps whose manifests differ only in their values share a template.
  // The manifest of the first step of each shape key is rendered with
  // every value as a parameter; equal renderings are one group.
  struct Group {
    std::string name;
    std::set<std::string> params;
    /// The keys of the values the manifest asks for, first use of each.
    std::vector<std::string> keys;
    std::vector<ValueRef> refs;  ///< as keys
    /// Which of `keys` are parameters, in order.
    std::vector<std::size_t> slots;
    std::vector<std::size_t> members;
  };
  constexpr std::size_t kNone = ~std::size_t(0);
  std::vector<std::size_t> group_of_shape;
  std::map<std::string, std::size_t> by_shape;
  std::vector<Group> groups;
  std::vector<std::size_t> group_of(plans.size());
  std::set<std::string> names{"main"};
  for (std::size_t i = 0; i < plans.size(); ++i) {
    const StepPlan& p = plans[i];
    if (p.shape >= group_of_shape.size())
      group_of_shape.resize(p.shape + 1, kNone);
    std::size_t& of_shape = group_of_shape[p.shape];
    if (of_shape == kNone) {
      // The first step of its shape key: its lowered step was kept.
      Y y(Y::kSignature);
      Vals v(Vals::Mode::AllParams);
      jobManifest(y, p, v);
      std::string shape = std::move(y).text();
      if (p.parallel) {
        Y g(Y::kSignature);
        g.map();
        gatherTemplate(g, p, v);
        g.end();
        shape += std::move(g).text();
      }
      auto [it, fresh] = by_shape.try_emplace(shape, groups.size());
      if (fresh) {
        Group g;
        const ir::FlatStep* f = p.f;
        std::string base =
            dnsLabel(f && f->component && !f->component->name.empty()
                         ? f->component->name
                         : p.s->name,
                     kJobNameMax);
        g.name = base;
        // A multi-process command job has three templates (below).
        auto free = [&](const std::string& n) {
          return !names.count(n) &&
                 (!p.ranks ||
                  (!names.count(n + "-job") && !names.count(n + "-service") &&
                   !names.count(n + "-wait")));
        };
        for (int n = 2; !free(g.name); ++n)
          g.name = base + "-" + std::to_string(n);
        names.insert(g.name);
        names.insert(g.name + "-gather");
        if (p.ranks) {
          names.insert(g.name + "-job");
          names.insert(g.name + "-service");
          names.insert(g.name + "-wait");
        }
        for (const auto& [key, value] : v.keys())
          if (std::find(g.keys.begin(), g.keys.end(), key) == g.keys.end())
            g.keys.push_back(key);
        for (const std::string& key : g.keys) g.refs.emplace_back(key);
        groups.push_back(std::move(g));
      }
      of_shape = it->second;
    }
    group_of[i] = of_shape;
    groups[of_shape].members.push_back(i);
  }
  for (Group& g : groups) {
    // A value that differs between members is a parameter; the name always.
    g.params.insert("name");
    const StepPlan& first = plans[g.members[0]];
    for (std::size_t k = 0; k < g.keys.size(); ++k) {
      llvm::StringRef value = g.refs[k].of(first);
      for (std::size_t m = 1; m < g.members.size(); ++m)
        if (g.refs[k].of(plans[g.members[m]]) != value) {
          g.params.insert(g.keys[k]);
          break;
        }
    }
    for (std::size_t k = 0; k < g.keys.size(); ++k)
      if (g.params.count(g.keys[k])) g.slots.push_back(k);
  }

  out += "---\n";
  Y y(out);
  y.map().s("apiVersion", "argoproj.io/v1alpha1").s("kind", "Workflow");
  y.key("metadata").map().s("name", base_).s("namespace", o_.name_space);
  y.key("labels").map().s("app.kubernetes.io/managed-by", "pipec");
  y.s("pipec.dev/pipeline", base_).end().end();
  y.key("spec").map().s("entrypoint", "main");
  if (!o_.service_account.empty())
    y.s("serviceAccountName", o_.service_account);
  y.key("templates").seq();
  // Argo's Workflow schema allows at most kDagTasks tasks in one DAG: a
  // larger pipeline's steps go, in their order (producers first), into
  // parts of at most that many tasks, each a DAG template of its own that
  // the main DAG runs once the parts holding its steps' producers are done.
  constexpr std::size_t kDagTasks = 200;
  constexpr std::size_t kNoPlan = ~std::size_t(0);
  std::vector<std::size_t> plan_of(flat_.steps.size(), kNoPlan);
  for (std::size_t i = 0; i < plans.size(); ++i)
    plan_of[std::size_t(plans[i].f - flat_.steps.data())] = i;
  // A pipeline of at most kDagTasks tasks is one part: `main` itself.
  std::vector<std::size_t> part_of(plans.size(), 0);
  std::vector<std::size_t> part_begin{0};
  std::size_t in_part = 0;
  for (std::size_t i = 0; i < plans.size(); ++i) {
    std::size_t n = plans[i].parallel ? 2 : 1;
    if (in_part + n > kDagTasks) {
      part_begin.push_back(i);
      in_part = 0;
    }
    in_part += n;
    part_of[i] = part_begin.size() - 1;
  }
  const std::size_t parts = part_begin.size();
  part_begin.push_back(plans.size());
  std::vector<std::string> part_names;
  if (parts > 1) {
    for (std::size_t k = 0; k < parts; ++k) {
      std::string n = "main-part-" + std::to_string(k + 1);
      for (int m = 2; names.count(n); ++m)
        n = "main-part-" + std::to_string(k + 1) + "-" + std::to_string(m);
      names.insert(n);
      part_names.push_back(std::move(n));
    }
    // Each part after the parts that hold its steps' producers.
    y.map().s("name", "main").key("dag").map().key("tasks").seq();
    std::string after;
    for (std::size_t k = 0; k < parts; ++k) {
      std::set<std::size_t> before;
      for (std::size_t i = part_begin[k]; i < part_begin[k + 1]; ++i)
        for (std::size_t d : plans[i].f->deps)
          if (std::size_t at = plan_of[d]; at != kNoPlan && part_of[at] != k)
            before.insert(part_of[at]);
      after.clear();
      for (std::size_t b : before) {
        if (!after.empty()) after += " && ";
        after += part_names[b];
      }
      y.map().s("name", part_names[k]).s("template", part_names[k]);
      if (!after.empty()) y.s("depends", after);
      y.end();
    }
    y.endSeq().end().end();
  }
  std::size_t part = 0;
  y.map().s("name", parts > 1 ? part_names[0] : std::string("main"));
  y.key("dag").map().key("tasks").seq();
  // The tasks, one per step (two for a parallel one), written straight
  // into `out` in the writer's layout: items at the sequence's indent.
  const std::size_t at = y.items();
  const std::string item = "\n" + std::string(at, ' ') + "- name: ";
  const std::string field = "\n" + std::string(at + 2, ' ');
  const std::string params =
      field + "arguments:\n" + std::string(at + 4, ' ') + "parameters:";
  const std::string param = "\n" + std::string(at + 6, ' ') + "- name: ";
  const std::string param_value = "\n" + std::string(at + 8, ' ') + "value: ";
  const std::string no_params = "\n" + std::string(at + 6, ' ') + "[]";
  auto quoted = [&out](llvm::StringRef v) {
    ir::yaml::appendDoubleQuoted(out, v);
  };
  std::string deps;
  auto task = [&](const Group& g, const StepPlan& p, llvm::StringRef name,
                  llvm::StringRef suffix, llvm::StringRef depends) {
    out += item;
    quoted(name);
    if (!suffix.empty()) {
      out.pop_back();  // the suffix goes on inside the quotes
      out.append(suffix.data(), suffix.size());
      out += '"';
    }
    out += field;
    out += "template: ";
    quoted(g.name);
    if (!suffix.empty()) {
      out.pop_back();
      out.append(suffix.data(), suffix.size());
      out += '"';
    }
    if (!depends.empty()) {
      out += field;
      out += "depends: ";
      quoted(depends);
    }
    out += params;
    if (g.slots.empty()) out += no_params;
    for (std::size_t k : g.slots) {
      out += param;
      quoted(g.keys[k]);
      out += param_value;
      quoted(g.refs[k].of(p));
    }
  };
  for (std::size_t i = 0; i < plans.size(); ++i) {
    const StepPlan& p = plans[i];
    const Group& g = groups[group_of[i]];
    if (part_of[i] != part) {
      // The next part's DAG (a template as the first part's is).
      part = part_of[i];
      y.endSeq().end().end();
      y.map().s("name", part_names[part]).key("dag").map().key("tasks").seq();
      y.items();
    }
    deps.clear();
    for (std::size_t d : p.f->deps) {
      // A producer in an earlier part is done before this part starts.
      if (std::size_t at = plan_of[d]; at != kNoPlan && part_of[at] != part)
        continue;
      if (!deps.empty()) deps += " && ";
      deps += step_dns_[d];
      if (flat_.steps[d].parallel) deps += "-gather";
    }
    task(g, p, p.dns, "", deps);
    if (p.parallel) task(g, p, p.dns, "-gather", p.dns);
    pass(out);  // the writer only appends: what is written can go
  }
  y.endSeq().end().end();
  for (const Group& g : groups) {
    const StepPlan& p = plans[g.members[0]];
    auto inputs = [&](Y& t) {
      t.key("inputs").map().key("parameters").seq();
      for (std::size_t k : g.slots) t.map().s("name", g.keys[k]).end();
      t.endSeq().end();
    };
    Y m;
    Vals v(Vals::Mode::Chosen, &g.params);
    jobManifest(m, p, v);
    if (p.ranks) {
      std::vector<std::string> keys;
      for (std::size_t k : g.slots) keys.push_back(g.keys[k]);
      rankTemplates(y, g.name, p, m.raw(), keys);
      continue;
    }
    y.map().s("name", g.name);
    inputs(y);
    y.key("resource").map().s("action", "create").b("setOwnerReference", true);
    y.s("successCondition", successCondition(p));
    y.s("failureCondition", failureCondition(p));
    y.literal("manifest", m.raw());
    y.end().end();
    if (p.parallel) {
      Vals gv(Vals::Mode::Chosen, &g.params);
      y.map().s("name", g.name + "-gather");
      inputs(y);
      gatherTemplate(y, p, gv);
      y.end();
    }
  }
  y.endSeq().end().end();
  y.finish();
}

/// Everything of a step its job manifest in a Workflow is made of, but the
/// values that are parameters of it (Vals: the job name, where inputs
/// are): steps with equal keys render equal manifests, so only the first
/// step of each key is rendered to find its template. Whatever a manifest
/// reads of a step must be here; more than it reads only costs a
/// rendering.
using ShapeKey = llvm::SmallString<2048>;

void shapeKey(const LoweredStep& s, const StepPlan& p, ShapeKey& key) {
  key.clear();
  auto text = [&](llvm::StringRef t) {
    auto n = static_cast<std::uint32_t>(t.size());
    const char* size = reinterpret_cast<const char*>(&n);
    key.append(size, size + sizeof n);
    key.append(t.begin(), t.end());
  };
  auto num = [&](std::int64_t n) {
    const char* bytes = reinterpret_cast<const char*>(&n);
    key.append(bytes, bytes + sizeof n);
  };
  num(static_cast<std::int64_t>(
      reinterpret_cast<std::uintptr_t>(p.f ? p.f->component : nullptr)));
  num(static_cast<std::int64_t>(reinterpret_cast<std::uintptr_t>(p.code)));
  text(p.image);
  text(s.command);
  num(s.argv.empty());  // the words are the component's (Emitter::run)
  text(s.ml_root);
  text(s.work_dir);
  text(s.code);
  num(s.code_is_url);
  num(static_cast<std::int64_t>(s.kind));
  num(static_cast<std::int64_t>(s.job_type));
  const ir::Resources& r = s.resources;
  for (std::int64_t n :
       {r.instance_count, r.gpu_count, r.process_count_per_instance, r.tf_chief,
        r.tf_ps, r.tf_worker, r.tf_evaluator, std::int64_t(r.mpi)})
    num(n);
  text(r.instance_type);
  // The processes' variables (a multi-process command job's prologue and
  // shared values) follow from the job type and the resources above.
  num(s.processes.size());
  for (const lowering::ProcessSlot& slot : s.processes) text(slot.role);
  num(s.env.size());
  for (const auto& kv : s.env) text(kv.first);
  num(s.inputs.size());
  for (std::size_t i = 0; i < s.inputs.size(); ++i) {
    const InputData& in = s.inputs[i];
    const InputPlace& at = p.inputs[i];
    num(static_cast<std::int64_t>(at.kind));
    num(static_cast<std::int64_t>(in.type));
    num(static_cast<std::int64_t>(in.source.kind));
    num(in.single_file);
    text(in.channel);
    text(in.path);
    if (at.kind == InputKind::Http) text(at.where);  // its file name
  }
  num(s.outputs.size());
  for (const lowering::OutputData& o : s.outputs) {
    text(o.channel);
    key.push_back(o.own_tree);  // mounted from the tree; the layout's init
  }
  num(s.task.has_value());
  if (s.task) {
    num(s.task->instance_count);
    num(s.task->settings.max_retries);
    text(s.task->append_row_to);
  }
}

bool Emitter::run(llvm::ArrayRef<std::size_t> chosen,
                  llvm::function_ref<void(std::size_t, LoweredStep&)> lower,
                  std::string& out, llvm::raw_ostream* sink) {
  unsigned errors = main_diags_.errorCount();
  // Names: unique DNS labels per flat step. The set holds the names where
  // they are, in step_dns_, which is not resized while it does.
  step_dns_.resize(flat_.steps.size());
  llvm::DenseSet<llvm::CachedHashStringRef> taken;
  taken.reserve(flat_.steps.size());
  std::string full = base_ + "-";
  for (std::size_t i = 0; i < flat_.steps.size(); ++i) {
    const ir::FlatStep& f = flat_.steps[i];
    std::string& n = step_dns_[i];
    // A lone component's one step is named after it.
    full.resize(base_.size() + 1);
    full += f.name;
    n = f.step == nullptr ? base_ : dnsLabel(full, kJobNameMax);
    if (!taken.insert(llvm::CachedHashStringRef(n)).second) {
      full += '-';
      full += hex8(f.name);
      n = dnsLabel(full, kJobNameMax);
      taken.insert(llvm::CachedHashStringRef(n));
    }
  }
  // What is known before lowering: where the data is, the code.
  std::vector<StepPlan> plans(chosen.size());
  bool parallel = false, aimaster = false;
  for (std::size_t k = 0; k < chosen.size(); ++k) {
    StepPlan& p = plans[k];
    p.dns = step_dns_[chosen[k]];
    p.f = &flat_.steps[chosen[k]];
    placeStep(k, p);
    parallel |= p.parallel;
    aimaster |= p.f->job_type == ir::JobType::ElasticBatch && !p.parallel;
  }

  out += "# pipec compile --target k8s: " + base_ + "\n";
  if (!uploads_.empty()) {
    out += "# Local data this run reads from the claim '" + claim_ +
           "'; copy it there first (README, \"Kubernetes\"):\n";
    for (const auto& [local, at] : uploads_)
      out += "#   " + ir::relativePath(local, root_dir_) + " -> " + at + "\n";
  }
  // Every document straight into `out`: about 2 KiB per step, or, with a
  // sink, passed on whenever 128 KiB are there (pass()).
  sink_ = sink;
  out.reserve(out.size() + 4096 + (sink ? kChunk : 2560 * plans.size()));
  claimDoc(out);
  if ((parallel || aimaster) && !o_.harness.empty()) harnessDoc(out);
  if (aimaster) aimasterRbacDocs(out);
  for (const auto& [dir, c] : codes_)
    if (!c.name.empty()) codeDoc(c, out);

  // Each step lowered, its ConfigMap written, and the step dropped unless
  // it is the first of its shape.
  std::deque<LoweredStep> kept;
  // Looked up by the key's bytes; a string is made only for a new key.
  struct KeyHash {
    using is_transparent = void;
    std::size_t operator()(std::string_view k) const {
      return std::hash<std::string_view>()(k);
    }
  };
  std::unordered_map<std::string, std::size_t, KeyHash, std::equal_to<>> shapes;
  ShapeKey key;
  // Steps of one component share a template only when their words are
  // equal; otherwise they run `sh -c` with the values in variables.
  struct Words {
    const std::vector<std::string>* first = nullptr;
    bool same = true;
  };
  std::unordered_map<const ir::Component*, Words> words;
  // Each step is lowered over the last one's storage.
  LoweredStep s;
  for (std::size_t k = 0; k < plans.size(); ++k) {
    StepPlan& p = plans[k];
    lower(k, s);
    // The layout of a step whose own tree is on the claim: its pods make
    // part of it (treeLayout()); the others are all mounts.
    if (s.layout.empty() && ownTree(s))
      lowering::stepLayoutTo(flat_, s, s.layout);
    planStep(k, s, p);
    configDoc(p, out);
    pass(out);
    p.s = nullptr;
    if (o_.single) {
      kept.push_back(std::move(s));
      p.s = &kept.back();
      continue;
    }
    shapeKey(s, p, key);
    std::string_view key_bytes(key.data(), key.size());
    auto shape = shapes.find(key_bytes);
    bool fresh = shape == shapes.end();
    if (fresh)
      shape = shapes.emplace(std::string(key_bytes), shapes.size()).first;
    p.shape = shape->second;
    Words& w = words[p.f->component];
    if (w.first && w.same && s.argv != *w.first) w.same = false;
    if (fresh) {
      kept.push_back(std::move(s));
      p.s = &kept.back();
      if (!w.first) w.first = &p.s->argv;
    }
  }
  if (main_diags_.errorCount() != errors) return false;
  std::stable_sort(
      later_.begin(), later_.end(),
      [](const auto& a, const auto& b) { return a.first < b.first; });
  for (auto& [at, d] : later_) main_diags_.emit(std::move(d));
  if (main_diags_.errorCount() != errors) return false;

  if (o_.single) {
    for (const StepPlan& p : plans) {
      if (p.ranks) {
        // The Service first: the ranks look rank 0 up through it.
        out += "---\n";
        Y y(out);
        Vals v(Vals::Mode::Literal);
        serviceManifest(y, p, v);
        y.finish();
      }
      out += "---\n";
      Y y(out);
      Vals v(Vals::Mode::Literal);
      jobManifest(y, p, v);
      y.finish();
    }
  } else {
    for (StepPlan& p : plans)
      if (!words[p.f->component].same) p.argv = false;
    workflowDoc(plans, out);
  }
  return true;
}

}  // namespace

std::string dnsLabel(llvm::StringRef text, std::size_t max) {
  std::string out;
  out.reserve(std::min(text.size(), max));
  for (char c : text) {
    char l = llvm::toLower(c);
    bool ok = llvm::isAlnum(l);
    if (!ok && (out.empty() || out.back() == '-')) continue;
    out += ok ? l : '-';
  }
  while (!out.empty() && out.back() == '-') out.pop_back();
  if (out.empty())
    out = "p";
  else if (!llvm::isAlpha(out[0]))
    out.insert(0, "p-");
  if (out.size() > max) {
    out.resize(max - 9);
    while (!out.empty() && out.back() == '-') out.pop_back();
    out += "-" + hex8(text);
  }
  return out;
}

bool emitManifests(
    llvm::StringRef name, const ir::FlatPipeline& flat,
    llvm::ArrayRef<std::size_t> chosen,
    llvm::function_ref<void(std::size_t, lowering::LoweredStep&)> lower,
    llvm::StringRef root_dir, const Options& opts, ir::DiagnosticEngine& diags,
    std::string& out, llvm::raw_ostream* sink) {
  Emitter e(name, flat, root_dir, opts, diags);
  bool ok = e.run(chosen, lower, out, sink);
  if (sink) {
    *sink << out;
    out.clear();
  }
  return ok;
}

}  // namespace pipec::backends::k8s
