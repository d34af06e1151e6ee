// MLTable files: the located reader and the partition formats.
#include "ir/mltable.h"

#include <cmath>
#include <cstring>
#include <set>

#include "ir/suggest.h"
#include "ir/yaml_reader.h"
#include "llvm/ADT/StringExtras.h"

namespace pipec::ir::mltable {

namespace {

using yaml::Node;

constexpr const char* kSupported =
    "read_delimited, read_json_lines, extract_columns_from_partition_format, "
    "drop_columns, keep_columns, convert_column_types, skip, take, "
    "take_random_sample";

std::string scalarOf(const Node* n) {
  return n && n->isScalar() ? n->value.str() : std::string();
}

// The encodings Azure's MLTable reference lists (runtime/parallel/encoding.h
// reads them): case, '-' and '_' ignored, cp1252 as windows1252.
bool knownEncoding(llvm::StringRef name) {
  std::string n;
  for (char c : name)
    if (c != '-' && c != '_') n.push_back(char(llvm::toLower(c)));
  for (const char* e : {"utf8", "utf8bom", "iso88591", "latin1", "ascii",
                        "utf16", "utf32", "windows1252", "cp1252"})
    if (n == e) return true;
  return false;
}

class Reader {
 public:
  explicit Reader(DiagnosticEngine& diags) : diags_(diags) {}

  std::optional<MLTable> read(const Node* root) {
    if (!root || !root->isMap()) {
      shape(root, "MLTable", "a mapping with 'paths'",
            "an MLTable file is YAML with 'paths:' and optional "
            "'transformations:'");
      return std::nullopt;
    }
    for (const auto& [k, v] : root->entries) {
      std::string key = scalarOf(k);
      if (key == "paths" || key == "transformations" || key == "type" ||
          key == "$schema" || key == "traits" || key == "metadata")
        continue;
      static constexpr llvm::StringRef kKeys[] = {"paths", "transformations",
                                                  "type"};
      diags_.report(k->range, diag::MLTableUnknownKey, key,
                    didYouMean(key, kKeys));
    }
    if (const Node* tr = root->get("transformations")) {
      if (!tr->isSeq() && !tr->isNull())
        shape(tr, "transformations", "a list",
              "write each transformation as '- name: arguments'");
      else
        for (const Node* step : tr->items) transformation(step);
    }
    const Node* paths = root->get("paths");
    if (!paths || !paths->isSeq() || paths->items.empty()) {
      shape(paths ? paths : root, "paths", "a non-empty list",
            "list the data as '- file: ./data.csv', '- folder: ./images' or "
            "'- pattern: ./**/*.csv'");
    } else {
      for (const Node* p : paths->items) path(p);
    }
    // Table transformations need a table.
    if (!t_.isTable()) {
      auto needs = [&](llvm::SMRange r, const char* what) {
        if (!r.isValid()) return;
        diags_.report(r, diag::MLTableNeedsTable, what)
            .note(llvm::SMRange(),
                  "add 'read_delimited' or 'read_json_lines' to the "
                  "transformations to make it a table, or remove '{}'",
                  what);
      };
      needs(t_.partition_range, "extract_columns_from_partition_format");
      needs(t_.drop_range, "drop_columns");
      needs(t_.keep_range, "keep_columns");
      needs(t_.conversions_range, "convert_column_types");
    }
    if (diags_.errorCount() != errors_at_start_) return std::nullopt;
    return std::move(t_);
  }

  unsigned errors_at_start_ = 0;

 private:
  void shape(const Node* n, const char* key, const char* what,
             const char* hint) {
    diags_
        .report(n ? n->range : llvm::SMRange(), diag::MLTableBadShape, key,
                what)
        .note(llvm::SMRange(), "{}", hint);
  }

  void bad(const Node* n, const std::string& key, const std::string& of,
           const std::string& must, const char* hint) {
    diags_
        .report(n->range, diag::MLTableBadValue, key, of, must,
                n->isScalar() ? n->value.str() : std::string(n->kindName()))
        .note(llvm::SMRange(), "{}", hint);
  }

  std::optional<bool> boolOf(const Node* n, const std::string& key,
                             const std::string& of) {
    std::string v = llvm::StringRef(scalarOf(n)).lower();
    if (v == "true") return true;
    if (v == "false") return false;
    bad(n, key, of, "true or false", "write true or false");
    return std::nullopt;
  }

  std::optional<std::uint64_t> countOf(const Node* n, const std::string& key,
                                       std::uint64_t min) {
    std::uint64_t v = 0;
    if (!n || !n->isScalar() || llvm::StringRef(n->value).getAsInteger(10, v) ||
        v < min) {
      if (n)
        bad(n, key, key,
            min ? "a whole number of 1 or more" : "a whole number of 0 or more",
            "write a count in digits, such as 10");
      return std::nullopt;
    }
    return v;
  }

  void columnsOf(const Node* n, const std::string& key,
                 std::vector<std::string>& out) {
    if (n && n->isScalar()) {
      out.push_back(n->value.str());
      return;
    }
    if (n && n->isSeq()) {
      for (const Node* c : n->items) {
        if (!c->isScalar()) {
          bad(c, key, key, "a column name", "write column names as a list");
          continue;
        }
        out.push_back(c->value.str());
      }
      return;
    }
    if (n)
      bad(n, key, key, "a column name or a list of them",
          "write the names as a list, such as [col1, col2]");
  }

  void read(const Node* step, const Node* args, MLTable::Format format,
            const std::string& name) {
    if (t_.format != MLTable::Format::Files) {
      diags_
          .report(step->range, diag::MLTableBadShape, "transformations",
                  "a list with one read transformation")
          .note(t_.format_range, "the first one is here");
      return;
    }
    t_.format = format;
    t_.format_range = step->range;
    if (!args || args->isNull()) return;
    if (!args->isMap()) {
      shape(args, name.c_str(), "a mapping of options",
            "write the options below it, such as 'encoding: utf8'");
      return;
    }
    bool csv = format == MLTable::Format::Delimited;
    for (const auto& [k, v] : args->entries) {
      std::string key = scalarOf(k);
      if (key == "encoding") {
        if (!knownEncoding(scalarOf(v)))
          bad(v, key, name,
              "one of utf8, utf8bom, iso88591, latin1, ascii, utf16, utf32, "
              "windows1252",
              "write one of the encodings of Azure's MLTable reference");
        t_.encoding = scalarOf(v);
        t_.encoding_range = v->range;
      } else if (key == "include_path_column") {
        if (auto b = boolOf(v, key, name)) t_.include_path_column = *b;
      } else if (csv && key == "delimiter") {
        std::string d = scalarOf(v);
        if (d == "\\t" || d == "tab") d = "\t";
        if (d.size() != 1 || d == "\"" || d == "\n" || d == "\r")
          bad(v, key, name, "one character (not a quote or a line break)",
              "write one character, such as ',' or '\\t'");
        else
          t_.delimiter = d[0];
      } else if (csv && key == "header") {
        std::string h = scalarOf(v);
        if (h == "all_files_same_headers" || h == "all_files_different_headers")
          t_.header = MLTable::Header::Each;
        else if (h == "from_first_file")
          t_.header = MLTable::Header::FromFirst;
        else if (h == "no_header")
          t_.header = MLTable::Header::None;
        else
          bad(v, key, name,
              "one of no_header, from_first_file, all_files_same_headers, "
              "all_files_different_headers",
              "write one of Azure's header modes");
      } else if (csv && key == "empty_as_string") {
        if (auto b = boolOf(v, key, name)) t_.empty_as_string = *b;
      } else if (csv && key == "infer_column_types") {
        if (auto b = boolOf(v, key, name)) t_.infer_column_types = *b;
      } else if (csv && key == "support_multi_line") {
        // pipec keeps a quoted line break in its row either way.
        boolOf(v, key, name);
      } else if (!csv && key == "invalid_lines") {
        std::string w = scalarOf(v);
        if (w == "drop")
          diags_
              .report(v->range, diag::MLTableUnsupportedOption, key, name,
                      "a line that is not JSON fails its mini-batch")
              .note(llvm::SMRange(),
                    "remove 'invalid_lines: drop' (or write 'error')");
        else if (w != "error")
          bad(v, key, name, "error or drop", "write 'error'");
      } else {
        diags_
            .report(k->range, diag::MLTableUnsupportedOption, key, name,
                    "pipec does not know this option")
            .note(llvm::SMRange(), "{} takes: {}", name,
                  csv ? "delimiter, header, encoding, include_path_column, "
                        "empty_as_string, infer_column_types, "
                        "support_multi_line"
                      : "encoding, include_path_column, invalid_lines");
      }
    }
  }

  void conversions(const Node* args) {
    t_.conversions_range = args->range;
    if (!args->isSeq()) {
      shape(args, "convert_column_types", "a list",
            "write '- columns: [Age]' and 'column_type: int' for each "
            "conversion");
      return;
    }
    for (const Node* c : args->items) {
      if (!c->isMap()) {
        shape(c, "convert_column_types", "a list of mappings",
              "write '- columns: [Age]' and 'column_type: int'");
        continue;
      }
      Conversion conv;
      const Node* cols = c->get("columns");
      const Node* type = c->get("column_type");
      if (!cols || !type) {
        shape(c, "convert_column_types",
              "entries with 'columns' and 'column_type'",
              "write '- columns: [Age]' and 'column_type: int'");
        continue;
      }
      columnsOf(cols, "columns", conv.columns);
      if (type->isScalar()) {
        std::string t = type->value.str();
        if (t == "bool") t = "boolean";
        if (t == "int" || t == "float" || t == "string" || t == "boolean") {
          conv.type = t;
        } else {
          diags_
              .report(type->range, diag::MLTableUnsupportedOption, t,
                      "convert_column_types",
                      "pipec converts to int, float, string, boolean and "
                      "datetime")
              .note(llvm::SMRange(),
                    "convert the column in run() instead, or use one of "
                    "those types");
          continue;
        }
      } else if (type->isMap() && type->entries.size() == 1 &&
                 scalarOf(type->entries[0].first) == "datetime") {
        conv.type = "datetime";
        const Node* a = type->entries[0].second;
        if (const Node* f = a && a->isMap() ? a->get("formats") : nullptr)
          columnsOf(f, "formats", conv.formats);
      } else if (type->isMap() && type->entries.size() == 1 &&
                 scalarOf(type->entries[0].first) == "boolean") {
        conv.type = "boolean";
        const Node* a = type->entries[0].second;
        if (a && a->isMap()) {
          if (const Node* tv = a->get("true_values"))
            columnsOf(tv, "true_values", conv.true_values);
          if (const Node* fv = a->get("false_values"))
            columnsOf(fv, "false_values", conv.false_values);
        }
      } else {
        diags_
            .report(type->range, diag::MLTableUnsupportedOption,
                    type->isMap() && !type->entries.empty()
                        ? scalarOf(type->entries[0].first)
                        : std::string(type->kindName()),
                    "convert_column_types",
                    "pipec converts to int, float, string, boolean and "
                    "datetime")
            .note(llvm::SMRange(),
                  "convert the column in run() instead, or use one of those "
                  "types");
        continue;
      }
      t_.conversions.push_back(std::move(conv));
    }
  }

  void transformation(const Node* step) {
    std::string name;
    const Node* args = nullptr;
    const Node* name_node = step;
    if (step->isScalar()) {
      name = step->value;
    } else if (step->isMap() && step->entries.size() == 1) {
      name_node = step->entries[0].first;
      name = scalarOf(name_node);
      args = step->entries[0].second;
    } else {
      shape(step, "transformations", "a list of names or one-key mappings",
            "write each transformation as '- name: arguments'");
      return;
    }
    auto need_args = [&]() {
      if (args && !args->isNull()) return true;
      shape(name_node, name.c_str(), "given a value",
            "see Azure's MLTable reference for its arguments");
      return false;
    };
    if (name == "read_delimited") {
      read(name_node, args, MLTable::Format::Delimited, name);
    } else if (name == "read_json_lines") {
      read(name_node, args, MLTable::Format::JsonLines, name);
    } else if (name == "extract_columns_from_partition_format") {
      if (!need_args()) return;
      const Node* f = args;
      if (args->isMap()) f = args->get("partition_format");
      if (!f || !f->isScalar()) {
        shape(args, name.c_str(), "a partition format",
              "write a format such as '{Store}/{Brand}/{file}.csv'");
        return;
      }
      std::string why;
      auto pf = compilePartitionFormat(f->value, why);
      if (!pf) {
        diags_.report(f->range, diag::MLTablePartitionFormat, f->value, why)
            .note(llvm::SMRange(),
                  "write '{{Name}}' for a string column and "
                  "'{{Name:yyyy/MM/dd}}' for a datetime, such as "
                  "'{{Store}}/{{Brand}}/{{file}}.csv'");
        return;
      }
      t_.partition = std::move(*pf);
      t_.partition_range = f->range;
    } else if (name == "drop_columns" || name == "keep_columns") {
      if (!need_args()) return;
      bool drop = name == "drop_columns";
      columnsOf(args, name, drop ? t_.drop_columns : t_.keep_columns);
      (drop ? t_.drop_range : t_.keep_range) = args->range;
    } else if (name == "convert_column_types") {
      if (!need_args()) return;
      conversions(args);
    } else if (name == "skip") {
      if (!need_args()) return;
      if (auto n = countOf(args, name, 0)) t_.skip = *n;
    } else if (name == "take") {
      if (!need_args()) return;
      if (auto n = countOf(args, name, 1)) t_.take = *n;
    } else if (name == "take_random_sample") {
      if (!need_args()) return;
      const Node* p = args->isMap() ? args->get("probability") : args;
      double prob = -1;
      if (!p || !p->isScalar() || llvm::StringRef(p->value).getAsDouble(prob) ||
          !(prob >= 0 && prob <= 1)) {
        bad(p ? p : args, "probability", name, "a number from 0 to 1",
            "write 'probability: 0.1' for a tenth of the rows");
        return;
      }
      t_.sample = prob;
      if (const Node* s = args->isMap() ? args->get("seed") : nullptr) {
        if (auto n = countOf(s, "seed", 0)) t_.seed = *n;
      }
    } else {
      diags_.report(name_node->range, diag::MLTableUnsupported, name)
          .note(llvm::SMRange(),
                "pipec run applies: {}; remove it or prepare the data in a "
                "step before this one",
                kSupported);
    }
  }

  void path(const Node* p) {
    if (!p->isMap() || p->entries.size() != 1 ||
        !p->entries[0].second->isScalar()) {
      shape(p, "paths", "a list of 'file:', 'folder:' or 'pattern:' entries",
            "write '- file: ./data.csv', '- folder: ./images' or "
            "'- pattern: ./**/*.png'");
      return;
    }
    std::string kind = scalarOf(p->entries[0].first);
    PathEntry e;
    e.value = p->entries[0].second->value.str();
    e.range = p->entries[0].second->range;
    if (kind == "file")
      e.kind = PathEntry::Kind::File;
    else if (kind == "folder")
      e.kind = PathEntry::Kind::Folder;
    else if (kind == "pattern")
      e.kind = PathEntry::Kind::Pattern;
    else {
      bad(p->entries[0].first, "paths", "MLTable", "file, folder or pattern",
          "write '- file: ./data.csv', '- folder: ./images' or "
          "'- pattern: ./**/*.png'");
      return;
    }
    t_.paths.push_back(std::move(e));
  }

  DiagnosticEngine& diags_;
  MLTable t_;
};

}  // namespace

std::vector<PathColumn> MLTable::pathColumns() const {
  std::vector<PathColumn> out;
  if (include_path_column) out.push_back({"Path", false, ""});
  if (partition)
    for (const PathColumn& c : partition->columns) out.push_back(c);
  return out;
}

bool sampled(std::uint64_t seed, std::uint64_t index, double probability) {
  if (probability >= 1) return true;
  // splitmix64 of seed and index.
  std::uint64_t x = seed * 0x9E3779B97F4A7C15ull + index;
  x += 0x9E3779B97F4A7C15ull;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
  x ^= x >> 31;
  return double(x >> 11) / 9007199254740992.0 < probability;
}

std::optional<PartitionFormat> compilePartitionFormat(llvm::StringRef text,
                                                      std::string& why) {
  PartitionFormat f;
  f.text = text.str();
  llvm::StringRef rest = text;
  while (rest.consume_front("/")) {
  }
  while (!rest.empty()) {
    std::size_t open = rest.find('{');
    std::size_t close_first = rest.find('}');
    if (close_first < open) {
      why = "has a '}' without a '{' before it";
      return std::nullopt;
    }
    if (open == llvm::StringRef::npos) {
      f.pieces.push_back({false, rest.str(), 0});
      break;
    }
    if (open) f.pieces.push_back({false, rest.take_front(open).str(), 0});
    rest = rest.drop_front(open + 1);
    std::size_t close = rest.find('}');
    if (close == llvm::StringRef::npos) {
      why = "has a '{' that is not closed";
      return std::nullopt;
    }
    llvm::StringRef inner = rest.take_front(close);
    rest = rest.drop_front(close + 1);
    auto [name, fmt] = inner.split(':');
    name = name.trim();
    if (name.empty()) {
      why = "has a column without a name ('{}')";
      return std::nullopt;
    }
    for (const PathColumn& c : f.columns)
      if (c.name == name) {
        why = "names the column '" + name.str() + "' twice";
        return std::nullopt;
      }
    if (!f.pieces.empty() && f.pieces.back().column) {
      why = "has two columns with nothing between them";
      return std::nullopt;
    }
    PathColumn col{name.str(), inner.contains(':'), fmt.str()};
    if (col.datetime) {
      if (fmt.empty()) {
        why = "has a datetime column '" + name.str() + "' without a format";
        return std::nullopt;
      }
      llvm::StringRef r = fmt;
      while (!r.empty()) {
        if (r.startswith("yyyy")) {
          r = r.drop_front(4);
        } else if (r.startswith("MM") || r.startswith("dd") ||
                   r.startswith("HH") || r.startswith("mm") ||
                   r.startswith("ss")) {
          r = r.drop_front(2);
        } else if (llvm::isAlpha(r.front())) {
          why = "has '" + r.take_front(1).str() + "' in the datetime format '" +
                fmt.str() + "' (use yyyy, MM, dd, HH, mm, ss)";
          return std::nullopt;
        } else {
          r = r.drop_front(1);
        }
      }
    }
    f.pieces.push_back({true, col.format, f.columns.size()});
    f.columns.push_back(std::move(col));
  }
  if (f.columns.empty()) {
    why = "has no '{column}'";
    return std::nullopt;
  }
  return f;
}

namespace {

// Matches pieces[i..] against s[pos..] (to its end); values filled.
bool matchFrom(const PartitionFormat& f, std::size_t i, llvm::StringRef s,
               std::vector<std::string>& values) {
  if (i == f.pieces.size()) return s.empty();
  const PartitionFormat::Piece& p = f.pieces[i];
  if (!p.column) {
    if (!s.startswith(p.text)) return false;
    return matchFrom(f, i + 1, s.drop_front(p.text.size()), values);
  }
  const PathColumn& col = f.columns[p.index];
  if (col.datetime) {
    // Digits where the format has yyyy/MM/..., the rest literally.
    llvm::StringRef fmt = col.format;
    std::size_t at = 0;
    int parts[6] = {1970, 1, 1, 0, 0, 0};
    while (!fmt.empty()) {
      int idx = -1, width = 2;
      if (fmt.startswith("yyyy"))
        idx = 0, width = 4;
      else if (fmt.startswith("MM"))
        idx = 1;
      else if (fmt.startswith("dd"))
        idx = 2;
      else if (fmt.startswith("HH"))
        idx = 3;
      else if (fmt.startswith("mm"))
        idx = 4;
      else if (fmt.startswith("ss"))
        idx = 5;
      if (idx < 0) {
        if (at >= s.size() || s[at] != fmt.front()) return false;
        ++at;
        fmt = fmt.drop_front(1);
        continue;
      }
      if (at + width > s.size()) return false;
      int v = 0;
      for (int k = 0; k < width; ++k) {
        if (!llvm::isDigit(s[at + k])) return false;
        v = v * 10 + (s[at + k] - '0');
      }
      parts[idx] = v;
      at += width;
      fmt = fmt.drop_front(idx == 0 ? 4 : 2);
    }
    char buf[32];
    std::snprintf(buf, sizeof(buf), "%04d-%02d-%02dT%02d:%02d:%02d", parts[0],
                  parts[1], parts[2], parts[3], parts[4], parts[5]);
    values[p.index] = buf;
    return matchFrom(f, i + 1, s.drop_front(at), values);
  }
  // A string column: one or more characters of one path segment, the
  // shortest that lets the rest match.
  for (std::size_t n = 1; n <= s.size() && s[n - 1] != '/'; ++n) {
    if (matchFrom(f, i + 1, s.drop_front(n), values)) {
      values[p.index] = s.take_front(n).str();
      return true;
    }
  }
  return false;
}

}  // namespace

bool PartitionFormat::match(llvm::StringRef path,
                            std::vector<std::string>& values) const {
  values.assign(columns.size(), std::string());
  // The format matches the end of the path, starting after a '/' (or at the
  // start of the path).
  for (std::size_t start = 0; start < path.size(); ++start) {
    if (start && path[start - 1] != '/') continue;
    if (matchFrom(*this, 0, path.drop_front(start), values)) return true;
  }
  return false;
}

std::pair<llvm::SMRange, char> splitterUnreadable(llvm::SourceMgr& sm,
                                                  unsigned buffer_id) {
  // Problems of the YAML are parse()'s to report, not this function's.
  struct Quiet : DiagnosticConsumer {
    void handle(const Diagnostic&) override {}
  } quiet;
  DiagnosticEngine quiet_diags(sm, quiet);
  std::unique_ptr<yaml::Document> doc = yaml::parse(sm, buffer_id, quiet_diags);
  if (!doc || !doc->root()) return {llvm::SMRange(), 0};
  // Document order; an aliased node is seen where it is anchored first.
  std::vector<const Node*> stack{doc->root()};
  std::set<const Node*> seen;
  while (!stack.empty()) {
    const Node* n = stack.back();
    stack.pop_back();
    if (!n || !seen.insert(n).second) continue;
    const char* at = n->range.Start.getPointer();
    if (at && std::strchr("&!|>", *at) && *at) return {n->range, *at};
    for (std::size_t i = n->entries.size(); i-- > 0;) {
      stack.push_back(n->entries[i].second);
      stack.push_back(n->entries[i].first);
    }
    for (std::size_t i = n->items.size(); i-- > 0;)
      stack.push_back(n->items[i]);
  }
  return {llvm::SMRange(), 0};
}

std::optional<MLTable> parse(const llvm::SourceMgr& sm, unsigned buffer_id,
                             DiagnosticEngine& diags) {
  unsigned before = diags.errorCount();
  std::unique_ptr<yaml::Document> doc = yaml::parse(sm, buffer_id, diags);
  if (!doc || diags.errorCount() != before) return std::nullopt;
  Reader r(diags);
  r.errors_at_start_ = before;
  return r.read(doc->root());
}

}  // namespace pipec::ir::mltable
