"""A preference of a pairwise batch with its pair, as the pair exports read it. Its field
names label the columns the store selects (``store.preference_records``)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

__all__ = ["PairRecord"]


@dataclass(frozen=True)
class PairRecord:
    """One preference with its pair, as read from the workspace."""

    batch: str
    position: int
    task_key: str | None
    field: str
    a: str
    b: str
    left_is: str
    left_session: str
    left_revision: int
    left_id: int
    right_session: str
    right_revision: int
    right_id: int
    winner: str | None
    dimensions: dict[str, str]
    rationale: str | None
    reviewer: str
    uid: str
    status: str
    submitted_at: datetime | None
    active_seconds: float
    simulated: bool

    @property
    def left_value(self) -> str:
        return self.a if self.left_is == "A" else self.b

    @property
    def right_value(self) -> str:
        return self.b if self.left_is == "A" else self.a

    @property
    def winning_side(self) -> str | None:
        return self.winner if self.winner in ("left", "right") else None
