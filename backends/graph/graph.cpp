// Walks the IR once into nodes, clusters and edges, then writes them as DOT
// or Mermaid.
#include "backends/graph/graph.h"

#include <functional>
#include <vector>

#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/StringExtras.h"

namespace pipec::backends::graph {

namespace {

struct Node {
  std::string id;
  std::vector<std::string> lines;  ///< the label, one entry per line
  enum class Kind : std::uint8_t { Step, Input, Output } kind;
  std::string status;
  int cluster = -1;  ///< index in Graph::clusters, or -1 at the top
};

struct Cluster {
  std::string id;
  std::string label;
  int parent = -1;
};

struct Edge {
  std::string from, to, label;
};

struct Graph {
  std::vector<Node> nodes;
  std::vector<Cluster> clusters;
  std::vector<Edge> edges;
};

/// The ports of one pipeline level: where its inputs come from and where its
/// outputs go, as node ids.
struct Level {
  std::map<std::string, std::string> input_nodes;   ///< input -> node id
  std::map<std::string, std::string> output_nodes;  ///< output -> node id
};

std::string settingsLine(const ir::ParallelSettings& p) {
  std::string size =
      p.batch_by == ir::ParallelSettings::BatchBy::Size
          ? std::to_string(p.mini_batch_size) + " bytes"
      : p.batch_by == ir::ParallelSettings::BatchBy::PartitionKeys
          ? "by " + llvm::join(p.partition_keys, ", ")
          : std::to_string(p.mini_batch_size) + " files";
  return "mini-batches of " + size + ", " +
         std::to_string(p.max_concurrency_per_instance) + " per instance";
}

class Builder {
 public:
  explicit Builder(const GraphOptions& opts) : opts_(opts) {}

  Graph build(const ir::Component& root) {
    if (root.kind != ir::ComponentKind::Pipeline || !root.body) {
      Node n{"n0",
             stepLines(root.name.empty() ? "step" : root.name, root,
                       root.job_type, root.resources, root.parallel),
             Node::Kind::Step, status(root.name), -1};
      g_.nodes.push_back(std::move(n));
      return std::move(g_);
    }
    Level top;
    for (const ir::Port& p : root.inputs)
      top.input_nodes[p.name] = add(
          Node::Kind::Input, {p.name, std::string(ir::typeName(p.type))}, -1);
    for (const ir::Port& p : root.outputs)
      top.output_nodes[p.name] = add(
          Node::Kind::Output, {p.name, std::string(ir::typeName(p.type))}, -1);
    pipeline(root, "", -1, top);
    return std::move(g_);
  }

 private:
  std::string add(Node::Kind kind, std::vector<std::string> lines, int cluster,
                  std::string st = "") {
    std::string id = "n" + std::to_string(g_.nodes.size());
    g_.nodes.push_back({id, std::move(lines), kind, std::move(st), cluster});
    return id;
  }

  std::string status(const std::string& name) const {
    auto it = opts_.status.find(name);
    return it == opts_.status.end() ? "" : it->second;
  }

  std::vector<std::string> stepLines(
      const std::string& name, const ir::Component& c, ir::JobType jt,
      const ir::Resources& r,
      const std::optional<ir::ParallelSettings>& parallel) const {
    std::vector<std::string> lines{name};
    std::string kind = c.kind == ir::ComponentKind::Parallel
                           ? "parallel"
                           : std::string(ir::jobTypeName(jt));
    if (r.instance_count > 1) kind += " x" + std::to_string(r.instance_count);
    lines.push_back(c.displayId() + " (" + kind + ")");
    if (parallel) lines.push_back(settingsLine(*parallel));
    return lines;
  }

  static std::string portType(const ir::Component& c, const std::string& in,
                              bool output) {
    const ir::Port* p = output ? c.findOutput(in) : c.findInput(in);
    if (!p && output && llvm::is_contained(ir::kDefaultOutputs, in))
      return std::string(ir::typeName(ir::Type::Folder));
    return p ? std::string(ir::typeName(p->type)) : "";
  }

  // Adds the steps of pipeline `pc` (qualified names under `prefix`) inside
  // `cluster`, wired to `level`.
  void pipeline(const ir::Component& pc, const std::string& prefix, int cluster,
                const Level& level) {
    const ir::Pipeline& body = *pc.body;
    // Where each step's outputs come from: a node id per (step, output).
    std::vector<Level> inner(body.steps.size());
    std::vector<std::string> step_node(body.steps.size());
    for (std::size_t i = 0; i < body.steps.size(); ++i) {
      const ir::Step& s = body.steps[i];
      const ir::Component& c = *s.component;
      std::string qname = prefix + s.name;
      if (c.kind == ir::ComponentKind::Pipeline && c.body) {
        int cl = int(g_.clusters.size());
        g_.clusters.push_back({"cluster_" + std::to_string(cl),
                               qname + ": " + c.displayId(), cluster});
        for (const ir::Port& p : c.inputs)
          inner[i].input_nodes[p.name] =
              add(Node::Kind::Input,
                  {p.name, std::string(ir::typeName(p.type))}, cl);
        for (const ir::Port& p : c.outputs)
          inner[i].output_nodes[p.name] =
              add(Node::Kind::Output,
                  {p.name, std::string(ir::typeName(p.type))}, cl);
        pipeline(c, qname + ".", cl, inner[i]);
      } else {
        step_node[i] =
            add(Node::Kind::Step,
                stepLines(qname, c, s.job_type, s.resources, s.parallel),
                cluster, status(qname));
        for (const ir::Port& p : c.outputs)
          inner[i].output_nodes[p.name] = step_node[i];
        // A command job's default outputs (`artifacts`, `default`).
        if (c.kind == ir::ComponentKind::Command)
          for (llvm::StringRef d : ir::kDefaultOutputs)
            inner[i].output_nodes.try_emplace(d.str(), step_node[i]);
      }
    }
    for (std::size_t i = 0; i < body.steps.size(); ++i) {
      const ir::Step& s = body.steps[i];
      const ir::Component& c = *s.component;
      bool nested = c.kind == ir::ComponentKind::Pipeline && c.body;
      for (const auto& [name, b] : s.inputs) {
        if (!c.findInput(name)) continue;  // a parameter
        std::string to = nested ? inner[i].input_nodes[name] : step_node[i];
        std::string type = portType(c, name, false);
        std::string from, label;
        if (b.kind == ir::Binding::Kind::StepOutput) {
          const ir::Step* p = body.findStep(b.step);
          if (!p) continue;
          std::size_t pi = std::size_t(p - body.steps.data());
          from = inner[pi].output_nodes[b.name];
          label = b.name + " → " + name;
        } else if (b.kind == ir::Binding::Kind::ParentInput) {
          auto it = level.input_nodes.find(b.name);
          if (it == level.input_nodes.end()) continue;
          from = it->second;
          label = name;
        } else if (b.kind == ir::Binding::Kind::Path) {
          from = add(Node::Kind::Input, {b.path, type}, cluster);
          label = name;
        } else {
          continue;
        }
        if (from.empty() || to.empty()) continue;
        g_.edges.push_back({from, to, label + ": " + type});
      }
      for (const auto& [name, b] : s.outputs) {
        if (b.kind != ir::OutputBinding::Kind::ParentOutput) continue;
        auto it = level.output_nodes.find(b.name);
        std::string from = inner[i].output_nodes[name];
        if (it == level.output_nodes.end() || from.empty()) continue;
        g_.edges.push_back(
            {from, it->second, name + ": " + portType(c, name, true)});
      }
    }
  }

  const GraphOptions& opts_;
  Graph g_;
};

const char* statusColor(const std::string& st) {
  std::string s = llvm::StringRef(st).lower();
  if (s == "ok" || s == "resumed") return "#b7e1a1";
  if (s == "failed") return "#f4a6a6";
  if (s == "running" || s == "interrupted") return "#ffe08a";
  if (!st.empty()) return "#dddddd";
  return "#ffffff";
}

std::string dotQuote(llvm::StringRef s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    if (c == '\n') {
      out += "\\n";
      continue;
    }
    out += c;
  }
  return out + "\"";
}

std::string nodeLabel(const Node& n, llvm::StringRef sep) {
  std::vector<std::string> lines = n.lines;
  if (!n.status.empty()) lines.push_back("[" + n.status + "]");
  std::string out;
  for (std::size_t i = 0; i < lines.size(); ++i) {
    if (i) out += sep.str();
    out += lines[i];
  }
  return out;
}

// Writes the nodes and clusters inside cluster `c` (-1: the top), nested
// clusters between `open` and `close`, each level indented two more spaces.
void walk(const Graph& g, int c, const std::string& indent,
          const std::function<void(const Node&, const std::string&)>& node,
          const std::function<void(const Cluster&, const std::string&)>& open,
          const std::function<void(const std::string&)>& close) {
  for (const Node& n : g.nodes)
    if (n.cluster == c) node(n, indent);
  for (std::size_t k = 0; k < g.clusters.size(); ++k) {
    if (g.clusters[k].parent != c) continue;
    open(g.clusters[k], indent);
    walk(g, int(k), indent + "  ", node, open, close);
    close(indent);
  }
}

std::string toDot(const Graph& g) {
  std::string o =
      "digraph pipeline {\n  rankdir=LR;\n  node [fontname=\"Helvetica\", "
      "fontsize=11];\n  edge [fontname=\"Helvetica\", fontsize=9];\n";
  auto node = [&](const Node& n, const std::string& indent) {
    std::string label;
    for (char c : nodeLabel(n, "\n")) label += c;
    o += indent + n.id + " [label=" + dotQuote(label);
    switch (n.kind) {
      case Node::Kind::Step:
        o += ", shape=box, style=\"rounded,filled\", fillcolor=\"";
        o += statusColor(n.status);
        o += "\"";
        break;
      case Node::Kind::Input:
        o += ", shape=invhouse";
        break;
      case Node::Kind::Output:
        o += ", shape=house";
        break;
    }
    o += "];\n";
  };
  walk(
      g, -1, "  ", node,
      [&](const Cluster& c, const std::string& indent) {
        o += indent + "subgraph " + c.id + " {\n" + indent +
             "  label=" + dotQuote(c.label) + ";\n" + indent +
             "  style=rounded;\n";
      },
      [&](const std::string& indent) { o += indent + "}\n"; });
  for (const Edge& e : g.edges)
    o +=
        "  " + e.from + " -> " + e.to + " [label=" + dotQuote(e.label) + "];\n";
  return o + "}\n";
}

// Mermaid label text: inside "...", with quotes and markup as entities.
std::string mermaidText(llvm::StringRef s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '"':
        out += "#quot;";
        break;
      case '<':
        out += "#lt;";
        break;
      case '>':
        out += "#gt;";
        break;
      case '#':
        out += "#35;";
        break;
      case '\n':
        out += "<br/>";
        break;
      default:
        out += c;
    }
  }
  return out;
}

std::string toMermaid(const Graph& g) {
  std::string o = "flowchart LR\n";
  auto node = [&](const Node& n, const std::string& indent) {
    std::vector<std::string> parts;
    std::string label;
    for (std::size_t i = 0; i < n.lines.size(); ++i) {
      if (i) label += "<br/>";
      label += mermaidText(n.lines[i]);
    }
    if (!n.status.empty()) label += "<br/>[" + mermaidText(n.status) + "]";
    switch (n.kind) {
      case Node::Kind::Step:
        o += indent + n.id + "(\"" + label + "\")\n";
        break;
      case Node::Kind::Input:
        o += indent + n.id + "[/\"" + label + "\"/]\n";
        break;
      case Node::Kind::Output:
        o += indent + n.id + "[\\\"" + label + "\"\\]\n";
        break;
    }
  };
  walk(
      g, -1, "  ", node,
      [&](const Cluster& c, const std::string& indent) {
        o += indent + "subgraph " + c.id + " [\"" + mermaidText(c.label) +
             "\"]\n";
      },
      [&](const std::string& indent) { o += indent + "end\n"; });
  for (const Edge& e : g.edges)
    o +=
        "  " + e.from + " -->|\"" + mermaidText(e.label) + "\"| " + e.to + "\n";
  for (const Node& n : g.nodes)
    if (n.kind == Node::Kind::Step && !n.status.empty())
      o += "  style " + n.id + " fill:" + statusColor(n.status) + "\n";
  return o;
}

}  // namespace

std::string render(const ir::Component& root, Format format,
                   const GraphOptions& opts) {
  Graph g = Builder(opts).build(root);
  return format == Format::Dot ? toDot(g) : toMermaid(g);
}

}  // namespace pipec::backends::graph
