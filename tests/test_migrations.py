"""Schema changes go through migrations; an older workspace upgrades with its data."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect, text

from pipeline.config import Settings
from pipeline.records.audit import record_event
from pipeline.records.database import (
    _alembic_config,
    create_db_engine,
    current_revision,
    head_revision,
    migrate,
)
from pipeline.records.models import Base
from pipeline.workspace import open_workspace


def test_models_match_the_migrated_schema(tmp_path: Path) -> None:
    engine = create_db_engine(f"sqlite:///{tmp_path}/db.sqlite")
    migrate(engine)
    with engine.connect() as connection:
        diffs = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    assert diffs == []


def test_workspace_from_an_older_version_upgrades_with_its_data(settings: Settings) -> None:
    settings.home.mkdir(parents=True)
    engine = create_db_engine(settings.database_url)
    migrate(engine, "0001")  # the schema the first release wrote: no pages, no findings
    with engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO applications (id, scheme, kind, company_name, company_uscc, record,"
                " record_sha256, status, round, received_by, created_at, updated_at) VALUES"
                " ('CQC-2025-000001', 'cqc', 'new', '旧公司有限公司', '91110000000000000X', '{}',"
                " 'x', 'received', 1, 'clerk', '2025-01-02 03:04:05', '2025-01-02 03:04:05')"
            )
        )
    assert "pages" not in inspect(engine).get_table_names()
    engine.dispose()

    workspace = open_workspace(settings)
    assert current_revision(workspace.db.engine) == head_revision()
    tables = set(inspect(workspace.db.engine).get_table_names())
    assert {"pages", "documents", "findings", "review_decisions", "credentials"} <= tables
    with workspace.session() as session:
        name = session.execute(text("SELECT company_name FROM applications")).scalar_one()
        record_event(session, "admin", "workspace.upgraded", ("workspace", "x"))
    assert name == "旧公司有限公司"
    assert workspace.verify_audit().intact


def test_empty_database_file_is_initialised(settings: Settings) -> None:
    settings.home.mkdir(parents=True)
    (settings.home / "sealdesk.db").write_bytes(b"")
    workspace = open_workspace(settings)
    assert current_revision(workspace.db.engine) == head_revision()


def test_migrations_go_down_and_up_again(tmp_path: Path) -> None:
    engine = create_db_engine(f"sqlite:///{tmp_path}/db.sqlite")
    migrate(engine)
    config = _alembic_config()
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, "base")
    assert inspect(engine).get_table_names() == ["alembic_version"]
    migrate(engine)
    assert current_revision(engine) == head_revision()
