"""Pages of the inbox domain (app.services.inbox)."""
