"""API views of the inbox domain (app.services.inbox)."""
