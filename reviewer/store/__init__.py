"""Persistence: ORM tables, workspaces, migrations and repositories."""
