# records.py LOGS [INDEX]: the per-mini-batch records of a step, one line
# each: "INDEX STATUS ok=N/ITEMS result@worker[+backup] ..." (sorted by
# index), or only the record of INDEX.
import json
import sys

logs = sys.argv[1]
only = int(sys.argv[2]) if len(sys.argv) > 2 else None
recs = []
with open(logs + "/mini_batches.jsonl") as f:
    for line in f:
        recs.append(json.loads(line))
recs.sort(key=lambda r: r["index"])
for r in recs:
    if only is not None and r["index"] != only:
        continue
    attempts = " ".join(
        "%s@%d%s%s" % (a["result"], a["worker"], "+backup" if a["backup"] else "",
                       (" (%s)" % a["error"]) if "error" in a else "")
        for a in r["attempts"])
    print("%d %s ok=%d/%d %s" % (r["index"], r["status"], r["ok"], r["items"],
                                 attempts))
