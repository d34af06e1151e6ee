"""One rank of an MPI-style command job: writes its rank variables to
rank-<RANK>.env in the output folder; rank 0 listens at MASTER_ADDR:
MASTER_PORT until every other rank has said its rank there, and writes the
ranks it met to world.txt."""
import argparse
import os
import socket
import time

NAMES = ("RANK", "WORLD_SIZE", "LOCAL_RANK", "LOCAL_WORLD_SIZE", "NODE_RANK",
         "OMPI_COMM_WORLD_RANK", "OMPI_COMM_WORLD_SIZE",
         "OMPI_COMM_WORLD_LOCAL_RANK", "OMPI_COMM_WORLD_LOCAL_SIZE")
WAIT = 120  # seconds for rank 0's name to resolve and the others to come


def retry(fn):
    deadline = time.monotonic() + WAIT
    while True:
        try:
            return fn()
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", required=True)
    out = ap.parse_args().out
    rank, world = int(os.environ["RANK"]), int(os.environ["WORLD_SIZE"])
    with open(os.path.join(out, "rank-%d.env" % rank), "w") as fh:
        for name in NAMES:
            fh.write("%s=%s\n" % (name, os.environ.get(name, "(unset)")))
    master = (os.environ["MASTER_ADDR"], int(os.environ["MASTER_PORT"]))
    if rank != 0:
        with retry(lambda: socket.create_connection(master, timeout=WAIT)) as s:
            s.sendall(b"%d\n" % rank)
            s.recv(16)
        return
    met = [0]
    with retry(lambda: socket.create_server(master)) as server:
        server.settimeout(WAIT)
        while len(met) < world:
            conn, _ = server.accept()
            with conn:
                met.append(int(conn.makefile().readline()))
                conn.sendall(b"ok\n")
    with open(os.path.join(out, "world.txt"), "w") as fh:
        fh.write("rank 0 met ranks %s of %d\n"
                 % (" ".join(map(str, sorted(met))), world))


if __name__ == "__main__":
    main()
