"""Entry script of the parallel step: one row per file."""


def init():
    pass


def run(mini_batch):
    return [f"{path}: {open(path).read().strip()}" for path in mini_batch]
