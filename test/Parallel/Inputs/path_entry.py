# One row per item: its id and the Path column (include_path_column).
def run(mini_batch):
    return ["%s %s" % (i, p) for i, p in zip(mini_batch["id"],
                                              mini_batch["Path"])]
