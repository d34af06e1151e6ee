# Processes from /proc for the kill tests: who descends from whom, and who is
# still alive (a zombie is dead; whoever reaps orphans may take a while).
import os


def _stat(pid):
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return fields[0], int(fields[1])  # state, parent


def alive(pid):
    try:
        return _stat(pid)[0] not in ("Z", "X")
    except (OSError, IndexError):
        return False


def descendants(root):
    """Live processes below `root` now."""
    children = {}
    for name in os.listdir("/proc"):
        if name.isdigit():
            try:
                state, parent = _stat(int(name))
            except (OSError, IndexError):
                continue
            if state not in ("Z", "X"):
                children.setdefault(parent, []).append(int(name))
    out, todo = [], [root]
    while todo:
        for child in children.get(todo.pop(), []):
            out.append(child)
            todo.append(child)
    return out
