"""API views of the accounts domain (app.services.accounts)."""
