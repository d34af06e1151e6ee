# Table slices of pipec's parallel steps and ElasticBatch shards, as the
# user's code receives them: a pandas DataFrame, or a list of dict rows when
# pandas cannot be imported. Standard library only.
#
# A slice (JSON from the engine): {"f": file, "b": begin, "e": end,
# "fmt": "csv" | "jsonl", "sep": delimiter, "h": header line or null,
# "enc": Python codec name, optionally "pk": {"k": [keys], "v": [values]}}.
import json


class Tables:
    """Turns table slices into what run() receives."""

    def __init__(self, pd):
        self.pd = pd

    @classmethod
    def with_pandas(cls):
        try:
            import pandas
        except ImportError:
            pandas = None
        return cls(pandas)

    def load(self, p):
        import io

        with open(p["f"], "rb") as fh:
            fh.seek(p["b"])
            data = fh.read(p["e"] - p["b"])
        enc = p.get("enc") or "utf-8"
        pd = self.pd
        if p["fmt"] == "jsonl":
            rows = [json.loads(line) for line in data.decode(enc).splitlines()
                    if line.strip()]
            return pd.DataFrame(rows) if pd is not None else rows
        sep = p.get("sep") or ","
        header = p.get("h")
        if pd is not None:
            if header is None:
                df = pd.read_csv(io.BytesIO(data), sep=sep, header=None,
                                 encoding=enc)
                df.columns = ["Column%d" % (i + 1) for i in range(df.shape[1])]
                return df
            head = header.encode("utf-8", "surrogateescape")
            return pd.read_csv(io.BytesIO(head + data), sep=sep, encoding=enc)
        import csv

        text = data.decode(enc, "surrogateescape")
        if header is None:
            rows = [r for r in csv.reader(io.StringIO(text), delimiter=sep) if r]
            return [{"Column%d" % (i + 1): v for i, v in enumerate(r)}
                    for r in rows]
        head = header.encode("utf-8", "surrogateescape").decode(enc,
                                                               "surrogateescape")
        return [r for r in csv.DictReader(io.StringIO(head + text),
                                          delimiter=sep)]

    def key_values(self, batch, keys, texts):
        """The partition's key values, typed as the data has them."""
        pd = self.pd
        if pd is not None and isinstance(batch, pd.DataFrame) and len(batch):
            first = batch.iloc[0]
            out = {}
            for k, t in zip(keys, texts):
                v = first[k] if k in batch.columns else t
                out[k] = v.item() if hasattr(v, "item") else v
            return out
        if isinstance(batch, list) and batch and isinstance(batch[0], dict):
            return {k: batch[0].get(k, t) for k, t in zip(keys, texts)}
        return dict(zip(keys, texts))
