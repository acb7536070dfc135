"""Word search for the embedded engine: SQLite FTS5, relevance-ranked, with Unicode and Arabic folding.

Runs inside the Argilla server's environment (beside `sql_engine.py`, which calls it for text queries on
SQLite). What a user of Argilla's Elasticsearch engine expects, and how it is met here:

- **words, not substrings**: "car" finds "car" and "Car." but not "cars" or "carpet" (Elasticsearch's
  standard analyzer splits on word boundaries too and does not stem);
- **every term must match** (`default_operator: AND` of Argilla's `simple_query_string`), `"a phrase"` in
  quotes, `prefix*`, `-excluded`; other operators are read as plain words;
- **relevance**: FTS5's bm25; the score is returned as the record's `query_score` and, without an explicit
  sort or an annotator's queue order, results come best first;
- **folding at index and query time**: NFKC, Unicode case folding ("CAFÉ" finds "Café"), Latin diacritics
  removed by the `unicode61 remove_diacritics 2` tokenizer ("cafe" finds "café", which the standard analyzer
  would not), and Arabic normalisation (`alignlab/data/arabic.py`: alef forms, alef maqsura, taa marbuta,
  diacritics, tatweel, Arabic-Indic digits), so "مدرسه" finds "مدرسة" and "ازيك" finds "إزيك".

The index (`alignlab_fts`: one row per text field of a record, plus a `*` row with all of them) is brought
up to date before each text search from the records whose `updated_at` changed (`alignlab_fts_state`), so
it never drifts from the records table and needs no write hooks; deleted records drop out by the join.

The normaliser is loaded by file path: the server's environment has no alignlab package, and importing it
would pull in alignlab's dependencies. `arabic.py` is pure standard library.
"""

from __future__ import annotations

import importlib.util
import json
import re
from pathlib import Path

from sqlalchemy import Float, String, column, func, literal_column, select, table, text

FTS_TABLE = "alignlab_fts"
STATE_TABLE = "alignlab_fts_state"
ALL_FIELDS = "*"
DDL = (
    f"CREATE VIRTUAL TABLE IF NOT EXISTS {FTS_TABLE} USING fts5(body, record_id UNINDEXED, field UNINDEXED, "
    "tokenize = 'unicode61 remove_diacritics 2')",
    f"CREATE TABLE IF NOT EXISTS {STATE_TABLE} (record_id TEXT PRIMARY KEY, dataset_id TEXT NOT NULL, "
    "updated_at TEXT)",
    f"CREATE INDEX IF NOT EXISTS ix_{STATE_TABLE}_dataset ON {STATE_TABLE} (dataset_id)",
)
_WORD = re.compile(r"\w+")
_TOKEN = re.compile(r'-?"[^"]*"?|\S+')
_BATCH = 400  # SQLite bound-parameter budget per statement, with room to spare


def _load_fold():
    path = Path(__file__).resolve().parents[3] / "data" / "arabic.py"
    spec = importlib.util.spec_from_file_location("alignlab_arabic_fold", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.fold


fold = _load_fold()


def match_expression(query: str) -> str | None:
    """An FTS5 MATCH expression for a `simple_query_string`-style query; None when it has no words."""
    positive, negative = [], []
    for token in _TOKEN.findall(query):
        excluded = token.startswith("-") and len(token) > 1
        token = token[1:] if excluded or token.startswith("+") else token
        prefix = token.endswith("*") and not token.startswith('"')
        words = _WORD.findall(fold(token))
        if not words:
            continue
        phrase = '"' + " ".join(words) + '"' + (" *" if prefix else "")  # words only: no FTS5 syntax gets in
        (negative if excluded else positive).append(phrase)
    if not positive:
        return None
    return " AND ".join(positive) + "".join(f" NOT {phrase}" for phrase in negative)


def _text_of(value) -> str:
    """A field value as plain text: strings as they are, chat messages and custom fields by their strings."""
    if isinstance(value, str):
        return value
    if isinstance(value, dict):
        return " ".join(_text_of(v) for v in value.values())
    if isinstance(value, list):
        return " ".join(_text_of(v) for v in value)
    return ""


async def ensure_tables(db) -> None:
    for statement in DDL:
        await db.execute(text(statement))


async def sync(db, dataset_hex: str, text_fields: tuple[str, ...]) -> int:
    """Re-index the dataset's records added or changed since the last search; return how many."""
    await ensure_tables(db)
    stale = (await db.execute(text(
        f"SELECT r.id, r.fields, r.updated_at FROM records r LEFT JOIN {STATE_TABLE} s ON s.record_id = r.id "
        "WHERE r.dataset_id = :dataset AND (s.record_id IS NULL OR s.updated_at IS NOT r.updated_at)"),
        {"dataset": dataset_hex})).all()
    gone = (await db.execute(text(
        f"SELECT s.record_id FROM {STATE_TABLE} s WHERE s.dataset_id = :dataset "
        "AND NOT EXISTS (SELECT 1 FROM records r WHERE r.id = s.record_id)"), {"dataset": dataset_hex})).all()
    dropped = [row[0] for row in stale] + [row[0] for row in gone]
    for start in range(0, len(dropped), _BATCH):
        ids = dropped[start:start + _BATCH]
        marks = ",".join(f":i{n}" for n in range(len(ids)))
        params = {f"i{n}": value for n, value in enumerate(ids)}
        await db.execute(text(f"DELETE FROM {FTS_TABLE} WHERE record_id IN ({marks})"), params)
        await db.execute(text(f"DELETE FROM {STATE_TABLE} WHERE record_id IN ({marks})"), params)
    rows, states = [], []
    for record_id, fields, updated_at in stale:
        values = json.loads(fields) if isinstance(fields, str) else (fields or {})
        texts = {name: fold(_text_of(values.get(name))) for name in text_fields if values.get(name) is not None}
        rows += [{"body": body, "record_id": record_id, "field": name} for name, body in texts.items()]
        rows.append({"body": "\n".join(texts.values()), "record_id": record_id, "field": ALL_FIELDS})
        states.append({"record_id": record_id, "dataset_id": dataset_hex, "updated_at": updated_at})
    if rows:
        await db.execute(text(f"INSERT INTO {FTS_TABLE} (body, record_id, field) VALUES (:body, :record_id, :field)"),
                         rows)
        await db.execute(text(f"INSERT OR REPLACE INTO {STATE_TABLE} (record_id, dataset_id, updated_at) "
                              "VALUES (:record_id, :dataset_id, :updated_at)"), states)
    await db.commit()
    return len(stale)


def matches(expression: str, field: str | None):
    """A CTE (record_id, score) of the records matching `expression` in `field` (None: any text field);
    score = -bm25, higher is better. Materialized: FTS5 computes bm25 only in a plain scan of its table."""
    fts = table(FTS_TABLE, column("body"), column("record_id", String), column("field", String))
    bm25 = func.bm25(literal_column(FTS_TABLE), type_=Float)
    inner = (select(fts.c.record_id.label("record_id"), (-bm25).label("score"))
             .where(literal_column(FTS_TABLE).op("MATCH")(expression), fts.c.field == (field or ALL_FIELDS)))
    hits = inner.cte("alignlab_hits").prefix_with("MATERIALIZED")
    return (select(hits.c.record_id, func.max(hits.c.score).label("score"))
            .group_by(hits.c.record_id).subquery("alignlab_matches"))
