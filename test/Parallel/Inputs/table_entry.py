# An entry script for table inputs: one row per item, saying what run() got.
def run(mini_batch, context):
    kind = type(mini_batch).__name__
    if kind == "DataFrame":
        ids = [str(v) for v in mini_batch["id"]]
        cols = list(mini_batch.columns)
    else:
        ids = [str(r["id"]) for r in mini_batch]
        cols = list(mini_batch[0].keys()) if mini_batch else []
    pk = context.partition_key_value
    return ["%s %s %s %s" % (i, kind, "|".join(cols), pk) for i in ids]
