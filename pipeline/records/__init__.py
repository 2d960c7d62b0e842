"""The database: the only package that talks to it (SQLAlchemy 2.0; SQLite or PostgreSQL)."""
