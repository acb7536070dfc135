"""The annotator queue on SQLite in milliseconds at 100,000 records (runs in the server's environment).

The web UI asks for "my next records" as: response status *pending* for the current user AND record status
*pending*, no text query, no sort. Answered the general way (one NOT EXISTS probe per record, counted and
then sorted) that costs ~290 ms at 100,000 records on an idle 2-core machine. Two observations make it cheap:

- **count** = records of the dataset with that status (an index-only count on `(dataset_id, status)`)
  minus those the user has already answered (a join from the user's own responses, which are few);
- **order**: each user walks the records in rowid (insertion) order from a pivot of their own and wraps
  around. SQLite's index on `(dataset_id, status)` holds the rowid as its last column, so "the next N from
  rowid p" is a range scan that stops after N hits. Users start at different pivots, so annotators of
  an overlapping dataset begin on different records (what Elasticsearch's per-user `random_score` does).

`queue_shape` recognises the request; anything else takes the general path in `sql_engine`.
"""

from __future__ import annotations

from uuid import UUID

from argilla_server.enums import ResponseStatusFilter
from argilla_server.models import Record, Response
from argilla_server.search_engine.base import AndFilter, RecordFilterScope, ResponseFilterScope, TermsFilter
from sqlalchemy import and_, exists, func, literal_column, not_, select


def queue_shape(flt) -> tuple[object, list[str] | None] | None:
    """(user, record statuses or None) when `flt` is the annotator-queue filter, else None."""
    filters = flt.filters if isinstance(flt, AndFilter) else [flt]
    user, statuses = None, None
    for inner in filters:
        if not isinstance(inner, TermsFilter):
            return None
        scope = inner.scope
        values = [str(v) for v in inner.values]
        if (isinstance(scope, ResponseFilterScope) and scope.question is None and str(scope.property) == "status"
                and scope.user is not None and values == [ResponseStatusFilter.pending.value] and user is None):
            user = scope.user
        elif isinstance(scope, RecordFilterScope) and str(scope.property) == "status" and statuses is None:
            statuses = values
        else:
            return None
    return (user, statuses) if user is not None else None


def pivot(lowest: int, highest: int, user_id) -> int:
    """The user's starting rowid: a fixed point of the dataset's rowid range derived from the user id."""
    span = highest - lowest + 1
    return lowest + UUID(str(user_id)).int % span


async def user_pivot(db, dataset_id, user_id) -> int | None:
    """The pivot for this dataset, or None when it has no records. Two single-ended queries: SQLite answers
    MIN and MAX from the index only when each is asked alone."""
    rowid = literal_column("records.rowid")
    lowest = (await db.execute(select(func.min(rowid)).where(Record.dataset_id == dataset_id))).scalar()
    highest = (await db.execute(select(func.max(rowid)).where(Record.dataset_id == dataset_id))).scalar()
    return None if lowest is None else pivot(lowest, highest, user_id)


async def search_queue(db, dataset_id, user, statuses: list[str] | None, offset: int, limit: int):
    """(record ids of the page, total) for the annotator queue."""
    in_dataset = [Record.dataset_id == dataset_id]
    if statuses is not None:
        in_dataset.append(Record.status.in_(statuses))
    candidates = (await db.execute(select(func.count()).select_from(Record).where(*in_dataset))).scalar()
    total = candidates - await _answered(db, user.id, in_dataset, candidates)
    start = await user_pivot(db, dataset_id, user.id)
    if start is None or offset >= total:
        return [], total
    rowid = literal_column("records.rowid")
    unanswered = not_(exists().where(Response.record_id == Record.id, Response.user_id == user.id))
    wanted = offset + limit
    ids = []
    for arm in (rowid >= start, rowid < start):  # from the pivot to the end, then wrap around
        statement = (select(Record.id).where(and_(*in_dataset, unanswered, arm))
                     .order_by(rowid).limit(wanted - len(ids)))
        ids += (await db.execute(statement)).scalars().all()
        if len(ids) >= wanted:
            break
    return ids[offset:wanted], total


async def _answered(db, user_id, in_dataset: list, candidates: int) -> int:
    """How many of the candidate records the user has answered, walking the smaller side: the user's own
    responses (correlated lookups of their records by primary key) or the candidate records (lookups of a
    response by record and user). SQLite's planner picks the records side even for a user with no answers."""
    mine = (await db.execute(select(func.count()).select_from(Response)
                             .where(Response.user_id == user_id))).scalar()
    if mine == 0:
        return 0
    if mine <= candidates:
        own_record = exists().where(Record.id == Response.record_id, *in_dataset)
        statement = select(func.count()).select_from(Response).where(Response.user_id == user_id, own_record)
    else:
        answered = exists().where(Response.record_id == Record.id, Response.user_id == user_id)
        statement = select(func.count()).select_from(Record).where(*in_dataset, answered)
    return (await db.execute(statement)).scalar()


def rotation_order(start: int | None):
    """The same order for the general path: rowids from the pivot on, then those before it."""
    rowid = literal_column("records.rowid")
    if start is None:
        return [rowid]
    return [(rowid < start).asc(), rowid]
