"""Reads the source and the emitted file with PyYAML (YAML 1.1) and checks
that every hostile value of the source reads back as the same string."""
import sys

import yaml

src = yaml.safe_load(open(sys.argv[1], encoding="utf-8"))
out = yaml.safe_load(open(sys.argv[2], encoding="utf-8"))
want = [
    (src["display_name"], out["display_name"]),
    (src["description"], out["description"]),
    (src["tags"], out["tags"]),
    (src["inputs"], out["inputs"]),
    (src["jobs"]["a"]["component"]["inputs"]["q"]["enum"],
     out["jobs"]["a"]["component"]["inputs"]["q"]["enum"]),
    (src["jobs"]["a"]["component"]["inputs"]["p"]["default"],
     out["jobs"]["a"]["component"]["inputs"]["p"]["default"]),
    (src["jobs"]["a"]["component"]["inputs"]["r"]["default"],
     out["jobs"]["a"]["component"]["inputs"]["r"]["default"]),
    (src["jobs"]["a"]["environment_variables"],
     out["jobs"]["a"]["environment_variables"]),
    (src["jobs"]["a"]["inputs"]["q"], out["jobs"]["a"]["inputs"]["q"]),
]
bad = [(a, b) for a, b in want if a != b]
for a, b in bad:
    print(f"differs: source {a!r}, emitted {b!r}")
sys.exit(1 if bad else 0)
