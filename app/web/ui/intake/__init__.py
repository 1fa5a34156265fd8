"""Pages of the intake domain (app.services.intake)."""
