"""Intake: registering cases (window, feeds, bulk imports), possible duplicates, external messages."""
