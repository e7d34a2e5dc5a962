"""What a person types: `ingest`, `stats`, `explain`, and the configuration reference generator.
Only here are arguments parsed, terminals looked at and logging configured."""
