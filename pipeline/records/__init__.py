"""The database: tables, migrations and the queries on them (SQLAlchemy 2.0; SQLite or
PostgreSQL). It keeps; it does not drive the stages (that is ``pipeline.usecases``)."""
