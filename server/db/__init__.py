"""Persistence: the schema (models + Alembic migrations), the engine and the repositories."""
