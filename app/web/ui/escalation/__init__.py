"""Pages of the escalation domain (app.services.escalation)."""
