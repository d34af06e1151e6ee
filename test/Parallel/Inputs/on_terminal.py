# on_terminal.py COMMAND...: runs COMMAND with stderr on a pseudo-terminal and
# prints what it wrote there, with \r and escape sequences made visible.
import os
import pty
import subprocess
import sys

leader, follower = pty.openpty()
proc = subprocess.Popen(sys.argv[1:], stderr=follower, stdout=subprocess.DEVNULL)
os.close(follower)
out = b""
while True:
    try:
        data = os.read(leader, 4096)
    except OSError:
        break
    if not data:
        break
    out += data
proc.wait()
text = out.decode(errors="replace").replace("\r\n", "<NL>\n").replace(
    "\r", "<CR>").replace("\x1b[K", "<EL>")
print(text)
print("exit", proc.returncode)
