# run(): one line per item: the mini-batch's index, its partition key
# values with their types, its columns with their dtypes (or the file
# names of a list of files) and the item itself. A Path column shows its
# file name: where the data sits differs between targets.
import os


def init():
    pass


def show(v, column):
    return os.path.basename(v) if column == "Path" else repr(v)


def run(mini_batch, context):
    kv = ",".join("%s=%r:%s" % (k, v, type(v).__name__)
                  for k, v in context.partition_key_value.items())
    head = "%d {%s}" % (context.minibatch_index, kv)
    if isinstance(mini_batch, list) and (not mini_batch or isinstance(
            mini_batch[0], str)):
        return ["%s %s %d" % (head, os.path.basename(f), os.path.getsize(f))
                for f in mini_batch]
    if type(mini_batch).__name__ == "DataFrame":
        cols = ",".join("%s:%s" % (c, mini_batch[c].dtype)
                        for c in mini_batch.columns)
        rows = [" ".join(show(v, c) for c, v in zip(mini_batch.columns, r))
                for r in mini_batch.itertuples(index=False)]
    else:
        cols = ",".join(mini_batch[0]) if mini_batch else ""
        rows = [" ".join(show(v, c) for c, v in r.items())
                for r in mini_batch]
    return ["%s [%s] %s" % (head, cols, r) for r in rows]
