"""API views of the reports domain (app.services.reports)."""
