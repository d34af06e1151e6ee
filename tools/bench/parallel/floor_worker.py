# The floor's worker: JSON lines in on stdin, run() on each, JSON lines out.
# Reads what is available, answers it in one write.
import json
import os


def run(mini_batch):
    return mini_batch


def main():
    loads, dumps = json.loads, json.dumps
    buf = b""
    while True:
        data = os.read(0, 1 << 16)
        if not data:
            break
        buf += data
        lines = buf.split(b"\n")
        buf = lines.pop()
        out = [dumps(run(loads(line))).encode() + b"\n" for line in lines]
        os.write(1, b"".join(out))


main()
