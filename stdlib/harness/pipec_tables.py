# Table slices of pipec's parallel steps and ElasticBatch shards, as the
# user's code receives them: a pandas DataFrame, or a list of dict rows when
# pandas cannot be imported. Standard library only.
#
# A slice (JSON from the engine): {"f": file, "b": begin, "e": end,
# "n": rows, "fmt": "csv" | "jsonl", "sep": delimiter, "h": header line
# (UTF-8 text) or null, "enc": Python codec of the bytes (never a byte order
# mark among them), optionally "pk": {"k": [keys], "v": [values]}}.
# Rows end at LF, CRLF or a lone CR; a line of spaces and tabs is no row.
# The rows read must be the "n" rows the engine counted: anything else
# (a wrong encoding, a line ending pandas reads differently) is an error,
# never a silently shorter table.
import json
import re

_LINE_END = re.compile(r"\r\n|\r|\n")


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
        with open(p["f"], "rb") as fh:
            fh.seek(p["b"])
            data = fh.read(p["e"] - p["b"])
        enc = p.get("enc") or "utf-8"
        text = data.decode(enc)
        if p["fmt"] == "jsonl":
            rows = [json.loads(line) for line in _LINE_END.split(text)
                    if line.strip(" \t")]
            batch = self.pd.DataFrame(rows) if self.pd is not None else rows
        else:
            batch = self._csv(text, p.get("sep") or ",", p.get("h"))
        want = p.get("n")
        if want is not None and len(batch) != want:
            raise ValueError(
                "pipec read %d rows from bytes %d-%d of %s where there are %d "
                "(encoding %s): is the table's encoding or format right?"
                % (len(batch), p["b"], p["e"], p["f"], want, enc))
        return batch

    def _csv(self, text, sep, header):
        import io

        pd = self.pd
        if pd is not None:
            if header is None:
                df = pd.read_csv(io.StringIO(text), sep=sep, header=None)
                df.columns = ["Column%d" % (i + 1) for i in range(df.shape[1])]
                return df
            return pd.read_csv(io.StringIO(header + text), sep=sep)
        import csv

        def rows(source):
            # What pandas reads as rows: a line of blanks is none.
            for r in csv.reader(io.StringIO(source, newline=""),
                                delimiter=sep):
                if r and not (len(r) == 1 and not r[0].strip(" \t")):
                    yield r

        if header is None:
            return [{"Column%d" % (i + 1): v for i, v in enumerate(r)}
                    for r in rows(text)]
        names = next(csv.reader([header.rstrip("\r\n")], delimiter=sep), [])
        out = []
        for r in rows(text):
            # As csv.DictReader: extra fields under None, missing ones None.
            d = dict(zip(names, r))
            if len(r) > len(names):
                d[None] = r[len(names):]
            for k in names[len(r):]:
                d[k] = None
            out.append(d)
        return out

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
