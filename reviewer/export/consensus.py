"""One label per session revision from its reviews: adjudicated, gold or consensus.

Which review decides:

1. an ``adjudicator`` review (the latest one when there are several) — ``adjudicated``;
2. otherwise a ``gold`` review (a lead's reference label) — ``gold``;
3. otherwise the reviews vote — ``consensus`` (``single`` when only one review has labels).

Voting, dimension by dimension, among the reviews that gave that dimension a value:
ordinal scales take the lower median (a value on the scale, and the cautious one); choices
and yes/no take the most common value, and no value at all when the top is tied (there is
no consensus to report); a failure tag is kept when at least half of the labelling reviews
chose it; the failure step is the most common one (the earliest on a tie); free text
(rationale, corrected response, details) is the latest review's. Copies a merge kept aside
(``conflict_of`` set) never vote.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import Any

from reviewer.export.columns import LabelPlan

Row = tuple[Any, ...]


class SessionLabeller:
    """Turns the review rows of one session revision into its session row."""

    def __init__(self, plan: LabelPlan) -> None:
        self.plan = plan
        names = [c.name for c in plan.review_columns()]
        self.ix = {n: i for i, n in enumerate(names)}
        self.n_labels = len(plan.labels)
        self.label_start = self.ix["rubric_version"] + 1
        self.n_cells = self.n_labels + len(plan.details)
        self.nested_names = [c.name for c in plan.nested_columns()]
        self.nested_ix = [self.ix[n] for n in self.nested_names]
        dim_index = {c.dimension: i for i, c in enumerate(plan.labels)}
        self.detail_of = [dim_index.get(n) for n in plan.details]

    def _when(self, row: Row) -> tuple[str, str, str]:
        ix = self.ix
        return (row[ix["submitted_at"]] or "", row[ix["updated_at"]] or "", row[ix["review_uid"]])

    def has_labels(self, row: Row) -> bool:
        s = self.label_start
        return any(v is not None for v in row[s : s + self.n_labels]) or bool(
            row[self.ix["failure_tags"]]
        )

    def session_row(self, rows: Sequence[Row]) -> Row:
        ix = self.ix
        first = rows[0]
        considered = [r for r in rows if r[ix["conflict_of"]] is None]
        voters = sorted((r for r in considered if self.has_labels(r)), key=self._when)
        deciders = [r for r in voters if r[ix["role"]] == "adjudicator"] or [
            r for r in voters if r[ix["role"]] == "gold"
        ]
        if deciders:
            decider = deciders[-1]
            source = "adjudicated" if decider[ix["role"]] == "adjudicator" else "gold"
            label = self._copy(decider)
        elif voters:
            decider = voters[-1]
            source = "single" if len(voters) == 1 else "consensus"
            label = self._vote(voters)
        else:
            decider = considered[-1] if considered else first
            source = "none"
            label = [None] * self.n_cells + [[], None, None, None]
        s = self.label_start
        comparable = [i for i, c in enumerate(self.plan.labels) if not c.text]
        unanimous = all(
            all(r[s + i] == voters[0][s + i] for i in comparable)
            and set(r[ix["failure_tags"]]) == set(voters[0][ix["failure_tags"]])
            for r in voters
        )
        submitted = [v for r in considered if (v := r[ix["submitted_at"]]) is not None]
        batches = sorted({b for r in considered if (b := r[ix["batch"]]) is not None})
        nested = [
            dict(zip(self.nested_names, (r[i] for i in self.nested_ix), strict=True))
            for r in considered
        ]
        return (
            first[ix["session_id"]],
            first[ix["session_revision"]],
            batches,
            first[ix["agent_name"]],
            first[ix["agent_version"]],
            first[ix["model"]],
            first[ix["session_started_at"]],
            first[ix["source_format"]],
            decider[ix["rubric_name"]],
            decider[ix["rubric_version"]],
            source,
            len({r[ix["reviewer"]] for r in voters}),
            unanimous,
            *label,
            max(submitted) if submitted else None,
            nested,
        )

    def _copy(self, row: Row) -> list[Any]:
        s, ix = self.label_start, self.ix
        return [
            *row[s : s + self.n_cells],
            list(row[ix["failure_tags"]]),
            row[ix["failure_step"]],
            row[ix["rationale"]],
            row[ix["corrected_response"]],
        ]

    def _vote(self, voters: list[Row]) -> list[Any]:
        s, ix = self.label_start, self.ix
        cells: list[Any] = []
        for i, col in enumerate(self.plan.labels):
            values = [r[s + i] for r in voters if r[s + i] is not None]
            cells.append(_vote_one(col.kind, col.text, values, len(voters)))
        for k, dim_i in enumerate(self.detail_of):
            pick = None
            for r in reversed(voters):
                detail = r[s + self.n_labels + k]
                if detail is not None and (dim_i is None or r[s + dim_i] == cells[dim_i]):
                    pick = detail
                    break
            cells.append(pick)
        tags = _tags([r[ix["failure_tags"]] for r in voters])
        steps = Counter(v for r in voters if (v := r[ix["failure_step"]]) is not None)
        step = None
        if steps:
            top = max(steps.values())
            step = min(v for v, n in steps.items() if n == top)
        rationale = next(
            (v for r in reversed(voters) if (v := r[ix["rationale"]]) is not None), None
        )
        corrected = next(
            (v for r in reversed(voters) if (v := r[ix["corrected_response"]]) is not None), None
        )
        return [*cells, tags, step, rationale, corrected]


def _tags(chosen: list[list[str]]) -> list[str]:
    counts: Counter[str] = Counter()
    order: dict[str, None] = {}
    for tags in chosen:
        for t in dict.fromkeys(tags):
            counts[t] += 1
            order.setdefault(t, None)
    need = (len(chosen) + 1) // 2
    return [t for t in order if counts[t] >= need]


def _vote_one(kind: str, text: bool, values: list[Any], voters: int) -> Any:
    if not values:
        return None
    if text:
        return values[-1]
    if kind in ("int", "float"):
        return sorted(values)[(len(values) - 1) // 2]
    if kind == "list":
        return _tags(values)
    counts = Counter(values)
    (top, n), *rest = counts.most_common()
    if rest and rest[0][1] == n:
        return None  # tied: no consensus
    return top
