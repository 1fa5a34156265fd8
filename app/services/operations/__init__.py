"""Running the service: the database schema (migrations) and health."""
