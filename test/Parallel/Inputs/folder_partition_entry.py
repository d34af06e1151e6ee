# One row per file: its name and the partition keys of its mini-batch.
import os


def run(mini_batch, mini_batch_context):
    return ["%s %s" % (os.path.basename(p),
                       mini_batch_context.partition_key_value)
            for p in mini_batch]
