"""The import mappings shipped with Concord: one TOML file per source, read by
app.services.intake.import_mapping."""
