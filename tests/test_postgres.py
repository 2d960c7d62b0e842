"""The same workspace on a real PostgreSQL server, chosen by URL alone."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import text

from pipeline.config import Settings
from pipeline.model.application import ApplicationRecord
from pipeline.records import lifecycle
from pipeline.records.models import Application, Base
from pipeline.usecases.checking import check_and_save
from pipeline.usecases.intake import intake_application
from pipeline.workspace import Workspace, open_workspace
from tests import makefiles
from tests.postgres import fresh_database, postgres_server


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    with postgres_server() as url:
        yield url


@pytest.fixture
def pg_workspace(server: str, settings: Settings) -> Iterator[Workspace]:
    workspace = open_workspace(replace(settings, database_url=fresh_database(server)))
    yield workspace
    workspace.db.engine.dispose()


def test_schema_matches_the_models_on_postgres(pg_workspace: Workspace) -> None:
    assert pg_workspace.db.engine.dialect.name == "postgresql"
    with pg_workspace.db.engine.connect() as connection:
        assert compare_metadata(MigrationContext.configure(connection), Base.metadata) == []


def test_intake_review_and_audit_on_postgres(
    tmp_path: Path, pg_workspace: Workspace, record: ApplicationRecord
) -> None:
    files = [
        makefiles.scanned_pdf(tmp_path / "form.pdf", pages=2),
        makefiles.encrypted_pdf(tmp_path / "locked.pdf"),
    ]
    result = intake_application(pg_workspace, record, files, "clerk")
    assert [f.outcome for f in result.files] == ["new", "rejected"]
    report = check_and_save(pg_workspace, result, "clerk")
    assert report.verdict == "flagged"
    with pg_workspace.session() as session:
        app = session.get_one(Application, record.application_id)
        lifecycle.decide(session, app, "prereview", True, "alice")
        lifecycle.decide(session, app, "rereview", True, "bob")
        assert app.status == "rereview_passed"
    assert pg_workspace.verify_audit().intact
    with pg_workspace.db.engine.begin() as connection:
        connection.execute(text("UPDATE audit_entries SET actor = 'mallory' WHERE seq = 2"))
    assert "entry 2 was altered" in "\n".join(pg_workspace.verify_audit().problems)
