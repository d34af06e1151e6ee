"""Each TensorFlow-style process listens on its own TF_CONFIG address and
checks that every peer answers with the role and index TF_CONFIG gives it."""
import json
import os
import socket
import sys
import threading
import time

config = json.loads(os.environ["TF_CONFIG"])
me = config["task"]
mine = f"{me['type']}:{me['index']}"
peers = {f"{role}:{i}": addr
         for role, addrs in config["cluster"].items()
         for i, addr in enumerate(addrs)}
host, port = peers[mine].rsplit(":", 1)
server = socket.create_server((host, int(port)))


def serve():
    while True:
        conn, _ = server.accept()
        with conn:
            conn.sendall(mine.encode())


threading.Thread(target=serve, daemon=True).start()


def ask(addr):
    h, p = addr.rsplit(":", 1)
    for _ in range(600):
        try:
            with socket.create_connection((h, int(p)), timeout=5) as c:
                return c.recv(100).decode()
        except OSError:
            time.sleep(0.05)
    sys.exit(f"{mine}: no answer from {addr}")


for name, addr in sorted(peers.items()):
    got = ask(addr)
    assert got == name, f"{addr} says {got}, TF_CONFIG says {name}"
out = os.environ["PAI_OUTPUT_RESULT"]
with open(os.path.join(out, mine.replace(":", "-")), "w") as f:
    f.write(f"{mine} on {peers[mine]} reached {len(peers)} peers\n")
print(f"{mine} on {host}: {len(peers)} peers answered")
if me["type"] == "ps":
    threading.Event().wait()  # serves until the job stops it, as a real ps does
# Stay up until every process has checked its peers.
while len(os.listdir(out)) < len(peers):
    time.sleep(0.05)
