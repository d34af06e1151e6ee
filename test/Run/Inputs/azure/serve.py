"""Runs a command while an HTTP server (Python's http.server) serves a
folder on 127.0.0.1 at a free port; @PORT@ in the command's words is that
port. Usage: serve.py DIR COMMAND [ARG]..."""
import functools
import http.server
import subprocess
import sys
import threading


class Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


root, cmd = sys.argv[1], sys.argv[2:]
handler = functools.partial(Quiet, directory=root)
server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
port = str(server.server_address[1])
threading.Thread(target=server.serve_forever, daemon=True).start()
try:
    rc = subprocess.call([a.replace("@PORT@", port) for a in cmd])
finally:
    server.shutdown()
sys.exit(rc)
