"""The session list: a table model over ids that fetches rows a page at a time, off the
GUI thread."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any, cast

from PySide6.QtCore import (
    QAbstractTableModel,
    QModelIndex,
    QModelRoleData,
    QModelRoleDataSpan,
    QPersistentModelIndex,
    Qt,
    Signal,
)

from reviewer.services.browse import SessionSummary
from reviewer.services.reviewing import ItemStatus

PAGE = 200
SessionIdRole = Qt.ItemDataRole.UserRole + 1

Index = QModelIndex | QPersistentModelIndex
PageFetcher = Callable[[list[int], Callable[[list[SessionSummary]], None]], None]
"""Asked for the rows of some ids; calls back (on the GUI thread) with them."""

STATUS_COLUMN = 0
"""Known without fetching the row: it comes with the queue."""
COLUMNS: list[tuple[str, Callable[[SessionSummary], Any]]] = [
    ("Status", lambda r: ""),
    ("Session", lambda r: r.key),
    ("Started", lambda r: r.started_at.strftime("%Y-%m-%d %H:%M") if r.started_at else ""),
    ("Agent", lambda r: " ".join(x for x in (r.agent_name, r.agent_version) if x)),
    ("Model", lambda r: r.model or ""),
    ("Steps", lambda r: r.step_count),
    ("Tools", lambda r: r.tool_call_count),
    ("Tool error", lambda r: "error" if r.has_tool_error else ""),
    ("Feedback", lambda r: "" if r.user_feedback is None else f"{r.user_feedback:+.0f}"),
    ("First message", lambda r: r.first_user_text or ""),
]


_DISPLAY = int(Qt.ItemDataRole.DisplayRole.value)
_TOOLTIP = int(Qt.ItemDataRole.ToolTipRole.value)


class SessionListModel(QAbstractTableModel):
    """Holds only ids; row contents arrive page by page from ``fetch_page``."""

    rows_loaded = Signal(int, int)
    """Rows first..last were fetched and are now shown."""

    def __init__(self, fetch_page: PageFetcher, parent: Any = None) -> None:
        super().__init__(parent)
        self._fetch_page = fetch_page
        self._ids: list[int] = []
        self._rows: dict[int, SessionSummary] = {}
        self._cells: dict[int, tuple[Any, ...]] = {}
        """Each fetched row's column values, worked out once (not at every paint)."""
        self._requested: set[int] = set()
        self._generation = 0
        self._statuses: dict[int, ItemStatus] = {}
        self._positions: dict[int, int] | None = None

    def set_ids(self, ids: Sequence[int], statuses: dict[int, ItemStatus] | None = None) -> None:
        self.beginResetModel()
        self._ids = list(ids)
        self._statuses = dict(statuses or {})
        self._positions = None
        self._rows.clear()
        self._cells.clear()
        self._requested.clear()
        self._generation += 1
        self.endResetModel()
        if self._ids:
            self._request_page(0)  # the first rows are wanted at once; don't wait for paint

    def session_id(self, row: int) -> int | None:
        return self._ids[row] if 0 <= row < len(self._ids) else None

    def row_of(self, session_id: int) -> int | None:
        if self._positions is None:
            self._positions = {sid: i for i, sid in enumerate(self._ids)}
        return self._positions.get(session_id)

    def status(self, session_id: int) -> ItemStatus:
        return self._statuses.get(session_id, ItemStatus.TODO)

    def set_status(self, session_id: int, status: ItemStatus) -> None:
        """Show a new status for one item (after a save)."""
        self._statuses[session_id] = status
        row = self.row_of(session_id)
        if row is not None:
            i = self.index(row, STATUS_COLUMN)
            self.dataChanged.emit(i, i)

    def summary(self, row: int) -> SessionSummary | None:
        sid = self.session_id(row)
        return self._rows.get(sid) if sid is not None else None

    # Qt model interface
    def rowCount(self, parent: Index = QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self._ids)

    def columnCount(self, parent: Index = QModelIndex()) -> int:
        return 0 if parent.isValid() else len(COLUMNS)

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if (
            role == Qt.ItemDataRole.DisplayRole
            and orientation == Qt.Orientation.Horizontal
            and 0 <= section < len(COLUMNS)
        ):
            return COLUMNS[section][0]
        return None

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not (0 <= index.row() < len(self._ids)):
            return None
        sid = self._ids[index.row()]
        if role == SessionIdRole:
            return sid
        if role not in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.ToolTipRole):
            return None
        value = self._value(index.row(), index.column(), sid)
        return value if role == Qt.ItemDataRole.DisplayRole or value is None else str(value)

    def multiData(self, index: Index, span: QModelRoleDataSpan | QModelRoleData, /) -> None:
        """Every role a view asks for at once: painting a cell calls into Python once
        instead of once per role (a screenful of the list about 1,300 calls, each needing
        the GIL, which a worker may be holding)."""
        items = [span] if isinstance(span, QModelRoleData) else cast(Iterable[QModelRoleData], span)
        if not index.isValid() or not (0 <= index.row() < len(self._ids)):
            for item in items:
                item.clearData()
            return
        sid = self._ids[index.row()]
        value: Any = ...
        for item in items:
            role = item.role()
            if role in (_DISPLAY, _TOOLTIP):
                if value is ...:
                    value = self._value(index.row(), index.column(), sid)
                item.setData(value if role == _DISPLAY or value is None else str(value))
            elif role == SessionIdRole:
                item.setData(sid)
            else:
                item.clearData()

    def _value(self, row: int, column: int, sid: int) -> Any:
        if column == STATUS_COLUMN:
            return self.status(sid).value
        cells = self._cells.get(sid)
        if cells is None:
            summary = self._rows.get(sid)
            if summary is None:
                self._request_page(row)
                return "…" if column == 1 else None
            cells = self._cells[sid] = tuple(value(summary) for _, value in COLUMNS)
        return cells[column]

    def _request_page(self, row: int) -> None:
        page = row // PAGE
        if page in self._requested:
            return
        self._requested.add(page)
        first = page * PAGE
        ids = self._ids[first : first + PAGE]
        generation = self._generation

        def arrived(rows: list[SessionSummary]) -> None:
            if generation != self._generation:
                return  # the list was replaced meanwhile
            for r in rows:
                self._rows[r.id] = r
                self._cells.pop(r.id, None)
            last = first + len(ids) - 1
            self.dataChanged.emit(self.index(first, 0), self.index(last, len(COLUMNS) - 1))
            self.rows_loaded.emit(first, last)

        self._fetch_page(ids, arrived)
