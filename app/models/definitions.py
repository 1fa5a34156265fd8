from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base


class Deployment(Base):
    """One upload of BPMN/DMN/form files; the source files are kept verbatim."""

    __tablename__ = "deployments"

    id: Mapped[int] = mapped_column(primary_key=True)
    content_hash: Mapped[str] = mapped_column(String(64), index=True)
    sources: Mapped[dict[str, Any]] = mapped_column(deferred=True)  # file name -> text
    deployed_by: Mapped[str] = mapped_column(String(64))
    deployed_at: Mapped[datetime]
    # "repository" (concord deploy, as make run does) or "pages" (a designer): a repository deploy never
    # supersedes a designer's version behind their back (app.services.designer.repository).
    origin: Mapped[str] = mapped_column(String(16), default="pages")


class ProcessDefinition(Base):
    """A deployed version of one process; its parsed spec is stored once, here."""

    __tablename__ = "process_definitions"
    __table_args__ = (UniqueConstraint("key", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(128))
    version: Mapped[int]
    name: Mapped[str] = mapped_column(String(256))
    content_hash: Mapped[str] = mapped_column(String(64))
    spec_json: Mapped[str] = mapped_column(Text, deferred=True)
    start_form: Mapped[str | None] = mapped_column(String(256))
    elements: Mapped[list[str]]
    deployment_id: Mapped[int] = mapped_column(ForeignKey("deployments.id"))
    deployed_by: Mapped[str] = mapped_column(String(64))
    deployed_at: Mapped[datetime]



class DesignerDraft(Base):
    """A designer's work in progress: a set of files edited in the browser, kept on the server until it is
    deployed or discarded. Only its owner sees it; officers never do (nothing runs from a draft)."""

    __tablename__ = "designer_drafts"

    id: Mapped[int] = mapped_column(primary_key=True)
    owner: Mapped[str] = mapped_column(String(64), index=True)
    title: Mapped[str] = mapped_column(String(200))
    based_on: Mapped[str | None] = mapped_column(String(160))  # "dispute_case:3": the version it started from
    files: Mapped[dict[str, Any]]  # file name -> text
    revision: Mapped[int]  # bumped by every change: a stale editor's save answers 409 instead of overwriting
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
