"""alignlab's embedded search engine for the Argilla 2.8 server: every answer comes from the server's SQL tables.

Argilla keeps datasets, records, responses and suggestions in its SQL database and mirrors them into
Elasticsearch or OpenSearch only to answer searches: the annotator queue, filters, sorting, progress and
metadata metrics. Neither can be installed on our machines, so this engine answers the same questions with
SQL over the tables that already hold the data. Nothing is mirrored, so nothing can drift out of sync: the
write hooks (`index_records`, `update_record_response`, ...) are no-ops and a search sees every committed row.

This module runs **inside the server's virtual environment** (imported by `boot.py` before the server starts);
it imports only what that environment has (argilla_server, sqlalchemy) and nothing from alignlab.

Semantics follow `argilla_server.search_engine.commons` (the Elasticsearch engine):
- text queries: word search with relevance ranking on SQLite (`text_search.py`: FTS5, bm25 returned as
  `query_score`, Unicode case folding and Arabic normalisation); every term must match. On PostgreSQL, and
  for the text filter of a similarity search, every term must occur as a substring, case-insensitively,
  with no score;
- a user's queue ("pending" response status) is the records without a response from that user;
- with a user and no explicit sort, each user walks the records in insertion order from a starting point
  of their own and wraps around, stable across requests (Elasticsearch uses `random_score` seeded by the
  user id for the same purpose: annotators with overlapping queues start on different records); the
  annotator queue itself takes the fast path of `fast_queue.py`;
- terms filters on JSON values match any element of a list (metadata terms, multi-label answers).
Vector similarity is answered by brute force; it is not part of alignlab's templates.
"""

from __future__ import annotations

import datetime as dt
import json
import math
from typing import Any
from uuid import UUID

import fast_queue  # beside this file: boot.py puts this folder on sys.path
import text_search
from argilla_server.database import AsyncSessionLocal
from argilla_server.enums import MetadataPropertyType, ResponseStatusFilter, SimilarityOrder
from argilla_server.models import (
    Dataset,
    Field,
    MetadataProperty,
    Question,
    Record,
    Response,
    Suggestion,
    User,
    Vector,
)
from argilla_server.search_engine.base import (
    AndFilter,
    FloatMetadataMetrics,
    IntegerMetadataMetrics,
    MetadataFilterScope,
    RangeFilter,
    RecordFilterScope,
    ResponseFilterScope,
    SearchEngine,
    SearchResponseItem,
    SearchResponses,
    SuggestionFilterScope,
    TermsFilter,
    TermsMetrics,
    TextQuery,
)
from sqlalchemy import Float, String, and_, cast, exists, func, literal, literal_column, not_, or_, select, text

ENGINE_NAME = "alignlab-sql"
ENGINE_VERSION = "1"

# Indexes the queue, progress and pull queries need; the server's own schema indexes single columns only.
# Created by `boot.py prepare` on every `annotate up` and again when a dataset is published.
INDEXES = (
    "CREATE INDEX IF NOT EXISTS ix_alignlab_records_dataset_status ON records (dataset_id, status)",
    "CREATE INDEX IF NOT EXISTS ix_alignlab_responses_user_status ON responses (user_id, status)",
    "CREATE INDEX IF NOT EXISTS ix_alignlab_responses_record_status ON responses (record_id, status)",
)


def _json_path(*keys: str) -> str:
    return "$" + "".join('."' + key.replace('"', '""') + '"' for key in keys)


class _Query:
    """Builds SQL conditions and orderings for one search on one dataset (dialect-aware)."""

    def __init__(self, dataset_id: UUID | None, dialect: str, text_fields: tuple[str, ...] = (),
                 numeric_metadata: frozenset[str] = frozenset()):
        self.dataset_id = dataset_id
        self.sqlite = dialect == "sqlite"
        self.text_fields = text_fields
        self.numeric_metadata = numeric_metadata

    @classmethod
    async def for_dataset(cls, db, dataset: Dataset) -> _Query:
        """Read the dataset's field and metadata names with our own session: the ORM object the server passes
        in may not have them loaded, and lazy loading is not allowed in async code."""
        fields = (await db.execute(select(Field.name, Field.settings).where(Field.dataset_id == dataset.id))).all()
        numeric = (await db.execute(select(MetadataProperty.name, MetadataProperty.settings)
                                    .where(MetadataProperty.dataset_id == dataset.id))).all()
        return cls(dataset.id, db.bind.dialect.name,
                   tuple(name for name, settings in fields if (settings or {}).get("type") != "image"),
                   frozenset(name for name, settings in numeric
                             if (settings or {}).get("type") in (MetadataPropertyType.integer.value,
                                                                 MetadataPropertyType.float.value)))

    def json_terms(self, column, keys: tuple[str, ...], values: list[str]):
        """True when the JSON value at `keys` (a scalar, or any element of a list) is one of `values`."""
        values = [str(value) for value in values]
        if not self.sqlite:
            target = column[keys[0]] if len(keys) == 1 else column[keys]
            return target.as_string().in_(values)
        # No subquery (json_each): SQLite evaluates subquery terms last, and a plain expression lets the
        # cheap metadata test run before the expensive ones. A list comes back from json_extract as its JSON
        # text, where an element is its quoted string.
        text_value = cast(func.json_extract(column, _json_path(*keys)), String)
        in_list = and_(func.substr(text_value, 1, 1) == "[",
                       or_(*[func.instr(text_value, json.dumps(v, ensure_ascii=False)) > 0 for v in values]))
        return or_(text_value.in_(values), in_list)

    def json_number(self, column, keys: tuple[str, ...]):
        if self.sqlite:
            return cast(func.json_extract(column, _json_path(*keys)), Float)
        target = column[keys[0]] if len(keys) == 1 else column[keys]
        return target.as_float()

    @staticmethod
    def in_range(expression, flt: RangeFilter):
        conditions = []
        if flt.ge is not None:
            conditions.append(expression >= _coerce(flt.ge))
        if flt.le is not None:
            conditions.append(expression <= _coerce(flt.le))
        return and_(*conditions)

    def question_id(self, name: str):
        return (select(Question.id)
                .where(Question.dataset_id == self.dataset_id, Question.name == name)
                .scalar_subquery())

    def condition(self, flt):
        """The SQL condition for one filter of the server's filter tree."""
        if isinstance(flt, AndFilter):
            return and_(*[self.condition(inner) for inner in flt.filters])
        scope = flt.scope
        if isinstance(scope, RecordFilterScope):
            return self._record_condition(scope.property, flt)
        if isinstance(scope, MetadataFilterScope):
            if isinstance(flt, TermsFilter):
                return self.json_terms(Record.metadata_, (scope.metadata_property,), flt.values)
            return self.in_range(self.json_number(Record.metadata_, (scope.metadata_property,)), flt)
        if isinstance(scope, SuggestionFilterScope):
            return self._suggestion_condition(scope, flt)
        if isinstance(scope, ResponseFilterScope):
            return self._response_condition(scope, flt)
        raise ValueError(f"cannot process filter scope {scope!r}")

    @staticmethod
    def _record_condition(prop: str, flt):
        column = getattr(Record, str(prop))
        if isinstance(flt, TermsFilter):
            values = [UUID(str(v)) for v in flt.values] if str(prop) == "id" else [str(v) for v in flt.values]
            return column.in_(values)
        return _Query.in_range(column, flt)

    def _suggestion_condition(self, scope: SuggestionFilterScope, flt):
        prop = str(scope.property)
        if prop == "value":
            match = (self.json_terms(Suggestion.value, (), flt.values) if isinstance(flt, TermsFilter)
                     else self.in_range(self._root_number(Suggestion.value), flt))
        elif prop == "score":
            match = (self.json_terms(Suggestion.score, (), flt.values) if isinstance(flt, TermsFilter)
                     else self.in_range(self._root_number(Suggestion.score), flt))
        elif isinstance(flt, TermsFilter):  # agent, type
            match = cast(getattr(Suggestion, prop), String).in_([str(v) for v in flt.values])
        else:
            raise ValueError(f"cannot range-filter suggestion property {prop!r}")
        return exists().where(Suggestion.record_id == Record.id,
                              Suggestion.question_id == self.question_id(scope.question), match)

    def _root_number(self, column):
        if self.sqlite:
            return cast(func.json_extract(column, "$"), Float)
        return cast(cast(column, String), Float)

    def _response_condition(self, scope: ResponseFilterScope, flt):
        own = [Response.record_id == Record.id]
        if scope.user is not None:
            own.append(Response.user_id == scope.user.id)
        if scope.question:
            keys = (scope.question, "value")
            match = (self.json_terms(Response.values, keys, flt.values) if isinstance(flt, TermsFilter)
                     else self.in_range(self.json_number(Response.values, keys), flt))
            return exists().where(*own, match)
        if str(scope.property) != "status" or not isinstance(flt, TermsFilter):
            raise ValueError(f"cannot process response filter {flt!r}")
        statuses = [str(v) for v in flt.values]
        parts = []
        if ResponseStatusFilter.pending.value in statuses:
            parts.append(not_(exists().where(*own)))
        answered = [s for s in statuses if s != ResponseStatusFilter.pending.value]
        if answered:
            parts.append(exists().where(*own, Response.status.in_(answered)))
        return or_(*parts)

    def text_condition(self, query: TextQuery | str | None):
        if query is None:
            return None
        if isinstance(query, str):
            query = TextQuery(q=query)
        names = [query.field] if query.field else list(self.text_fields)
        targets = [cast(func.json_extract(Record.fields, _json_path(n)), String) if self.sqlite
                   else Record.fields[n].as_string() for n in names]
        terms = [term for term in str(query.q).split() if term not in ("+", "|", "-")]
        if not terms or not targets:
            return None
        per_term = [or_(*[t.ilike(f"%{_escape_like(term)}%", escape="\\") for t in targets]) for term in terms]
        return and_(*per_term)

    def order(self, order) -> Any:
        scope = order.scope
        if isinstance(scope, RecordFilterScope) and str(scope.property) == "inserted_at" and self.sqlite:
            # SQLite's rowid counts insertions, so it orders like inserted_at, strictly (no ties) and from
            # the index alone: a page costs its offset, not a sort of the whole dataset.
            expression = literal_column("records.rowid")
        elif isinstance(scope, RecordFilterScope):
            expression = getattr(Record, str(scope.property))
        elif isinstance(scope, MetadataFilterScope):
            expression = self._metadata_sort_key(scope.metadata_property)
        elif isinstance(scope, SuggestionFilterScope):
            column = Suggestion.score if str(scope.property) == "score" else Suggestion.value
            expression = (select(self._root_number(column))
                          .where(Suggestion.record_id == Record.id,
                                 Suggestion.question_id == self.question_id(scope.question))
                          .scalar_subquery())
        elif isinstance(scope, ResponseFilterScope):
            expression = self._response_sort_key(scope)
        else:
            raise ValueError(f"cannot sort by scope {scope!r}")
        return expression.desc() if str(order.order) == "desc" else expression.asc()

    def _metadata_sort_key(self, name: str):
        if name in self.numeric_metadata:
            return self.json_number(Record.metadata_, (name,))
        if self.sqlite:
            return cast(func.json_extract(Record.metadata_, _json_path(name)), String)
        return Record.metadata_[name].as_string()

    def _response_sort_key(self, scope: ResponseFilterScope):
        own = [Response.record_id == Record.id]
        if scope.user is not None:
            own.append(Response.user_id == scope.user.id)
        if scope.question:
            value = func.avg(self.json_number(Response.values, (scope.question, "value")))
        else:
            value = func.max(cast(Response.status, String))
        return select(value).where(*own).scalar_subquery()

    def shuffle_key(self, user_id: Any):
        """A stable per-user order where there is no rowid (PostgreSQL): a hash of record id and user."""
        return func.md5(cast(Record.id, String) + literal(str(UUID(str(user_id)).int % 4294967291)))


def _escape_like(term: str) -> str:
    return term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _coerce(value: Any) -> Any:
    """Range bounds arrive as floats or strings (ISO dates for inserted_at/updated_at)."""
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            return dt.datetime.fromisoformat(value.replace("Z", "+00:00")).replace(tzinfo=None)
    return value


@SearchEngine.register(engine_name=ENGINE_NAME)
class SQLSearchEngine(SearchEngine):
    """Answers the server's search-engine interface from its SQL database (see the module docstring)."""

    @classmethod
    async def new_instance(cls) -> SQLSearchEngine:
        return cls()

    async def close(self) -> None:
        return None

    async def ping(self) -> bool:
        async with AsyncSessionLocal() as db:
            return (await db.execute(select(literal(1)))).scalar() == 1

    async def info(self) -> dict:
        async with AsyncSessionLocal() as db:
            dialect = db.bind.dialect.name
        return {"engine": ENGINE_NAME, "version": ENGINE_VERSION, "database": dialect}

    # --- index maintenance: the SQL tables are the index, so writes need no mirroring -----------------------

    async def create_index(self, dataset: Dataset) -> None:
        async with AsyncSessionLocal() as db:
            for statement in INDEXES:
                await db.execute(text(statement))
            await db.commit()

    async def delete_index(self, dataset: Dataset) -> None:
        return None

    async def configure_metadata_property(self, dataset: Dataset, metadata_property: MetadataProperty) -> None:
        return None

    async def configure_index_vectors(self, vector_settings) -> None:
        return None

    async def index_records(self, dataset: Dataset, records) -> None:
        return None

    async def partial_record_update(self, record: Record, **update) -> None:
        return None

    async def delete_records(self, dataset: Dataset, records) -> None:
        return None

    async def update_record_response(self, response: Response) -> None:
        return None

    async def delete_record_response(self, response: Response) -> None:
        return None

    async def update_record_suggestion(self, suggestion: Suggestion) -> None:
        return None

    async def delete_record_suggestion(self, suggestion: Suggestion) -> None:
        return None

    # --- questions the UI and API ask ---------------------------------------------------------------------

    async def get_dataset_progress(self, dataset: Dataset) -> dict:
        if dataset.is_draft:
            return {}
        statement = (select(Record.status, func.count()).where(Record.dataset_id == dataset.id)
                     .group_by(Record.status))
        async with AsyncSessionLocal() as db:
            counts = {str(status): count for status, count in (await db.execute(statement)).all()}
        return {"total": sum(counts.values()), **counts}

    async def get_dataset_user_progress(self, dataset: Dataset, user: User) -> dict:
        if dataset.is_draft:
            return {}
        statement = (select(Response.status, func.count())
                     .join(Record, Record.id == Response.record_id)
                     .where(Record.dataset_id == dataset.id, Response.user_id == user.id)
                     .group_by(Response.status))
        async with AsyncSessionLocal() as db:
            counts = {str(status): count for status, count in (await db.execute(statement)).all()}
        return {"total": sum(counts.values()), **counts}

    async def search(self, dataset: Dataset, query=None, filter=None, sort=None, offset: int = 0,
                     limit: int = 100, user_id=None) -> SearchResponses:
        async with AsyncSessionLocal() as db:
            sqlite = db.bind.dialect.name == "sqlite"
            shape = fast_queue.queue_shape(filter) if filter is not None and sqlite and not (query or sort) else None
            if shape is not None:
                ids, total = await fast_queue.search_queue(db, dataset.id, *shape, offset, limit)
                scored = [(record_id, None) for record_id in ids]
            else:
                scored, total = await self._general_search(db, dataset, query, filter, sort, offset, limit,
                                                           user_id)
        items = [SearchResponseItem(record_id=record_id, score=score) for record_id, score in scored]
        return SearchResponses(items=items, total=total)

    @staticmethod
    async def _word_matches(db, dataset, builder: _Query, query):
        """(CTE of matching record ids with scores, or None) for a text query on SQLite; False: no words."""
        query = TextQuery(q=query) if isinstance(query, str) else query
        await text_search.sync(db, dataset.id.hex, builder.text_fields)
        expression = text_search.match_expression(str(query.q))
        return False if expression is None else text_search.matches(expression, query.field)

    @staticmethod
    async def _general_search(db, dataset, query, filter, sort, offset, limit, user_id):
        """([(record id, score)], total) for any search the queue's fast path does not answer."""
        builder = await _Query.for_dataset(db, dataset)
        hits = await SQLSearchEngine._word_matches(db, dataset, builder, query) if query and builder.sqlite else None
        if hits is False:
            return [], 0
        conditions = [Record.dataset_id == dataset.id]
        # SQLite tests the conditions in this order: filters (small JSON, index probes) before text
        # (parsing every record's fields), so that few records reach the expensive test.
        for extra in (builder.condition(filter) if filter else None,
                      builder.text_condition(query) if hits is None else None):
            if extra is not None:
                conditions.append(extra)
        score = hits.c.score if hits is not None else literal(None)
        base = select(Record.id, score)
        counting = select(func.count()).select_from(Record)
        if hits is not None:
            base = base.join(hits, hits.c.record_id == Record.id)
            counting = counting.join(hits, hits.c.record_id == Record.id)
        total = (await db.execute(counting.where(*conditions))).scalar()
        if sort:
            ordering = [builder.order(order) for order in sort]
        elif user_id is not None and builder.sqlite:
            ordering = fast_queue.rotation_order(await fast_queue.user_pivot(db, dataset.id, user_id))
        elif user_id is not None:
            ordering = [builder.shuffle_key(user_id)]
        elif hits is not None:
            ordering = [hits.c.score.desc()]  # most relevant first, as Elasticsearch answers
        else:
            ordering = [literal_column("records.rowid") if builder.sqlite else Record.inserted_at.asc()]
        # The id breaks ties, so that offset pages never repeat or skip a record.
        ordering.append(Record.id.asc())
        statement = base.where(*conditions).order_by(*ordering).offset(offset).limit(limit)
        return [(row[0], row[1]) for row in (await db.execute(statement)).all()], total

    async def compute_metrics_for(self, metadata_property: MetadataProperty):
        async with AsyncSessionLocal() as db:
            sqlite = db.bind.dialect.name == "sqlite"
            in_dataset = Record.dataset_id == metadata_property.dataset_id
            if metadata_property.type == MetadataPropertyType.terms:
                return await self._terms_metrics(db, metadata_property.name, in_dataset, sqlite)
            builder = _Query(None, db.bind.dialect.name)
            value = builder.json_number(Record.metadata_, (metadata_property.name,))
            low, high = (await db.execute(select(func.min(value), func.max(value)).where(in_dataset))).one()
        if metadata_property.type == MetadataPropertyType.integer:
            return IntegerMetadataMetrics(min=None if low is None else int(low),
                                          max=None if high is None else int(high))
        return FloatMetadataMetrics(min=low, max=high)

    @staticmethod
    async def _terms_metrics(db, name: str, in_dataset, sqlite: bool) -> TermsMetrics:
        if sqlite:
            each = func.json_each(Record.metadata_, _json_path(name)).table_valued("value").alias("je")
            term = cast(each.c.value, String)
            statement = select(term, func.count()).select_from(Record).join(each, literal(True)).where(in_dataset)
        else:
            term = Record.metadata_[name].as_string()
            statement = select(term, func.count()).where(in_dataset, term.is_not(None))
        rows = (await db.execute(statement.group_by(term).order_by(func.count().desc(), term))).all()
        values = [TermsMetrics.TermCount(term=str(t), count=c) for t, c in rows if t is not None]
        return TermsMetrics(total=sum(v.count for v in values), values=values)

    async def similarity_search(self, dataset: Dataset, vector_settings, value=None, record=None, query=None,
                                filter=None, max_results: int = 100,
                                order: SimilarityOrder = SimilarityOrder.most_similar,
                                threshold: float | None = None) -> SearchResponses:
        if bool(value) == bool(record):
            raise ValueError("Must provide either vector value or record to compute the similarity search")
        target = value or record.vector_value_by_vector_settings(vector_settings)
        if not target:
            raise ValueError("Cannot find a vector value to apply with provided info")
        async with AsyncSessionLocal() as db:
            builder = await _Query.for_dataset(db, dataset)
            conditions = [Vector.vector_settings_id == vector_settings.id, Record.dataset_id == dataset.id]
            for extra in (builder.text_condition(query), builder.condition(filter) if filter else None):
                if extra is not None:
                    conditions.append(extra)
            if record is not None:
                conditions.append(Record.id != record.id)
            rows = (await db.execute(select(Vector.record_id, Vector.value)
                                     .join(Record, Record.id == Vector.record_id).where(*conditions))).all()
        scored = [(record_id, _cosine(target, vector)) for record_id, vector in rows]
        scored.sort(key=lambda item: item[1], reverse=order == SimilarityOrder.most_similar)
        if threshold is not None:
            scored = [item for item in scored if item[1] >= threshold]
        items = [SearchResponseItem(record_id=rid, score=score) for rid, score in scored[:max_results]]
        return SearchResponses(items=items, total=len(items))


def _cosine(a: list[float], b: list[float]) -> float:
    dot = sum(x * y for x, y in zip(a, b, strict=False))
    norm = math.sqrt(sum(x * x for x in a)) * math.sqrt(sum(y * y for y in b))
    return dot / norm if norm else 0.0
