"""Entry script: one row per file."""


def run(mini_batch):
    return [open(path).read().strip() for path in mini_batch]
