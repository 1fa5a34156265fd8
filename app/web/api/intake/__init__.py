"""API views of the intake domain (app.services.intake)."""
