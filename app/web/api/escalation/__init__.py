"""API views of the escalation domain (app.services.escalation)."""
