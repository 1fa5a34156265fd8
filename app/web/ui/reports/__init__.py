"""Pages of the reports domain (app.services.reports)."""
