"""Runs a command with SIGINT at its default action: lit's workers ignore
SIGINT, and a shell cannot trap a signal ignored when it started, as a
script started from a terminal can. usage: sigdfl.py COMMAND ARGS..."""
import os
import signal
import sys

signal.signal(signal.SIGINT, signal.SIG_DFL)
os.execvp(sys.argv[1], sys.argv[1:])
