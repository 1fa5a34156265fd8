"""The working-day calendars shipped with Concord (data: one JSON file a year; app.workdays reads them)."""
