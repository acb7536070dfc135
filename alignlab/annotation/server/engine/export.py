"""A bulk read of answered records for `alignlab annotate pull` (runs in the server's environment, SQLite only).

    GET /api/v1/alignlab/datasets/{dataset_id}/answered?after=<cursor>&limit=<n>
    -> {"items": [{"id", "external_id", "fields", "metadata", "responses": [{"user_id", "status", "values"}]}],
        "next": <cursor of the next page, or null>}

The standard way (records search with `include=responses`) builds ORM objects and pydantic models for every
record and response, about 0.7 ms per record: ~1,300 records/s at best on two cores. This endpoint reads the
same rows with two SQL statements and passes the stored JSON through untouched, with keyset pagination on
SQLite's rowid (no offset scan, no count). It has the records search's access rule (owners, and admins of
the dataset's workspace) and reads only submitted and discarded responses, as the pull does. Servers
without it (any other Argilla deployment) answer 404, and the pull falls back to the records search.
"""

# No `from __future__ import annotations`: FastAPI resolves the route's annotations at definition time, and
# they name objects imported inside `install`.
import json
from uuid import UUID

ANSWERED = ("submitted", "discarded")
MAX_LIMIT = 5000


def _uuid(value) -> str:
    return str(value if isinstance(value, UUID) else UUID(str(value)))


def _page_body(records: list, responses: list, limit: int) -> str:
    """The JSON answer, assembled around the stored JSON texts (fields, metadata, values) without parsing."""
    by_record: dict[str, list[str]] = {}
    for record_id, user_id, status, values in responses:
        by_record.setdefault(str(record_id), []).append(
            f'{{"user_id":"{_uuid(user_id)}","status":{json.dumps(status)},"values":{values or "{}"}}}')
    items = []
    for _rowid, record_id, external_id, fields, metadata in records:
        items.append(f'{{"id":"{_uuid(record_id)}","external_id":{json.dumps(external_id)},'
                     f'"fields":{fields or "{}"},"metadata":{metadata or "null"},'
                     f'"responses":[{",".join(by_record.get(str(record_id), []))}]}}')
    cursor = records[-1][0] if len(records) == limit else None
    return f'{{"items":[{",".join(items)}],"next":{json.dumps(cursor)}}}'


def install() -> None:
    """Add the route to the server's API app (before uvicorn starts serving it)."""
    from argilla_server.api.policies.v1 import DatasetPolicy, authorize
    from argilla_server.api.routes import api_v1
    from argilla_server.database import get_async_db
    from argilla_server.models import Dataset, User
    from argilla_server.security import auth
    from argilla_server.settings import settings
    from fastapi import Depends, Query, Response, Security
    from sqlalchemy import bindparam, text
    from sqlalchemy.ext.asyncio import AsyncSession

    if not settings.database_is_sqlite:
        return
    records_sql = text(
        "SELECT rowid, id, external_id, fields, metadata FROM records WHERE dataset_id = :dataset AND rowid > :after "
        "AND EXISTS (SELECT 1 FROM responses WHERE responses.record_id = records.id "
        "AND responses.status IN ('submitted', 'discarded')) ORDER BY rowid LIMIT :limit")
    responses_sql = text(
        'SELECT record_id, user_id, status, "values" FROM responses WHERE record_id IN :ids '
        "AND status IN ('submitted', 'discarded') ORDER BY inserted_at").bindparams(bindparam("ids", expanding=True))

    @api_v1.get("/alignlab/datasets/{dataset_id}/answered", include_in_schema=False)
    async def answered(dataset_id: UUID, after: int = Query(0, ge=0), limit: int = Query(1000, ge=1, le=MAX_LIMIT),
                       db: AsyncSession = Depends(get_async_db),
                       current_user: User = Security(auth.get_current_user)) -> Response:
        dataset = await Dataset.get_or_raise(db, dataset_id)
        await authorize(current_user, DatasetPolicy.search_records_with_all_responses(dataset))
        # SQLite stores UUIDs as 32 hex digits (SQLAlchemy's Uuid type there).
        records = (await db.execute(records_sql, {"dataset": dataset.id.hex, "after": after, "limit": limit})).all()
        ids = [row[1] for row in records]
        responses = (await db.execute(responses_sql, {"ids": ids})).all() if ids else []
        return Response(_page_body(records, responses, limit), media_type="application/json")
