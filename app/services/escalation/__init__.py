"""Escalation: the supervisors' board, urging and listing late tasks."""
