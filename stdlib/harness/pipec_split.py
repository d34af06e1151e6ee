# The mini-batches of a parallel step, made in Python exactly as the engine
# makes them (runtime/parallel/: folder_source.cpp, table_source.cpp,
# batch_source.cpp; ir/mltable.cpp), for the targets that cannot call pipec:
# the driver of `pipec compile --target sh` (pipec_sh_parallel.py) and the
# pods of an Indexed Job on Kubernetes (pipec_harness.py --indexed).
#
# The same order, boundaries, slices, partition key values and MLTable
# transformations: files of a folder N per mini-batch (or one mini-batch per
# `Key=value` folder tuple with partition_keys), a single file, tables (CSV,
# TSV, JSON Lines; UTF-8, ASCII, latin-1, windows-1252, UTF-16/32 with the
# byte order of their mark) cut at row boundaries once a slice reaches
# mini_batch_size bytes, one mini-batch per key tuple with partition_keys
# (rows written to part files under the scratch folder, as the engine
# does), MLTable files with paths (file, folder, pattern), read_delimited,
# read_json_lines, include_path_column, extract_columns_from_partition_format,
# skip, take, take_random_sample (seeded), drop_columns, keep_columns and
# convert_column_types; an MLTable that only lists paths gives lists of
# files. What the engine refuses is refused with the engine's words
# (SplitError's text is the sentence after "failed: " in job_result.txt).
#
# Standard library only: MLTable files are read by the small YAML reader
# below (block and flow collections, plain and quoted scalars; JSON too),
# whose line:column positions are those the engine reports. What it cannot
# read (anchors, tags, block scalars) is refused by name.
#
# split(input_path, input_kind, settings, scratch) -> [(payload, items)],
# payloads being what the harness's run_batch() takes.
import json
import os
import re
import stat as _stat

from pipec_tables import sampled  # the engine's sample function


class SplitError(Exception):
    """A problem that stops the step, in the engine's words."""


# --- a small YAML reader with positions -------------------------------------


class Node:
    __slots__ = ("kind", "value", "items", "entries", "line", "col")

    def __init__(self, kind, line, col, value=""):
        self.kind = kind  # "scalar", "map", "seq", "null"
        self.value = value
        self.items = []
        self.entries = []
        self.line = line
        self.col = col

    def get(self, key):
        for k, v in self.entries:
            if k.kind == "scalar" and k.value == key:
                return v
        return None

    def is_scalar(self):
        return self.kind == "scalar"

    def kind_name(self):
        return {"map": "a mapping", "seq": "a sequence", "null": "null"}.get(
            self.kind, "a scalar")


class YamlError(Exception):
    def __init__(self, line, col, why, construct=False):
        Exception.__init__(self, why)
        self.line, self.col, self.why = line, col, why
        self.construct = construct  # YAML pipec run reads, this reader not


def _strip_comment(text):
    quote = None
    for i, c in enumerate(text):
        if quote:
            if c == quote:
                quote = None
            elif c == "\\" and quote == '"':
                pass
        elif c in "'\"" and (i == 0 or text[i - 1] in " \t[{,:"):
            quote = c
        elif c == "#" and (i == 0 or text[i - 1] in " \t"):
            return text[:i].rstrip()
    return text.rstrip()


class _Yaml:
    def __init__(self, text):
        self.lines = []  # [line number, start column (0-based), text]
        for n, raw in enumerate(re.split(r"\r\n|\r|\n", text), 1):
            t = _strip_comment(raw.replace("\t", " ") if raw.startswith(
                "\t") else raw)
            body = t.lstrip(" ")
            if not body or (n == 1 and body.startswith("%")):
                continue
            if body in ("---", "..."):
                continue
            self.lines.append([n, len(t) - len(body), t])

    def parse(self):
        if not self.lines:
            raise YamlError(1, 1, "file is empty: expected a mapping")
        node, i = self.block(0)
        if i < len(self.lines):
            n, s, _ = self.lines[i]
            raise YamlError(n, s + 1, "this line is not where the one above "
                            "leads (check its indentation)")
        return node

    def block(self, i):
        n, s, t = self.lines[i]
        body = t[s:]
        if body == "-" or body.startswith("- "):
            return self.sequence(i, s)
        if self.key_end(t, s) is not None:
            return self.mapping(i, s)
        node, end = self.flow(t, s, n, block=True)
        if end is None:
            return self.multiline(i, s)
        return self.finish_inline(node, t, end, n, i)

    def finish_inline(self, node, t, end, n, i):
        rest = t[end:].strip()
        if rest:
            raise YamlError(n, end + 1, "unexpected '%s'" % rest)
        return node, i + 1

    def sequence(self, i, ind):
        n, s, t = self.lines[i]
        node = Node("seq", n, s + 1)
        while i < len(self.lines):
            n, s, t = self.lines[i]
            body = t[s:]
            if s != ind or not (body == "-" or body.startswith("- ")):
                break
            rest = body[1:].lstrip(" ")
            if not rest:
                if i + 1 < len(self.lines) and self.lines[i + 1][1] > ind:
                    child, i = self.block(i + 1)
                else:
                    child, i = Node("null", n, s + 2), i + 1
            else:
                self.lines[i] = [n, len(t) - len(rest), t]
                child, i = self.block(i)
            node.items.append(child)
        return node, i

    def key_end(self, t, s):
        """The index of the ':' that ends a mapping key at t[s:], or None."""
        body = t[s:]
        if body[:1] in ("'", '"'):
            q = body[0]
            j = 1
            while j < len(body):
                if body[j] == "\\" and q == '"':
                    j += 2
                    continue
                if body[j] == q:
                    if q == "'" and body[j + 1:j + 2] == "'":
                        j += 2
                        continue
                    break
                j += 1
            j += 1
            rest = body[j:]
            if rest.lstrip(" ").startswith(":"):
                k = j + len(rest) - len(rest.lstrip(" "))
                after = body[k + 1:k + 2]
                if after in ("", " "):
                    return s + k
            return None
        if body[:1] in ("[", "{"):
            return None
        for m in re.finditer(r":( |$)", body):
            return s + m.start()
        return None

    def mapping(self, i, ind):
        n, s, t = self.lines[i]
        node = Node("map", n, s + 1)
        while i < len(self.lines):
            n, s, t = self.lines[i]
            if s != ind:
                break
            k = self.key_end(t, s)
            if k is None:
                if t[s:] == "-" or t[s:].startswith("- "):
                    break
                raise YamlError(n, s + 1, "expected 'key: value'")
            key, _ = self.flow(t[:k], s, n, block=True)
            if key.kind == "null":
                key = Node("scalar", n, s + 1, "")
            rest = t[k + 1:].lstrip(" ")
            if not rest:
                nxt = self.lines[i + 1] if i + 1 < len(self.lines) else None
                body = nxt[2][nxt[1]:] if nxt else ""
                if nxt and (nxt[1] > ind or (nxt[1] == ind and (
                        body == "-" or body.startswith("- ")))):
                    value, i = self.block(i + 1)
                else:
                    value, i = Node("null", n, k + 2), i + 1
            else:
                start = len(t) - len(rest)
                value, end = self.flow(t, start, n, block=True)
                if value.kind in ("map", "seq") and end is None:
                    value, i = self.multiline(i, start)
                else:
                    _, i = self.finish_inline(value, t, end, n, i)
            node.entries.append((key, value))
        return node, i

    def multiline(self, i, start):
        """A flow collection over several lines, from line i's `start`."""
        n, _, t = self.lines[i]
        text = t
        j = i
        while True:
            try:
                value, end = self.flow(text, start, n, block=True,
                                       strict=True)
                return self.finish_inline(value, text, end, n, j)
            except YamlError:
                j += 1
                if j >= len(self.lines):
                    raise YamlError(n, start + 1, "a '[' or '{' that is not "
                                    "closed")
                text = text + " " + self.lines[j][2].strip()

    def flow(self, t, pos, line, block=False, strict=False):
        """The value at t[pos:]: (node, index after it). A '[' or '{' that
        does not close on the line gives end None (unless strict)."""
        p = pos
        while p < len(t) and t[p] == " ":
            p += 1
        col = p + 1
        if p >= len(t):
            return Node("null", line, col), p
        c = t[p]
        if c in "&*!|>":
            what = {"&": "an anchor", "*": "an alias", "!": "a tag",
                    "|": "a block scalar", ">": "a block scalar"}[c]
            raise YamlError(line, col, "%s ('%s')" % (what, c), True)
        if c in "[{":
            try:
                return self.collection(t, p, line)
            except YamlError:
                if strict:
                    raise
                return Node("map" if c == "{" else "seq", line, col), None
        if c in "'\"":
            value, end = self.quoted(t, p, line)
            return Node("scalar", line, col, value), end
        stop = len(t) if block else p
        if not block:
            while stop < len(t) and t[stop] not in ",]}" and not (
                    t[stop] == ":" and t[stop + 1:stop + 2] in (" ", ",", "]",
                                                                 "}", "")):
                stop += 1
        value = t[p:stop].rstrip(" ")
        if value in ("", "~", "null", "Null", "NULL"):
            return Node("null", line, col), stop
        return Node("scalar", line, col, value), stop

    def quoted(self, t, p, line):
        q = t[p]
        out = []
        j = p + 1
        while j < len(t):
            c = t[j]
            if c == q:
                if q == "'" and t[j + 1:j + 2] == "'":
                    out.append("'")
                    j += 2
                    continue
                return "".join(out), j + 1
            if c == "\\" and q == '"':
                e = t[j + 1:j + 2]
                simple = {"n": "\n", "t": "\t", "r": "\r", "\\": "\\",
                          '"': '"', "/": "/", "0": "\0", " ": " "}
                if e in simple:
                    out.append(simple[e])
                    j += 2
                    continue
                if e in ("x", "u", "U"):
                    width = {"x": 2, "u": 4, "U": 8}[e]
                    out.append(chr(int(t[j + 2:j + 2 + width], 16)))
                    j += 2 + width
                    continue
            out.append(c)
            j += 1
        raise YamlError(line, p + 1, "a quoted string that is not closed")

    def collection(self, t, p, line):
        opener = t[p]
        node = Node("map" if opener == "{" else "seq", line, p + 1)
        closer = "}" if opener == "{" else "]"
        j = p + 1
        while True:
            while j < len(t) and t[j] == " ":
                j += 1
            if j >= len(t):
                raise YamlError(line, p + 1, "'%s' is not closed" % opener)
            if t[j] == closer:
                return node, j + 1
            item, j = self.flow(t, j, line, strict=True)
            while j < len(t) and t[j] == " ":
                j += 1
            if opener == "{":
                if j < len(t) and t[j] == ":":
                    value, j = self.flow(t, j + 1, line, strict=True)
                else:
                    value = Node("null", line, j + 1)
                if value.kind in ("map", "seq") and j is None:
                    raise YamlError(line, p + 1, "not closed")
                node.entries.append((item, value))
            else:
                if j is None:
                    raise YamlError(line, p + 1, "not closed")
                node.items.append(item)
            while j < len(t) and t[j] == " ":
                j += 1
            if j < len(t) and t[j] == ",":
                j += 1
            elif j < len(t) and t[j] == closer:
                continue
            else:
                raise YamlError(line, j + 1, "expected ',' or '%s'" % closer)


def read_yaml(text):
    return _Yaml(text).parse()


# --- MLTable files (ir/mltable.cpp) -------------------------------------------

_SUPPORTED = ("read_delimited, read_json_lines, "
              "extract_columns_from_partition_format, drop_columns, "
              "keep_columns, convert_column_types, skip, take, "
              "take_random_sample")
_ENCODINGS = {"utf8": ("utf8", 1), "utf8bom": ("utf8", 1),
              "ascii": ("ascii", 1), "iso88591": ("latin1", 1),
              "latin1": ("latin1", 1), "windows1252": ("windows1252", 1),
              "cp1252": ("windows1252", 1), "utf16": ("utf16", 2),
              "utf32": ("utf32", 4)}


class _Diag(Exception):
    pass


class MLTable:
    def __init__(self):
        self.paths = []  # (kind, value, node)
        self.format = "files"  # "files", "delimited", "jsonlines"
        self.format_node = None
        self.delimiter = ","
        self.header = "each"  # "each", "first", "none"
        self.encoding = ""
        self.include_path_column = False
        self.empty_as_string = False
        self.infer_column_types = True
        self.partition = None
        self.partition_node = None
        self.drop_columns, self.keep_columns = [], []
        self.drop_node = self.keep_node = None
        self.conversions = []
        self.conversions_node = None
        self.skip = 0
        self.take = None
        self.sample = None
        self.seed = 0

    def is_table(self):
        return self.format != "files"

    def path_columns(self):
        out = [("Path", False, "")] if self.include_path_column else []
        if self.partition:
            out += self.partition["columns"]
        return out


def _scalar_of(n):
    return n.value if n is not None and n.kind == "scalar" else ""


class _Reader:
    """ir/mltable.cpp's Reader: the first error stops it (the engine's
    job_result.txt says the first one)."""

    def __init__(self):
        self.t = MLTable()

    def error(self, node, message):
        raise _Diag(node.line, node.col, message)

    def shape(self, n, key, what):
        self.error(n, "MLTable key '%s' must be %s" % (key, what))

    def bad(self, n, key, of, must):
        self.error(n, "'%s' of %s must be %s, not '%s'" % (
            key, of, must, n.value if n.kind == "scalar" else n.kind_name()))

    def bool_of(self, n, key, of):
        v = _scalar_of(n).lower()
        if v in ("true", "false"):
            return v == "true"
        self.bad(n, key, of, "true or false")

    def count_of(self, n, key, least):
        v = _scalar_of(n) if n is not None else ""
        if n is None or n.kind != "scalar" or not re.fullmatch(r"[0-9]+", v) \
                or int(v) < least or int(v) >= 1 << 64:
            if n is not None:
                self.bad(n, key, key, "a whole number of 1 or more" if least
                         else "a whole number of 0 or more")
            return None
        return int(v)

    def columns_of(self, n, key, out):
        if n is not None and n.kind == "scalar":
            out.append(n.value)
            return
        if n is not None and n.kind == "seq":
            for c in n.items:
                if c.kind != "scalar":
                    self.bad(c, key, key, "a column name")
                out.append(c.value)
            return
        if n is not None:
            self.bad(n, key, key, "a column name or a list of them")

    def read(self, root):
        t = self.t
        if root is None or root.kind != "map":
            self.shape(root or Node("null", 1, 1), "MLTable",
                       "a mapping with 'paths'")
        tr = root.get("transformations")
        if tr is not None:
            if tr.kind not in ("seq", "null"):
                self.shape(tr, "transformations", "a list")
            for step in tr.items:
                self.transformation(step)
        paths = root.get("paths")
        if paths is None or paths.kind != "seq" or not paths.items:
            self.shape(paths or root, "paths", "a non-empty list")
        for p in paths.items:
            self.path(p)
        if not t.is_table():
            for node, what in ((t.partition_node,
                                "extract_columns_from_partition_format"),
                               (t.drop_node, "drop_columns"),
                               (t.keep_node, "keep_columns"),
                               (t.conversions_node, "convert_column_types")):
                if node is not None:
                    self.error(node, "'%s' needs a table, but this MLTable "
                               "only lists files" % what)
        return t

    def read_options(self, step, args, fmt, name):
        t = self.t
        if t.format != "files":
            self.shape(step, "transformations",
                       "a list with one read transformation")
        t.format = fmt
        t.format_node = step
        if args is None or args.kind == "null":
            return
        if args.kind != "map":
            self.shape(args, name, "a mapping of options")
        csv = fmt == "delimited"
        for k, v in args.entries:
            key = _scalar_of(k)
            if key == "encoding":
                e = re.sub(r"[-_]", "", _scalar_of(v).lower())
                if e not in _ENCODINGS:
                    self.bad(v, key, name, "one of utf8, utf8bom, iso88591, "
                             "latin1, ascii, utf16, utf32, windows1252")
                t.encoding = _scalar_of(v)
            elif key == "include_path_column":
                t.include_path_column = self.bool_of(v, key, name)
            elif csv and key == "delimiter":
                d = _scalar_of(v)
                if d in ("\\t", "tab"):
                    d = "\t"
                if len(d.encode("utf-8")) != 1 or d in ('"', "\n", "\r"):
                    self.bad(v, key, name,
                             "one character (not a quote or a line break)")
                t.delimiter = d
            elif csv and key == "header":
                h = _scalar_of(v)
                modes = {"all_files_same_headers": "each",
                         "all_files_different_headers": "each",
                         "from_first_file": "first", "no_header": "none"}
                if h not in modes:
                    self.bad(v, key, name, "one of no_header, from_first_file, "
                             "all_files_same_headers, "
                             "all_files_different_headers")
                t.header = modes[h]
            elif csv and key == "empty_as_string":
                t.empty_as_string = self.bool_of(v, key, name)
            elif csv and key == "infer_column_types":
                t.infer_column_types = self.bool_of(v, key, name)
            elif csv and key == "support_multi_line":
                self.bool_of(v, key, name)
            elif not csv and key == "invalid_lines":
                w = _scalar_of(v)
                if w == "drop":
                    self.error(v, "'%s' of %s is not supported by pipec run: "
                               "a line that is not JSON fails its mini-batch"
                               % (key, name))
                elif w != "error":
                    self.bad(v, key, name, "error or drop")
            else:
                self.error(k, "'%s' of %s is not supported by pipec run: "
                           "pipec does not know this option" % (key, name))

    def conversions(self, args):
        t = self.t
        t.conversions_node = args
        if args.kind != "seq":
            self.shape(args, "convert_column_types", "a list")
        unsupported = ("pipec converts to int, float, string, boolean and "
                       "datetime")
        for c in args.items:
            if c.kind != "map":
                self.shape(c, "convert_column_types", "a list of mappings")
            cols, kind = c.get("columns"), c.get("column_type")
            if cols is None or kind is None:
                self.shape(c, "convert_column_types",
                           "entries with 'columns' and 'column_type'")
            conv = {"columns": [], "type": "", "formats": [], "true": [],
                    "false": []}
            self.columns_of(cols, "columns", conv["columns"])
            first = _scalar_of(kind.entries[0][0]) if kind.kind == "map" and \
                kind.entries else ""
            if kind.kind == "scalar":
                name = "boolean" if kind.value == "bool" else kind.value
                if name not in ("int", "float", "string", "boolean"):
                    self.error(kind, "'%s' of convert_column_types is not "
                               "supported by pipec run: %s" % (name,
                                                               unsupported))
                conv["type"] = name
            elif kind.kind == "map" and len(kind.entries) == 1 and \
                    first in ("datetime", "boolean"):
                conv["type"] = first
                a = kind.entries[0][1]
                if a is not None and a.kind == "map":
                    if first == "datetime" and a.get("formats") is not None:
                        self.columns_of(a.get("formats"), "formats",
                                        conv["formats"])
                    if first == "boolean":
                        for key, out in (("true_values", "true"),
                                         ("false_values", "false")):
                            if a.get(key) is not None:
                                self.columns_of(a.get(key), key, conv[out])
            else:
                self.error(kind, "'%s' of convert_column_types is not "
                           "supported by pipec run: %s" % (
                               first if kind.kind == "map" and kind.entries
                               else kind.kind_name(), unsupported))
            t.conversions.append(conv)

    def transformation(self, step):
        t = self.t
        args = None
        name_node = step
        if step.kind == "scalar":
            name = step.value
        elif step.kind == "map" and len(step.entries) == 1:
            name_node, args = step.entries[0]
            name = _scalar_of(name_node)
        else:
            self.shape(step, "transformations",
                       "a list of names or one-key mappings")

        def need_args():
            if args is None or args.kind == "null":
                self.shape(name_node, name, "given a value")

        if name == "read_delimited":
            self.read_options(name_node, args, "delimited", name)
        elif name == "read_json_lines":
            self.read_options(name_node, args, "jsonlines", name)
        elif name == "extract_columns_from_partition_format":
            need_args()
            f = args.get("partition_format") if args.kind == "map" else args
            if f is None or f.kind != "scalar":
                self.shape(args, name, "a partition format")
            pf, why = compile_partition_format(f.value)
            if pf is None:
                self.error(f, "partition format '%s' %s" % (f.value, why))
            t.partition = pf
            t.partition_node = f
        elif name in ("drop_columns", "keep_columns"):
            need_args()
            drop = name == "drop_columns"
            self.columns_of(args, name, t.drop_columns if drop
                            else t.keep_columns)
            if drop:
                t.drop_node = args
            else:
                t.keep_node = args
        elif name == "convert_column_types":
            need_args()
            self.conversions(args)
        elif name == "skip":
            need_args()
            n = self.count_of(args, name, 0)
            t.skip = n
        elif name == "take":
            need_args()
            t.take = self.count_of(args, name, 1)
        elif name == "take_random_sample":
            need_args()
            p = args.get("probability") if args.kind == "map" else args
            prob = -1.0
            try:
                prob = float(p.value) if p is not None and \
                    p.kind == "scalar" else -1.0
            except ValueError:
                prob = -1.0
            if not (0 <= prob <= 1):
                self.bad(p if p is not None else args, "probability", name,
                         "a number from 0 to 1")
            t.sample = prob
            s = args.get("seed") if args.kind == "map" else None
            if s is not None:
                t.seed = self.count_of(s, "seed", 0)
        else:
            self.error(name_node, "MLTable transformation '%s' is not "
                       "supported by pipec run" % name)

    def path(self, p):
        if p.kind != "map" or len(p.entries) != 1 or \
                p.entries[0][1].kind != "scalar":
            self.shape(p, "paths",
                       "a list of 'file:', 'folder:' or 'pattern:' entries")
        kind = _scalar_of(p.entries[0][0])
        if kind not in ("file", "folder", "pattern"):
            self.bad(p.entries[0][0], "paths", "MLTable",
                     "file, folder or pattern")
        value = p.entries[0][1]
        self.t.paths.append((kind, value.value, value))


def compile_partition_format(text):
    """(format, None), or (None, why): ir/mltable.cpp's
    compilePartitionFormat."""
    pieces, columns = [], []
    rest = text.lstrip("/")
    while rest:
        open_, close_first = rest.find("{"), rest.find("}")
        if close_first >= 0 and (open_ < 0 or close_first < open_):
            return None, "has a '}' without a '{' before it"
        if open_ < 0:
            pieces.append((False, rest, 0))
            break
        if open_:
            pieces.append((False, rest[:open_], 0))
        rest = rest[open_ + 1:]
        close = rest.find("}")
        if close < 0:
            return None, "has a '{' that is not closed"
        inner = rest[:close]
        rest = rest[close + 1:]
        name, _, fmt = inner.partition(":")
        name = name.strip(" \t\n\v\f\r")
        if not name:
            return None, "has a column without a name ('{}')"
        if any(c[0] == name for c in columns):
            return None, "names the column '%s' twice" % name
        if pieces and pieces[-1][0]:
            return None, "has two columns with nothing between them"
        dt = ":" in inner
        if dt:
            if not fmt:
                return None, ("has a datetime column '%s' without a format"
                              % name)
            r = fmt
            while r:
                if r.startswith("yyyy"):
                    r = r[4:]
                elif r[:2] in ("MM", "dd", "HH", "mm", "ss"):
                    r = r[2:]
                elif r[0].isascii() and r[0].isalpha():
                    return None, ("has '%s' in the datetime format '%s' (use "
                                  "yyyy, MM, dd, HH, mm, ss)" % (r[0], fmt))
                else:
                    r = r[1:]
        pieces.append((True, fmt, len(columns)))
        columns.append((name, dt, fmt))
    if not columns:
        return None, "has no '{column}'"
    return {"text": text, "pieces": pieces, "columns": columns}, None


def _match_from(f, i, s, values):
    pieces = f["pieces"]
    if i == len(pieces):
        return not s
    column, text, index = pieces[i]
    if not column:
        return s.startswith(text) and _match_from(f, i + 1, s[len(text):],
                                                  values)
    name, dt, fmt = f["columns"][index]
    if dt:
        at = 0
        parts = [1970, 1, 1, 0, 0, 0]
        while fmt:
            idx, width = -1, 2
            for k, tok in enumerate(("yyyy", "MM", "dd", "HH", "mm", "ss")):
                if fmt.startswith(tok):
                    idx, width = k, len(tok)
                    break
            if idx < 0:
                if at >= len(s) or s[at] != fmt[0]:
                    return False
                at += 1
                fmt = fmt[1:]
                continue
            digits = s[at:at + width]
            if len(digits) < width or not all("0" <= d <= "9"
                                              for d in digits):
                return False
            parts[idx] = int(digits)
            at += width
            fmt = fmt[width:]
        values[index] = "%04d-%02d-%02dT%02d:%02d:%02d" % tuple(parts)
        return _match_from(f, i + 1, s[at:], values)
    n = 1
    while n <= len(s) and s[n - 1] != "/":
        if _match_from(f, i + 1, s[n:], values):
            values[index] = s[:n]
            return True
        n += 1
    return False


def match_partition(f, path):
    """The values of the format's columns from `path`, or None."""
    values = [""] * len(f["columns"])
    for start in range(len(path)):
        if start and path[start - 1] != "/":
            continue
        if _match_from(f, 0, path[start:], values):
            return values
    return None


# --- files ------------------------------------------------------------------


def list_files(root):
    """Files under `root`, relative, in byte order of their paths (links
    followed, a link back into the walk skipped): runtime/parallel's
    listFiles and its sorter."""
    out = []
    above = []

    def walk(path, rel):
        try:
            st = os.stat(path)
            names = os.listdir(path)
        except OSError as e:
            raise SplitError("%s: %s" % (os.path.join(root, rel).rstrip("/"),
                                         e.strerror))
        key = (st.st_dev, st.st_ino)
        if key in above:
            return
        above.append(key)
        for name in names:
            full = os.path.join(path, name)
            try:
                st = os.stat(full)
            except OSError:
                continue  # a dangling link
            if _stat.S_ISREG(st.st_mode):
                out.append(os.fsencode(rel + name))
            elif _stat.S_ISDIR(st.st_mode):
                walk(full, rel + name + "/")
        above.pop()

    walk(root, "")
    out.sort()
    return [os.fsdecode(p) for p in out]


def _glob(pattern):
    """llvm::GlobPattern as a regex: '*' matches any run (also of '/'), '?'
    one character, '[...]' a class ('^' or '!' negates), '\\' escapes."""
    out, i = [], 0
    while i < len(pattern):
        c = pattern[i]
        if c == "*":
            out.append(".*")
        elif c == "?":
            out.append(".")
        elif c == "\\" and i + 1 < len(pattern):
            i += 1
            out.append(re.escape(pattern[i]))
        elif c == "[":
            j = pattern.find("]", i + 2)
            if j < 0:
                raise SplitError("invalid glob pattern: %s" % pattern)
            body = pattern[i + 1:j]
            neg = body[:1] in ("^", "!")
            if neg:
                body = body[1:]
            out.append("[%s%s]" % ("^" if neg else "",
                                   body.replace("\\", "\\\\")))
            i = j
        else:
            out.append(re.escape(c))
        i += 1
    return re.compile("".join(out) + r"\Z", re.S)


# --- tables -----------------------------------------------------------------

_CODEC = {"utf8": "utf-8", "ascii": "ascii", "latin1": "latin-1",
          "windows1252": "cp1252"}


class TableFile:
    def __init__(self, path, rel):
        low = path.lower()
        self.path, self.rel = path, rel
        self.json_lines = low.endswith((".jsonl", ".ndjson", ".json"))
        self.sep = "\t" if low.endswith(".tsv") else ","
        self.header = "each"
        self.encoding = "utf8"
        self.big_endian = False
        self.encoding_given = False
        self.bom = 0
        self.path_values = []

    def copy_reading(self, other):
        for k in ("json_lines", "sep", "header", "encoding", "big_endian",
                  "encoding_given"):
            setattr(self, k, getattr(other, k))

    def unit(self):
        return {"utf16": 2, "utf32": 4}.get(self.encoding, 1)

    def codec(self):
        if self.encoding in ("utf16", "utf32"):
            return "%s-%s" % (self.encoding.replace("utf", "utf-"),
                              "be" if self.big_endian else "le")
        return _CODEC[self.encoding]

    def reading_key(self):
        return (self.json_lines, self.sep, self.header, self.codec())


def _files_under(folder, rel_prefix, tables_only):
    out = []
    for rel in list_files(folder):
        if tables_only and not rel.lower().endswith(
                (".jsonl", ".ndjson", ".json", ".csv", ".tsv")):
            continue
        if os.path.basename(rel) == "MLTable":
            continue
        out.append(TableFile(folder + "/" + rel, rel_prefix + rel))
    return out


def _mltable_failure(file, diag):
    line, col, message = diag.args
    return SplitError("the MLTable file '%s' has errors; %d:%d: %s"
                      % (file, line, col, message))


def read_mltable(folder):
    """(MLTable, table files, listed entries): readMLTable of
    table_source.cpp."""
    file = folder + "/MLTable"
    try:
        with open(file, "rb") as fh:
            text = fh.read().decode("utf-8", "replace")
    except OSError as e:
        raise SplitError("table '%s': cannot read it: %s" % (file, e.strerror))
    try:
        doc = read_yaml(text)
        t = _Reader().read(doc)
    except YamlError as e:
        if e.construct:
            raise SplitError(
                "the MLTable file '%s' uses %s at %d:%d, which pipec run "
                "reads but the splitter of the sh and Kubernetes targets does "
                "not; write the value out instead, or run the step with "
                "pipec run" % (file, e.why, e.line, e.col))
        # The engine's words where they are known; a syntax error is
        # refused by both, in LLVM's words there.
        why = e.why if e.why.startswith("file is empty") else \
            "YAML syntax error: " + e.why
        raise SplitError("the MLTable file '%s' has errors; %d:%d: %s"
                         % (file, e.line, e.col, why))
    except _Diag as e:
        raise _mltable_failure(file, e)
    proto = TableFile(file, "")
    proto.json_lines = t.format == "jsonlines"
    proto.sep = t.delimiter
    proto.header = t.header
    if t.encoding:
        proto.encoding = _ENCODINGS[re.sub(r"[-_]", "",
                                           t.encoding.lower())][0]
        proto.encoding_given = True
    columns = t.path_columns()
    files, listed = [], []
    for kind, where, node in t.paths:
        if "://" in where:
            raise _mltable_failure(file, _Diag(
                node.line, node.col, "MLTable path '%s' is not a local path"
                % where))
        rel = where
        while rel.startswith("./"):
            rel = rel[2:]
        abs_ = rel if rel.startswith("/") else folder if rel in (
            ".", "") else folder + "/" + rel
        found = []
        if kind in ("file", "folder"):
            try:
                st = os.stat(abs_)
            except OSError as e:
                raise _mltable_failure(file, _Diag(
                    node.line, node.col, "MLTable path '%s' cannot be read: %s"
                    % (where, e.strerror)))
            is_dir = _stat.S_ISDIR(st.st_mode)
            if not t.is_table():
                listed.append((abs_, is_dir, None))
                continue
            if is_dir:
                found = _files_under(abs_, rel + "/", False)
            else:
                found = [TableFile(abs_, rel)]
        else:
            glob = _glob(rel)
            if not t.is_table():
                listed.append((folder, True, glob))
                continue
            found = [f for f in _files_under(folder, "", False)
                     if glob.match(f.rel)]
        for f in found:
            jl, sep = f.json_lines, f.sep
            f.copy_reading(proto)
            if not t.is_table():
                f.json_lines, f.sep = jl, sep
            if columns:
                if t.include_path_column:
                    f.path_values.append(f.path)
                if t.partition:
                    values = match_partition(t.partition, f.path)
                    if values is None:
                        n = t.partition_node
                        raise _mltable_failure(file, _Diag(
                            n.line, n.col, "the path '%s' does not match the "
                            "partition format '%s'" % (f.rel,
                                                       t.partition["text"])))
                    f.path_values += values
            files.append(f)
    return t, files, listed


def _bom(f):
    try:
        with open(f.path, "rb") as fh:
            head = fh.read(4)
    except OSError as e:
        raise SplitError("cannot read the input '%s': %s" % (f.path,
                                                              e.strerror))
    marks = ((b"\xff\xfe\x00\x00", "utf32", False),
             (b"\x00\x00\xfe\xff", "utf32", True),
             (b"\xef\xbb\xbf", "utf8", False), (b"\xff\xfe", "utf16", False),
             (b"\xfe\xff", "utf16", True))
    for mark, enc, be in marks:
        if head.startswith(mark):
            if f.encoding_given and f.encoding != enc:
                raise SplitError(
                    "table '%s': it starts with a byte order mark of %s text, "
                    "but the MLTable says encoding %s" % (f.path, enc,
                                                          f.encoding))
            f.encoding, f.big_endian, f.bom = enc, be, len(mark)
            return


def resolve_table_input(path):
    """(MLTable or None, table files, listed entries of a list of files)."""
    try:
        st = os.stat(path)
    except OSError as e:
        raise SplitError("cannot read the input '%s': %s" % (path, e.strerror))
    folder = path
    while len(folder) > 1 and folder.endswith("/"):
        folder = folder[:-1]
    table, files, listed = None, [], []
    if not _stat.S_ISDIR(st.st_mode):
        files = [TableFile(path, os.path.basename(path))]
    elif os.path.exists(folder + "/MLTable"):
        table, files, listed = read_mltable(folder)
        if not table.is_table():
            return table, files, listed
    else:
        files = _files_under(folder, "", True)
    if not files:
        raise SplitError("table '%s': %s" % (path, "its MLTable lists no files"
                                             if table else
                                             "no CSV or JSON Lines files "
                                             "(.csv, .tsv, .jsonl) and no "
                                             "MLTable file"))
    for f in files:
        _bom(f)
    return table, files, listed


_W1_CSV = re.compile(rb'"|\r\n?|\n')
_W1_JSON = re.compile(rb"\r\n?|\n")


def rows(f):
    """(begin, end, eol, blank, bytes) of each row of `f` after its byte
    order mark: the engine's RowScanner (rows end at LF, CRLF or a lone CR,
    outside double quotes in CSV)."""
    import mmap

    try:
        with open(f.path, "rb") as fh:
            # Mapped, not read: pages the scan left can go again.
            data = mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ) \
                if os.fstat(fh.fileno()).st_size else b""
    except OSError as e:
        raise SplitError("cannot read the input '%s': %s" % (f.path,
                                                              e.strerror))
    w = f.unit()
    quotes = not f.json_lines
    sep = ord(f.sep)
    start = f.bom
    n = len(data)

    def blank(b, e):
        if w == 1:
            body = data[b:e]
            if quotes and f.sep in " \t":
                return not body.strip(b" \t".replace(f.sep.encode(), b"")) \
                    and f.sep.encode() not in body
            return not body.strip(b" \t")
        for i in range(b, e - w + 1, w):
            c = int.from_bytes(data[i:i + w], "big" if f.big_endian
                               else "little")
            if (c != 0x20 and c != 0x09) or (quotes and c == sep):
                return False
        return True

    pos = start
    if w == 1:
        inside = False
        for m in (_W1_CSV if quotes else _W1_JSON).finditer(data, start):
            if m.group() == b'"':
                inside = not inside
                continue
            if inside:
                continue
            end = m.end()
            yield pos, end, end - m.start(), blank(pos, m.start()), \
                data[pos:end]
            pos = end
    else:
        order = "big" if f.big_endian else "little"
        inside = False
        i = start
        while i + w <= n:
            c = int.from_bytes(data[i:i + w], order)
            if c == 0x22:
                if quotes:
                    inside = not inside
            elif inside:
                pass
            elif c == 0x0A or c == 0x0D:
                eol = w
                if c == 0x0D and i + 2 * w <= n and int.from_bytes(
                        data[i + w:i + 2 * w], order) == 0x0A:
                    eol = 2 * w
                end = i + eol
                yield pos, end, eol, blank(pos, i), data[pos:end]
                pos = i = end
                inside = False
                continue
            i += w
    if pos < n:
        if (n - pos) % w:
            raise SplitError(
                "cannot read the input '%s': the file ends inside a "
                "character: %d bytes after the byte order mark are not a "
                "whole number of %d-byte %s code units (is the encoding "
                "right?)" % (f.path, n - start, w, f.encoding))
        yield pos, n, 0, blank(pos, n), data[pos:]


def _header_text(row, f):
    b, e, eol, _, body = row
    try:
        text = body[:len(body) - eol].decode(f.codec())
    except UnicodeDecodeError as err:
        if f.encoding == "utf8":
            return body[:len(body) - eol].decode("utf-8", "surrogateescape") \
                + "\n"
        raise SplitError("table '%s': the header is not %s text (byte %d)"
                         % (f.path, f.encoding, b + err.start))
    return text + "\n"


def transform_of(t, with_sample):
    """The "x" of a slice: what the harness does after reading
    (table_source.cpp, transformJson)."""
    if t is None:
        return None
    x = {}
    cols = t.path_columns()
    if cols:
        x["cols"] = [[name, "datetime" if dt else "str"]
                     for name, dt, _ in cols]
    if t.sample is not None and with_sample:
        x["sp"] = [t.sample, t.seed]
    if t.conversions:
        x["conv"] = []
        for c in t.conversions:
            d = {"type": c["type"]}
            for key in ("columns", "formats", "true", "false"):
                if c[key]:
                    d[key] = c[key]
            x["conv"].append(d)
    if t.drop_columns:
        x["drop"] = t.drop_columns
    if t.keep_columns:
        x["keep"] = t.keep_columns
    if t.empty_as_string:
        x["eas"] = True
    if not t.infer_column_types:
        x["infer"] = False
    return x or None


class RowFilter:
    def __init__(self, t):
        self.skip = t.skip if t else 0
        self.take = t.take if t else None
        self.sample = t.sample if t else None
        self.seed = t.seed if t else 0
        self.index = 0
        self.kept = 0

    def done(self):
        return self.take is not None and self.kept >= self.take

    def admit(self):
        """None: skipped; else whether the row is in the sample."""
        if self.skip:
            self.skip -= 1
            return None
        keep = self.sample is None or sampled(self.seed, self.index,
                                              self.sample)
        self.index += 1
        if keep:
            self.kept += 1
        return keep


def _slice_fields(p, f, header, has_header):
    p["fmt"] = "jsonl" if f.json_lines else "csv"
    if not f.json_lines:
        p["sep"] = f.sep
        p["h"] = header if has_header else None
    p["enc"] = f.codec()


def table_batches(files, size, table):
    """TableSource: slices of rows, cut once they reach `size` bytes."""
    size = size or 1
    filt = RowFilter(table)
    transform = transform_of(table, True)
    header = ""
    out = []
    for k, f in enumerate(files):
        if filt.done():
            break
        it = rows(f)
        reads_header = not f.json_lines and (
            f.header == "each" or (f.header == "first" and k == 0))
        if reads_header:
            header = ""
            for row in it:
                header = _header_text(row, f)
                break
        elif f.json_lines or f.header == "none":
            header = ""
        has_header = not f.json_lines and f.header != "none"
        while not filt.done():
            begin = end = items = nrows = 0
            first_index = filt.index
            any_ = False
            for row in _take_while(it, lambda: end - begin < size
                                   and not filt.done()):
                b, e, _, is_blank, _ = row
                keep = True
                if not is_blank:
                    keep = filt.admit()
                    if keep is None:
                        continue
                elif filt.skip:
                    continue
                if not any_:
                    begin = b
                    first_index = filt.index - (0 if is_blank else 1)
                any_ = True
                end = e
                if not is_blank:
                    nrows += 1
                    if keep:
                        items += 1
            if not any_:
                break
            if items == 0:
                continue
            p = {"f": f.path, "b": begin, "e": end, "n": nrows}
            _slice_fields(p, f, header, has_header)
            if transform:
                p["x"] = transform
                p["r0"] = first_index
                if f.path_values:
                    p["pc"] = list(f.path_values)
            out.append((p, items))
    return out


def _take_while(it, more):
    """Rows of `it` while more() holds, asked before each row is read."""
    while more():
        try:
            yield next(it)
        except StopIteration:
            return


def csv_fields(row, sep, max_fields):
    """Fields of a CSV row (bytes, RFC 4180 quoting), up to `max_fields`."""
    if row.endswith(b"\n"):
        row = row[:-1]
    if row.endswith(b"\r"):
        row = row[:-1]
    fields, cur, quoted = [], bytearray(), False
    i = 0
    s = sep.encode()[0]
    while i < len(row):
        c = row[i]
        if quoted:
            if c == 0x22:
                if i + 1 < len(row) and row[i + 1] == 0x22:
                    cur.append(0x22)
                    i += 1
                else:
                    quoted = False
            else:
                cur.append(c)
        elif c == 0x22:
            quoted = True
        elif c == s:
            fields.append(bytes(cur))
            cur = bytearray()
            if len(fields) >= max_fields:
                return fields
        else:
            cur.append(c)
        i += 1
    fields.append(bytes(cur))
    return fields


def _csv_field(v, sep):
    if not any(ch in v for ch in (b'"', b"\r", b"\n", sep.encode())):
        return v
    return b'"' + v.replace(b'"', b'""') + b'"'


def _json_text(v):
    if isinstance(v, str):
        return v
    if v is None:
        return ""
    if v is True or v is False:
        return "true" if v else "false"
    if isinstance(v, float):
        return "%.17g" % v
    return json.dumps(v, separators=(",", ":"), ensure_ascii=False)


def _text(b):
    return b.decode("utf-8", "surrogateescape")


def partition_batches(files, keys, scratch, table, memory=8 << 20):
    """PartitionSource: one mini-batch per key tuple, in the order the
    tuples first appear; the rows are written to part files under
    scratch/partitions (UTF-8, or ASCII), as the engine writes them."""
    jl = files[0].json_lines
    if any(f.json_lines != jl for f in files):
        raise SplitError("table '%s': partition_keys needs all files in one "
                         "format, CSV or JSON Lines" % files[0].path)
    folder = os.path.join(scratch, "partitions")
    os.makedirs(folder, exist_ok=True)
    proto = TableFile(files[0].path, files[0].rel)
    proto.copy_reading(files[0])
    if proto.encoding != "ascii":
        proto.encoding, proto.big_endian = "utf8", False
    filt = RowFilter(table)
    transform = transform_of(table, False)
    path_columns = [c[0] for c in table.path_columns()] if table else []
    header = out_header = b""
    ids, tuples, parts, counts = {}, [], [], []
    written = set()
    buffered = [0]

    def part_path(i):
        return os.path.join(folder, "%d.%s" % (
            i, "jsonl" if proto.json_lines else "csv"))

    def flush():
        # As the engine: rows held up to `memory` bytes, then appended to
        # their part files, the first write of a part with the header.
        for i, chunks in enumerate(parts):
            if not chunks:
                continue
            with open(part_path(i), "ab" if i in written else "wb") as fh:
                if i not in written:
                    fh.write(out_header)
                    written.add(i)
                fh.write(b"".join(chunks))
            parts[i] = []
        buffered[0] = 0

    for k, f in enumerate(files):
        if filt.done():
            break
        transcode = f.encoding not in ("utf8", "ascii")
        it = rows(f)
        reads_header = not f.json_lines and (
            f.header == "each" or (f.header == "first" and k == 0))
        if reads_header:
            for row in it:
                h = _header_text(row, f).encode("utf-8", "surrogateescape")
                if k == 0 or not header:
                    header = out_header = h
                    if path_columns:
                        out_header = h[:-1] + b"".join(
                            f.sep.encode() + _csv_field(c.encode(), f.sep)
                            for c in path_columns) + b"\n"
                elif h != header:
                    raise SplitError(
                        "table '%s': its header differs from the header of "
                        "'%s'; partition_keys needs one header for all files"
                        % (f.path, files[0].path))
                break
        key_path = [path_columns.index(key) if key in path_columns else -1
                    for key in keys]
        columns = [None] * len(keys)
        if not f.json_lines and any(kp < 0 for kp in key_path):
            names = [] if f.header == "none" else csv_fields(header, f.sep,
                                                             1 << 62)
            for ki, key in enumerate(keys):
                if key_path[ki] >= 0:
                    continue
                m = re.fullmatch(r"Column([0-9]+)", key)
                if f.header == "none" and m and int(m.group(1)) > 0:
                    columns[ki] = int(m.group(1)) - 1
                    continue
                if key.encode("utf-8", "surrogateescape") not in names:
                    raise SplitError("partition key '%s' is not a column of "
                                     "'%s'" % (key, f.path))
                columns[ki] = names.index(key.encode("utf-8",
                                                     "surrogateescape"))
        for row in _take_while(it, lambda: not filt.done()):
            b, e, eol, is_blank, data = row
            if is_blank:
                continue
            if not filt.admit():
                continue
            if transcode:
                try:
                    data = data.decode(f.codec()).encode("utf-8",
                                                         "surrogatepass")
                except UnicodeDecodeError as err:
                    raise SplitError(
                        "table '%s': the row at byte %d is not %s text (byte "
                        "%d)" % (f.path, b, f.encoding, b + err.start))
                eol //= f.unit()
            content = data[:len(data) - eol]
            values = []
            if f.json_lines:
                try:
                    obj = json.loads(content.decode("utf-8"))
                except ValueError:
                    obj = None
                if not isinstance(obj, dict):
                    raise SplitError("table '%s': the row at byte %d is not a "
                                     "JSON object" % (f.path, b))
                for ki, key in enumerate(keys):
                    if key_path[ki] >= 0:
                        values.append(f.path_values[key_path[ki]])
                    elif key not in obj:
                        raise SplitError(
                            "partition key '%s' is not a field of the row at "
                            "byte %d of '%s'" % (key, b, f.path))
                    else:
                        values.append(_json_text(obj[key]))
            else:
                need = max([1] + [c + 1 for c in columns if c is not None])
                fields = csv_fields(content, f.sep, need)
                for ki in range(len(keys)):
                    if key_path[ki] >= 0:
                        values.append(f.path_values[key_path[ki]])
                    else:
                        c = columns[ki]
                        values.append(_text(fields[c]) if c < len(fields)
                                      else "")
            tup = tuple(values)
            if tup not in ids:
                ids[tup] = len(tuples)
                tuples.append(values)
                parts.append([])
                counts.append(0)
            i = ids[tup]
            if f.path_values:
                if not f.json_lines:
                    data = content + b"".join(
                        f.sep.encode() + _csv_field(
                            v.encode("utf-8", "surrogateescape"), f.sep)
                        for v in f.path_values) + b"\n"
                else:
                    brace = content.find(b"{")
                    rest = content[brace + 1:]
                    members = ",".join(
                        json.dumps(c, ensure_ascii=False) + ":" +
                        json.dumps(v, ensure_ascii=False)
                        for c, v in zip(path_columns, f.path_values))
                    data = content[:brace + 1] + members.encode(
                        "utf-8", "surrogateescape") + (
                        b"" if rest.lstrip(b" \t").startswith(b"}")
                        else b",") + rest + b"\n"
            parts[i].append(data)
            if not data.endswith((b"\n", b"\r")):
                parts[i].append(b"\n")
            counts[i] += 1
            buffered[0] += len(data) + 1
            if buffered[0] > memory:
                flush()
    flush()
    has_header = not proto.json_lines and proto.header != "none"
    header_text = _text(out_header)
    out = []
    for i, values in enumerate(tuples):
        path = part_path(i)
        p = {"f": path, "b": len(out_header), "e": os.path.getsize(path),
             "n": counts[i]}
        _slice_fields(p, proto, header_text, has_header)
        if transform:
            p["x"] = transform
        p["pk"] = {"k": list(keys), "v": values}
        out.append((p, counts[i]))
    return out


def _table_columns(f, table):
    names = []
    first = None
    for row in rows(f):
        if not row[3]:
            first = row
            break
    if first is None:
        return names
    fields = csv_fields(_header_text(first, f).encode(
        "utf-8", "surrogateescape"), f.sep, 1 << 62)
    if f.header == "none":
        names = ["Column%d" % (i + 1) for i in range(len(fields))]
    else:
        names = [_text(x) for x in fields]
    return names + [c[0] for c in table.path_columns()]


def _check_columns(table, files, mltable_file):
    if table.format != "delimited":
        return
    if not (table.drop_columns or table.keep_columns or table.conversions):
        return
    names = _table_columns(files[0], table)
    if not names:
        return
    checks = [(table.drop_columns, "drop_columns"),
              (table.keep_columns, "keep_columns")]
    checks += [(c["columns"], "convert_column_types")
               for c in table.conversions]
    for cols, what in checks:
        for c in cols:
            if c not in names:
                raise SplitError(
                    "the MLTable file '%s' has errors; column '%s' of %s is "
                    "not a column of the table (its columns: %s)"
                    % (mltable_file, c, what, ", ".join(names)))


def file_list_batches(table, listed, count, size):
    """FileListSource: an MLTable that only lists files; skip, the sample
    and take apply to the files."""
    filt = RowFilter(table)

    def files():
        for abs_, is_dir, glob in listed:
            if not is_dir:
                yield abs_
                continue
            base = abs_
            while len(base) > 1 and base.endswith("/"):
                base = base[:-1]
            for rel in list_files(base):
                if os.path.basename(rel) == "MLTable":
                    continue
                if glob is not None and not glob.match(rel):
                    continue
                yield base + "/" + rel

    def admitted():
        it = files()
        while not filt.done():
            try:
                path = next(it)
            except StopIteration:
                return
            if filt.admit():
                yield path

    out, cur, total = [], [], 0
    size = size or 1
    for path in admitted():
        cur.append(path)
        if not count:
            try:
                total += os.stat(path).st_size
            except OSError as e:
                raise SplitError("cannot read the input '%s': %s"
                                 % (path, e.strerror))
        if (count and len(cur) == count) or (not count and total >= size):
            out.append((cur, len(cur)))
            cur, total = [], 0
    if cur:
        out.append((cur, len(cur)))
    return out


def folder_batches(root, per_batch, keys):
    """FolderSource: files by relative path, N per mini-batch, or one
    mini-batch per tuple of `Key=value` folders."""
    names = list_files(root)
    per_batch = per_batch or 1
    if not keys:
        return [([root + "/" + n for n in names[i:i + per_batch]],
                 len(names[i:i + per_batch]))
                for i in range(0, len(names), per_batch)]

    def tuple_of(rel):
        values, seen = [""] * len(keys), [False] * len(keys)
        d = rel.rpartition("/")[0]
        for segment in d.split("/") if d else []:
            k, eq, v = segment.partition("=")
            for i, key in enumerate(keys):
                if eq and k == key:
                    values[i], seen[i] = v, True
        for i, key in enumerate(keys):
            if not seen[i]:
                raise SplitError("partition key '%s' has no '%s=VALUE' folder "
                                 "in the path of '%s'" % (key, key, rel))
        return values

    out = []
    for n in names:
        t = tuple_of(n)
        if out and out[-1][0]["pk"]["v"] == t:
            out[-1][0]["p"].append(root + "/" + n)
            out[-1] = (out[-1][0], out[-1][1] + 1)
        else:
            out.append(({"p": [root + "/" + n],
                         "pk": {"k": list(keys), "v": t}}, 1))
    return out


def split(input_path, input_kind, settings, scratch):
    """Every mini-batch of the step in order: [(payload, items)], and
    whether run() gets tables ("table") or file paths ("files"): the
    engine's openBatchSource."""
    keys = list(settings.get("partition_keys") or [])
    by_keys = bool(keys) or settings.get("batch_by") == "partition_keys"
    size = int(settings.get("mini_batch_size", 10))
    if not input_path:
        raise SplitError("cannot read the input '': the step has no "
                         "input_data path")
    try:
        st = os.stat(input_path)
    except OSError as e:
        raise SplitError("cannot read the input '%s': %s" % (input_path,
                                                              e.strerror))
    if input_kind == "table":
        table, files, listed = resolve_table_input(input_path)
        if table is not None and not table.is_table():
            if by_keys:
                raise SplitError(
                    "partition key '%s' needs a table, but the MLTable of "
                    "'%s' only lists files (add read_delimited or "
                    "read_json_lines)" % (keys[0] if keys else "",
                                          input_path))
            return file_list_batches(table, listed, int(settings.get(
                "mini_batch_files", 10)), size), "files"
        if table is not None:
            _check_columns(table, files, input_path + "/MLTable")
        if not by_keys:
            return table_batches(files, size, table), "table"
        return partition_batches(files, keys, scratch, table), "table"
    if not _stat.S_ISDIR(st.st_mode):
        if by_keys:
            raise SplitError("partition key '%s' needs a table or a "
                             "partitioned folder; '%s' is a single file"
                             % (keys[0] if keys else "", input_path))
        return [([input_path], 1)], "files"
    root = input_path
    while len(root) > 1 and root.endswith("/"):
        root = root[:-1]
    return folder_batches(root, size, keys if by_keys else []), "files"
