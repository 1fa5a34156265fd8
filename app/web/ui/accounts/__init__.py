"""Pages of the accounts domain (app.services.accounts)."""
