"""Entry point of the Argilla server processes: register alignlab's search engine, then run the server's CLI.

    <server venv>/bin/python boot.py start --host 127.0.0.1 --port 6900 --no-access-log
    <server venv>/bin/python boot.py worker --num-workers 1
    <server venv>/bin/python boot.py prepare     # migrate the database, create the owner from ALIGNLAB_OWNER_*

Before the server's own CLI runs, `speedups.install()` removes needless work from hot paths and
`export.install()` adds the bulk read the pull uses (`export.py`).

Runs inside the server's virtual environment. `uvicorn.run("argilla_server:app")` serves from this same
process and rq's worker pool forks it, so the registration below is seen by every request and job.

`prepare` exists because `database users create` takes the password and API key as command-line arguments
(visible to every local user in the process list) and prints the key; here they come from the environment
and nothing secret is printed. Doing the migration in the same process saves one server start-up (~6 s).
"""

import asyncio
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import export  # noqa: E402
import speedups  # noqa: E402
import sql_engine  # noqa: E402  (registers the engine named sql_engine.ENGINE_NAME)


async def ensure_owner() -> str:
    """Create the owner account from ALIGNLAB_OWNER_{USERNAME,PASSWORD,API_KEY} unless it exists."""
    from argilla_server.contexts import accounts
    from argilla_server.database import AsyncSessionLocal
    from argilla_server.models import User, UserRole

    username = os.environ["ALIGNLAB_OWNER_USERNAME"]
    async with AsyncSessionLocal() as session:
        if await accounts.get_user_by_username(session, username):
            return "exists"
        await User.create(
            session,
            first_name=username,
            username=username,
            role=UserRole.owner,
            password_hash=accounts.hash_password(os.environ["ALIGNLAB_OWNER_PASSWORD"]),
            api_key=os.environ["ALIGNLAB_OWNER_API_KEY"],
        )
        return "created"


def tune_database() -> None:
    """The embedded engine's indexes, and SQLite in WAL mode so that the annotator queue reads while a bulk
    upsert writes (the mode is stored in the database file)."""
    from argilla_server.database import database_url_sync
    from argilla_server.settings import settings
    from sqlalchemy import create_engine, text

    engine = create_engine(database_url_sync())
    with engine.begin() as connection:
        if settings.database_is_sqlite:
            connection.execute(text("PRAGMA journal_mode=WAL"))
        for statement in sql_engine.INDEXES:
            connection.execute(text(statement))
    engine.dispose()


def prepare() -> None:
    from argilla_server.cli.database.migrate import migrate_db

    migrate_db(revision="head")
    tune_database()
    print(f"owner {asyncio.run(ensure_owner())}")


if __name__ == "__main__":
    if sys.argv[1:] == ["prepare"]:
        prepare()
    else:
        from argilla_server.cli import app

        speedups.install()
        export.install()
        app(prog_name="argilla_server")
