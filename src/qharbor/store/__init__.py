"""Persistence: table schema, migrations, and the SQL of each concern in one module."""
