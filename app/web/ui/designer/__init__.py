"""Pages of the designer domain (app.services.designer)."""
