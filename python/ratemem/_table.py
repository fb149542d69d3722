"""Tables of records: a pandas DataFrame when pandas is importable, else a light Table."""
import csv

import numpy

__all__ = ["Table", "make_table", "read_csv", "have_pandas"]


def have_pandas():
    try:
        import pandas  # noqa: F401
    except ImportError:
        return False
    return True


class Table(list):
    """A list of dicts (one per row) that also gives columns: ``table["overlap"]`` is a numpy
    array, ``table.columns`` the column names, ``len(table)`` the row count. ``table[3]`` is row 3."""

    def __init__(self, rows=(), columns=None):
        super().__init__(dict(r) for r in rows)
        if columns is None:
            columns = []
            for r in self:
                columns += [k for k in r if k not in columns]
        self.columns = list(columns)

    def __getitem__(self, key):
        if isinstance(key, str):
            if key not in self.columns:
                raise KeyError(key)
            values = [r.get(key) for r in self]
            try:
                return numpy.array(values)
            except (ValueError, TypeError):
                return numpy.array(values, dtype=object)
        if isinstance(key, slice):
            return Table(super().__getitem__(key), self.columns)
        return super().__getitem__(key)

    def where(self, **equal):
        """The rows whose columns equal the given values: ``t.where(label="retrieved")``."""
        return Table([r for r in self if all(r.get(k) == v for k, v in equal.items())], self.columns)

    def __repr__(self):
        return f"Table({len(self)} rows; columns {', '.join(self.columns)})"


def make_table(rows, columns=None):
    """A DataFrame of ``rows`` (dicts) if pandas is importable, else a Table."""
    rows = list(rows)
    if have_pandas():
        import pandas
        return pandas.DataFrame(rows, columns=columns)
    return Table(rows, columns)


def _number(text):
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            pass
    return text


def _column_type(values):
    """int if every value is an integer, float if every value is a number, else None (mixed)."""
    for kind in (int, float):
        try:
            for v in values:
                kind(v)
            return kind
        except ValueError:
            pass
    return None


def read_csv(path):
    """A CSV file as a DataFrame (pandas) or a Table; a column whose fields are all integers
    (numbers) becomes int (float), other fields stay strings unless numeric."""
    if have_pandas():
        import pandas
        return pandas.read_csv(path)
    with open(path, newline="") as f:
        reader = csv.DictReader(f)
        raw = list(reader)
        columns = list(reader.fieldnames or [])
    kinds = {c: _column_type([r[c] for r in raw]) for c in columns}
    rows = [{c: (kinds[c](r[c]) if kinds[c] else _number(r[c])) for c in columns} for r in raw]
    return Table(rows, columns)
