"""API views of the operations domain (app.services.operations)."""
