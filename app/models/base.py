"""Declarative base and the column types every model shares."""
from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from sqlalchemy import JSON, DateTime, MetaData, Table, TypeDecorator
from sqlalchemy.orm import DeclarativeBase

NAMING = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
}


# SQLite texts of recent instants, by the object's identity (hashing an aware datetime first converts it
# to UTC); an entry holds its object, so that no other object can take its identity meanwhile.
_SQLITE_TEXTS: dict[int, tuple[datetime, str]] = {}


class UTCDateTime(TypeDecorator[datetime]):
    """Aware UTC datetimes on every backend (SQLite hands back naive values otherwise)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetimes are not stored: use app.clock")
        value = value.astimezone(timezone.utc)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=timezone.utc) if value.tzinfo is None else value.astimezone(timezone.utc)

    # SQLite keeps instants as the text SQLAlchemy's DATETIME writes ("YYYY-MM-DD HH:MM:SS.ffffff", UTC
    # here). Every case step binds and reads a dozen of them, so both directions are spelled with the
    # C-level isoformat/fromisoformat instead of going through DATETIME's own processors. A step binds
    # its one `now` many times, and its due instants on several rows: recent texts are kept.
    def bind_processor(self, dialect: Any) -> Any:
        if dialect.name != "sqlite":
            return super().bind_processor(dialect)
        texts = _SQLITE_TEXTS  # one memo for every column and statement: a step's instant is on many

        def process(value: datetime | None) -> str | None:
            if value is None:
                return None
            known = texts.get(id(value))
            if known is not None and known[0] is value:
                return known[1]
            if value.tzinfo is timezone.utc:  # what app.clock hands out: no conversion to make
                text = value.isoformat(" ", "microseconds")[:-6]  # (without its "+00:00")
            else:
                utc = self.process_bind_param(value, dialect)
                assert utc is not None
                text = utc.isoformat(" ", "microseconds")
            if len(texts) >= 256:
                texts.clear()
            texts[id(value)] = (value, text)
            return text
        return process

    def result_processor(self, dialect: Any, coltype: Any) -> Any:
        if dialect.name != "sqlite":
            return super().result_processor(dialect, coltype)

        def process(value: str | None) -> datetime | None:
            if value is None:
                return None
            try:
                # Stored without offset, always UTC: parsed as such in one step (replace() costs more).
                parsed = datetime.fromisoformat(value + "+00:00")
            except ValueError:  # text written with an offset of its own
                parsed = None
            if parsed is None or parsed.tzinfo is None:  # (a bare date takes the "+" as its separator)
                return self.process_result_value(datetime.fromisoformat(value), dialect)
            return parsed
        return process


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map = {datetime: UTCDateTime, dict[str, Any]: JSON, list[str]: JSON}


def table_of(model: type[Base]) -> Table:
    """The Core table of a model, for statements built once on the hot path."""
    table = model.__table__
    assert isinstance(table, Table)
    return table
