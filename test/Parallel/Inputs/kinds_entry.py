# What run() receives, one line per item: the type of the mini-batch, of its
# elements (or the columns and their types), and the partition keys with
# the types of their values.
def describe(mini_batch, context):
    kind = type(mini_batch).__name__
    if kind == "DataFrame":
        what = ",".join("%s:%s" % (c, mini_batch[c].dtype)
                        for c in mini_batch.columns)
    elif mini_batch and isinstance(mini_batch[0], dict):
        what = ",".join("%s:%s" % (k, type(v).__name__)
                        for k, v in mini_batch[0].items())
    else:
        what = ",".join(sorted({type(x).__name__ for x in mini_batch}))
    kv = ",".join("%s=%r:%s" % (k, v, type(v).__name__)
                  for k, v in context.partition_key_value.items())
    return "%s[%s] {%s}" % (kind, what, kv)


def run(mini_batch, context):
    line = describe(mini_batch, context)
    return [line] * len(mini_batch)
