"""The case store: schema, migrations and the single writer."""
