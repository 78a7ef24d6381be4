"""Shadow-read results: what the comparer found per /api route while both doors ran side by side."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from src.models.base import Base, utcnow


class ParityCount(Base):
    """Comparisons of one route template in one UTC hour, so a report can cover any recent window."""

    __tablename__ = "parity_counts"

    route: Mapped[str] = mapped_column(String(200), primary_key=True)
    hour: Mapped[datetime] = mapped_column(DateTime, primary_key=True, index=True)
    compared: Mapped[int] = mapped_column(Integer, default=0)
    matched: Mapped[int] = mapped_column(Integer, default=0)
    mismatched: Mapped[int] = mapped_column(Integer, default=0)
    raced: Mapped[int] = mapped_column(Integer, default=0)
    first_seen: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    last_seen: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


class ParityDifference(Base):
    """One distinct difference of a route (the set of JSON paths that disagree), with redacted samples.

    `samples` is a JSON list of at most SHADOW_SAMPLES_PER_DIFFERENCE entries; `explanation` is
    the operator's note that makes it an accepted difference the cutover gate lets through.
    """

    __tablename__ = "parity_differences"
    __table_args__ = (UniqueConstraint("route", "signature"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    route: Mapped[str] = mapped_column(String(200))
    signature: Mapped[str] = mapped_column(String(64))
    paths: Mapped[str] = mapped_column(Text)
    count: Mapped[int] = mapped_column(Integer, default=0)
    first_seen: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    last_seen: Mapped[datetime] = mapped_column(DateTime, default=utcnow, index=True)
    samples: Mapped[str] = mapped_column(Text, default="[]")
    explanation: Mapped[str | None] = mapped_column(Text)
