"""Dataset mixtures: several sources, each with its split, columns and the fraction of it to use.

A mixture is a small YAML file, used wherever a data path goes (`data.path`, `alignlab data validate`, ...):

    mixture:
      seed: 0                          # which rows a fraction < 1 keeps (stable across runs)
      sources:
        - {path: preference_data/hh_rlhf_harmless/train.jsonl, fraction: 0.5}
        - {path: HuggingFaceH4/ultrafeedback_binarized, split: train_prefs, fraction: 1.0,
           columns: [chosen, rejected]}

Each source is read like any data path (JSONL, CSV, Parquet, a saved `datasets` folder or a hub name with
`split`); `columns` keeps only those fields; `fraction` keeps that share of its rows, drawn with `seed`
(in file order). Rows are numbered 1..N over the whole mixture, in source order; an error names the
mixture file, the source and the row. This is the alignment-handbook `dataset_mixture` (`weight` there is
our `fraction`), which `alignlab config import-trl` converts.
"""

from __future__ import annotations

import os
import random
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from alignlab.errors import DataError

MIXTURE_SUFFIXES = (".yaml", ".yml")


def is_mixture(path: str | os.PathLike) -> bool:
    return str(path).lower().endswith(MIXTURE_SUFFIXES)


def read_mixture(path: str | os.PathLike) -> dict[str, Any]:
    """The mixture spec, checked: one line naming the file and the field for anything wrong."""
    import yaml

    try:
        data = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as err:
        raise DataError(f"{path}: cannot read the mixture file ({str(err).splitlines()[0]})") from None
    spec = data.get("mixture") if isinstance(data, dict) else None
    if not isinstance(spec, dict) or not isinstance(spec.get("sources"), list) or not spec["sources"]:
        raise DataError(f"{path}: a mixture file holds `mixture: {{sources: [{{path: ..., fraction: 1.0}}]}}`")
    for index, source in enumerate(spec["sources"]):
        where = f"{path}: mixture.sources[{index}]"
        if not isinstance(source, dict) or not isinstance(source.get("path"), str):
            raise DataError(f"{where}: needs a path (a data file, datasets folder or hub name)")
        unknown = set(source) - {"path", "split", "fraction", "columns", "name"}
        if unknown:
            raise DataError(f"{where}: unknown key {sorted(unknown)[0]!r} (valid: path, split, fraction, columns)")
        fraction = source.get("fraction", 1.0)
        if not isinstance(fraction, int | float) or not 0 < fraction <= 1:
            raise DataError(f"{where}.fraction: {fraction!r}; use a share in (0, 1]")
    return spec


RowReader = Callable[..., Iterator[tuple[int, Any]]]


def iter_mixture(path: str | os.PathLike, iter_rows: RowReader) -> Iterator[tuple[int, Any]]:
    """`(row number, row)` over every source of the mixture, each cut to its columns and fraction; each source is
    read with `iter_rows` (`alignlab.data.io.iter_rows`, passed in: a source may be any readable file)."""
    spec = read_mixture(path)
    rng = random.Random(int(spec.get("seed", 0)))
    number = 0
    base = Path(path).parent
    for source in spec["sources"]:
        where = source["path"]
        local = base / where
        rows = [row for _line, row in iter_rows(local if local.exists() else where, split=source.get("split"))]
        keep = round(len(rows) * float(source.get("fraction", 1.0)))
        chosen = sorted(rng.sample(range(len(rows)), keep)) if keep < len(rows) else range(len(rows))
        columns = source.get("columns")
        for index in chosen:
            row = rows[index]
            if columns and isinstance(row, dict):
                missing = [c for c in columns if c not in row]
                if missing:
                    raise DataError(f"{path}: source {where} row {index + 1}: no column {missing[0]!r}; "
                                    f"its columns are {', '.join(sorted(row))}")
                row = {c: row[c] for c in columns}
            number += 1
            yield number, row
