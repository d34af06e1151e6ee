# make_encoded.py DIR --encoding NAME [options]: a table in a given encoding
# for the table-encoding tests:
#   DIR/tab/data.csv (or rows.jsonl with --jsonl) with --rows rows of
#   id,note; notes hold characters of the encoding (UTF-16 units with a 0x0A
#   or 0x0D byte, a character outside the BMP), commas, quotes and a line
#   break inside quotes;
#   DIR/tab/MLTable naming the encoding (not with --no-mltable);
#   DIR/expected.txt: "id|note" per row as UTF-8, line breaks in notes
#   written \n and \r.
# Options: --eol lf|crlf|cr, --bom (a byte order mark), --big-endian,
# --mltable-encoding NAME (what the MLTable says, default: --encoding).
import argparse
import json
import os

p = argparse.ArgumentParser()
p.add_argument("dir")
p.add_argument("--encoding", required=True)
p.add_argument("--mltable-encoding")
p.add_argument("--eol", default="lf")
p.add_argument("--bom", action="store_true")
p.add_argument("--big-endian", action="store_true")
p.add_argument("--jsonl", action="store_true")
p.add_argument("--no-mltable", action="store_true")
p.add_argument("--rows", type=int, default=40)
a = p.parse_args()

eol = {"lf": "\n", "crlf": "\r\n", "cr": "\r"}[a.eol]
name = a.encoding.lower().replace("-", "").replace("_", "")
codec = {"utf8": "utf-8", "utf8bom": "utf-8", "ascii": "ascii",
         "latin1": "latin-1", "iso88591": "latin-1",
         "windows1252": "cp1252", "utf16": "utf-16", "utf32": "utf-32"}[name]
if codec in ("utf-16", "utf-32"):
    codec += "-be" if a.big_endian else "-le"
words = {"ascii": "plain text", "latin-1": "caf\u00e9 \u00df \u00ff",
         "cp1252": "\u20ac caf\u00e9 \u201cq\u201d \u0160"}.get(
             codec, "caf\u00e9 \u20ac \u010a \u0d0a \U0001F600 \u4e2d")
bom = b""
if a.bom:
    bom = {"utf-8": b"\xef\xbb\xbf", "utf-16-le": b"\xff\xfe",
           "utf-16-be": b"\xfe\xff", "utf-32-le": b"\xff\xfe\x00\x00",
           "utf-32-be": b"\x00\x00\xfe\xff"}[codec]

tab = os.path.join(a.dir, "tab")
os.makedirs(tab, exist_ok=True)
notes = []
lines = []
for i in range(a.rows):
    note = "%s, \"%d\"" % (words, i)
    if i % 7 == 3:
        note += eol + "second line"
    notes.append(note)
    if a.jsonl:
        text = json.dumps({"id": i, "note": note}, ensure_ascii=False)
        if codec.startswith("utf"):
            # A raw U+2028 is valid JSON; str.splitlines() would cut there.
            text = text[:-1] + ', "sep": "\u2028"}'
        lines.append(text)
    else:
        lines.append("%d,\"%s\"" % (i, note.replace('"', '""')))
if a.jsonl:
    body = eol.join(lines) + eol
    fname = "rows.jsonl"
else:
    body = "id,note" + eol + eol.join(lines) + eol
    fname = "data.csv"
with open(os.path.join(tab, fname), "wb") as f:
    f.write(bom + body.encode(codec))
if not a.no_mltable:
    reader = "read_json_lines" if a.jsonl else "read_delimited"
    with open(os.path.join(tab, "MLTable"), "w") as f:
        f.write("paths:\n  - file: ./%s\ntransformations:\n  - %s:\n"
                "      encoding: %s\n"
                % (fname, reader, a.mltable_encoding or a.encoding))
        if not a.jsonl:
            f.write("      delimiter: ','\n      header: all_files_same_headers\n")
with open(os.path.join(a.dir, "expected.txt"), "w", encoding="utf-8") as f:
    for i, note in enumerate(notes):
        f.write("%d|%s\n" % (i, note.replace("\r", "\\r").replace("\n", "\\n")))
