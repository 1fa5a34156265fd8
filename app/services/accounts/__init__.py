"""Accounts: users, passwords and login tokens."""
