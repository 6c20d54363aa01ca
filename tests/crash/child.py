"""A process that does one kind of workspace work and says what it finished, line by line,
so that a harness can SIGKILL it at any moment and then check what survived.

    python -m tests.crash.child save WORKSPACE START draft|submitted
    python -m tests.crash.child import WORKSPACE FILE
    python -m tests.crash.child merge WORKSPACE RESULTS...
    python -m tests.crash.child migrate WORKSPACE

``save`` runs the workbench's save path (a draft, then the submit, of review ``i``,
``i`` = START, START+1, …; the first save is START's draft or its submit) and prints
``ack <i> <status>`` after each save returned: an acknowledged save. The other modes
print ``done`` when finished.
"""

from __future__ import annotations

import sys
from pathlib import Path

from reviewer.domain.review import Review, ReviewStatus
from reviewer.resources import default_rubric
from reviewer.services.reviewing import store
from reviewer.services.workspaces import open_existing

SESSIONS = 40


def review_for(i: int, status: ReviewStatus) -> Review:
    """Review ``i`` exactly as the harness expects to find it (same input, same review)."""
    rubric = default_rubric()
    return Review(
        uid=f"crash-{i:06d}",
        session_key=f"s-{i % SESSIONS:03d}",
        reviewer=f"r{i % 7}",
        rubric_name=rubric.name,
        rubric_version=rubric.version,
        values={
            "quality": str(1 + i % 5),
            "correctness": "correct" if i % 3 else "incorrect",
            "policy": "compliant",
        },
        status=status,
        active_seconds=float(i % 50),
    )


def _save(ws_path: str, start: int, first: ReviewStatus) -> None:
    ws = open_existing(ws_path)
    rubric = default_rubric()
    i = start
    steps = (ReviewStatus.DRAFT, ReviewStatus.SUBMITTED)
    skip = first is ReviewStatus.SUBMITTED
    while True:
        for status in steps[1:] if skip else steps:
            store(ws, review_for(i, status), rubric)
            print(f"ack {i} {status.value}", flush=True)
        skip = False
        i += 1


def main(argv: list[str]) -> None:
    mode, ws_path, *rest = argv
    if mode == "save":
        _save(ws_path, int(rest[0]), ReviewStatus(rest[1]))
    elif mode == "import":
        from reviewer.services.importing import import_paths
        from reviewer.services.progress import Progress

        ws = open_existing(ws_path)

        def said(done: int, total: int | None, message: str) -> None:
            print(f"progress {done}", flush=True)

        import_paths(ws, [Path(rest[0])], chunk=50, progress=Progress(said))
        print("done", flush=True)
    elif mode == "merge":
        from reviewer.services.merging import merge_results

        ws = open_existing(ws_path)
        merge_results(ws, [Path(p) for p in rest], actor="lead")
        print("done", flush=True)
    elif mode == "migrate":
        open_existing(ws_path).close()
        print("done", flush=True)
    else:
        raise SystemExit(f"unknown mode {mode}")


if __name__ == "__main__":
    main(sys.argv[1:])
