"""API views of the designer domain (app.services.designer)."""
