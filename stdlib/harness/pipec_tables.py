# Table slices of pipec's parallel steps and ElasticBatch shards, as the
# user's code receives them: a pandas DataFrame, or a list of dict rows when
# pandas cannot be imported. Standard library only.
#
# A slice (JSON from the engine, or from pipec_split.py on the targets that
# cannot call it): {"f": file, "b": begin, "e": end,
# "n": rows, "fmt": "csv" | "jsonl", "sep": delimiter, "h": header line
# (UTF-8 text) or null, "enc": Python codec of the bytes (never a byte order
# mark among them), optionally "pk": {"k": [keys], "v": [values]}, and
# "x": what the MLTable asks for after reading (see `transform`), with
# "r0" (the index of the slice's first row in the table, for the sample)
# and "pc" (the values of the path columns for the slice's file; absent
# when the rows carry them, as partition rows do).
# Rows end at LF, CRLF or a lone CR; a line of spaces and tabs is no row.
# The rows read must be the "n" rows the engine counted: anything else
# (a wrong encoding, a line ending pandas reads differently) is an error,
# never a silently shorter table.
import json
import re

_LINE_END = re.compile(r"\r\n|\r|\n")


def sampled(seed, index, probability):
    """Whether row `index` is in take_random_sample's sample: the engine's
    function (ir/mltable.cpp, `sampled`), splitmix64 of seed and index."""
    if probability >= 1:
        return True
    m = (1 << 64) - 1
    x = (seed * 0x9E3779B97F4A7C15 + index) & m
    x = (x + 0x9E3779B97F4A7C15) & m
    x = ((x ^ (x >> 30)) * 0xBF58476D1CE4E5B9) & m
    x = ((x ^ (x >> 27)) * 0x94D049BB133111EB) & m
    x ^= x >> 31
    return (x >> 11) / 9007199254740992.0 < probability


class Tables:
    """Turns table slices into what run() receives."""

    def __init__(self, pd=False):
        self._pd = pd  # False: not imported yet

    @property
    def pd(self):
        """pandas, imported with the first table (a list of files never
        needs it), or None when it cannot be imported."""
        if self._pd is False:
            try:
                import pandas
            except ImportError:
                pandas = None
            self._pd = pandas
        return self._pd

    @classmethod
    def with_pandas(cls):
        return cls()

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
            batch = self._csv(text, p.get("sep") or ",", p.get("h"),
                              p.get("x"))
        want = p.get("n")
        if want is not None and len(batch) != want:
            raise ValueError(
                "pipec read %d rows from bytes %d-%d of %s where there are %d "
                "(encoding %s): is the table's encoding or format right?"
                % (len(batch), p["b"], p["e"], p["f"], want, enc))
        if "x" in p:
            batch = self.transform(batch, p["x"], p.get("r0", 0), p.get("pc"))
        return batch

    def transform(self, batch, x, r0, pc):
        """The MLTable's transformations after reading, in this order: path
        columns (include_path_column, extract_columns_from_partition_format;
        strings, or datetimes), the sample (take_random_sample, the same
        choice as the engine's), convert_column_types, drop_columns,
        keep_columns."""
        import datetime

        pd = self.pd
        cols = x.get("cols") or []
        if pc is not None:
            for (name, kind), value in zip(cols, pc):
                if kind == "datetime":
                    value = datetime.datetime.fromisoformat(value)
                if pd is not None and isinstance(batch, pd.DataFrame):
                    batch[name] = pd.Series([value] * len(batch), dtype=(
                        "datetime64[ns]" if kind == "datetime" else object),
                        index=batch.index)
                else:
                    for row in batch:
                        row[name] = value
        else:
            for name, kind in cols:
                if kind != "datetime":
                    continue
                if pd is not None and isinstance(batch, pd.DataFrame):
                    batch[name] = pd.to_datetime(batch[name])
                else:
                    for row in batch:
                        row[name] = datetime.datetime.fromisoformat(row[name])
        if "sp" in x:
            prob, seed = x["sp"]
            keep = [sampled(seed, r0 + i, prob) for i in range(len(batch))]
            if pd is not None and isinstance(batch, pd.DataFrame):
                batch = batch[keep].reset_index(drop=True)
            else:
                batch = [r for r, k in zip(batch, keep) if k]
        for conv in x.get("conv") or []:
            batch = self._convert(batch, conv)
        drop, keep_cols = x.get("drop"), x.get("keep")
        if pd is not None and isinstance(batch, pd.DataFrame):
            if drop:
                batch = batch.drop(columns=drop)
            if keep_cols:
                batch = batch[keep_cols]
        else:
            if drop:
                batch = [{k: v for k, v in r.items() if k not in drop}
                         for r in batch]
            if keep_cols:
                batch = [{k: r.get(k) for k in keep_cols} for r in batch]
        return batch

    def _convert(self, batch, conv):
        import datetime

        pd = self.pd
        kind = conv["type"]
        formats = conv.get("formats") or []
        trues = conv.get("true") or ["true", "True", "1", "yes"]
        falses = conv.get("false") or ["false", "False", "0", "no"]

        def one(v):
            if v is None or v == "" or (isinstance(v, float) and v != v):
                return None
            if kind == "int":
                return int(float(v)) if isinstance(v, str) and "." in v \
                    else int(v)
            if kind == "float":
                return float(v)
            if kind == "string":
                return str(v)
            if kind == "boolean":
                s = str(v)
                if s in trues:
                    return True
                if s in falses:
                    return False
                raise ValueError("%r is neither of %s nor of %s"
                                 % (v, trues, falses))
            for f in formats:
                try:
                    return datetime.datetime.strptime(str(v), f)
                except ValueError:
                    pass
            if not formats:
                return datetime.datetime.fromisoformat(str(v))
            raise ValueError("%r matches none of the formats %s" % (v, formats))

        for c in conv["columns"]:
            if pd is not None and isinstance(batch, pd.DataFrame):
                values = [one(v) for v in batch[c]]
                if kind == "int" and None not in values:
                    batch[c] = pd.Series(values, index=batch.index,
                                         dtype="int64")
                elif kind == "int":
                    batch[c] = pd.Series(values, index=batch.index,
                                         dtype="Int64")
                elif kind == "float":
                    batch[c] = pd.Series(values, index=batch.index,
                                         dtype="float64")
                elif kind == "datetime":
                    batch[c] = pd.to_datetime(pd.Series(values,
                                                        index=batch.index))
                elif kind == "boolean":
                    batch[c] = pd.Series(values, index=batch.index, dtype=(
                        "bool" if None not in values else "boolean"))
                else:
                    batch[c] = pd.Series(values, index=batch.index,
                                         dtype=object)
            else:
                for row in batch:
                    row[c] = one(row.get(c))
        return batch

    def _csv(self, text, sep, header, x=None):
        import io

        pd = self.pd
        if pd is not None:
            opts = {}
            x = x or {}
            # Path columns are strings, as Azure types them; so is every
            # column without type inference.
            strings = [n for n, k in x.get("cols") or [] if k == "str"]
            if x.get("infer") is False:
                opts["dtype"] = str
            elif strings:
                opts["dtype"] = {n: str for n in strings}
            if x.get("eas"):
                opts["keep_default_na"] = False
            if header is None:
                df = pd.read_csv(io.StringIO(text), sep=sep, header=None,
                                 **{k: v for k, v in opts.items()
                                    if k != "dtype" or v is str})
                df.columns = ["Column%d" % (i + 1) for i in range(df.shape[1])]
                return df
            return pd.read_csv(io.StringIO(header + text), sep=sep, **opts)
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
