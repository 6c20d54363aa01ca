"""The demo workspace: generated sessions in an SQLite file, ready to review."""

from __future__ import annotations

from pathlib import Path

from platformdirs import user_data_path

from reviewer.domain.batch import SamplingSpec
from reviewer.services.batches import create_batch
from reviewer.services.importing import store_sessions
from reviewer.services.progress import NO_PROGRESS, Progress
from reviewer.services.simulate import gold_labels, simulate_batch
from reviewer.services.workspaces import init_workspace, open_existing
from reviewer.store.rubrics import find_rubric
from reviewer.store.sessions import all_session_ids
from reviewer.store.workspace import Workspace, set_meta
from reviewer.synth.generator import generate_sessions, write_jsonl

DEMO_SESSIONS = 2000
DEMO_SEED = 7
DEMO_BATCH = "demo-batch"
DEMO_REVIEWERS = ["alice", "bob", "carol"]


def default_demo_path() -> Path:
    return user_data_path("agentops-reviewer", appauthor=False) / "demo.sqlite"


def build_demo(
    path: Path,
    *,
    sessions: int = DEMO_SESSIONS,
    seed: int = DEMO_SEED,
    rebuild: bool = False,
    progress: Progress = NO_PROGRESS,
) -> Workspace:
    """Create the demo workspace at ``path`` (or reopen it when it is already there)."""
    if path.exists() and not rebuild:
        ws = open_existing(path)
        if ws.meta("demo_complete") == "yes":
            return ws
        ws.close()  # a build that was interrupted: start again
    if path.exists():
        for suffix in ("", "-wal", "-shm"):
            Path(str(path) + suffix).unlink(missing_ok=True)
    ws = init_workspace(path)
    store_sessions(ws, generate_sessions(sessions, seed), total=sessions, progress=progress)
    _demo_batch(ws, sessions, seed)
    _demo_pairs(ws, seed)
    set_meta(ws, "demo_complete", "yes")
    return ws


def _demo_batch(ws: Workspace, sessions: int, seed: int) -> None:
    """A stratified batch for three reviewers, most of it reviewed (simulated), some gold."""
    with ws.read() as s:
        found = find_rubric(s, "default")
        assert found is not None
        rubric = found[1]
        ids = all_session_ids(s)
    gold = ids[-6:] if sessions >= 60 else []
    gold_labels(ws, gold, rubric, seed=seed)
    spec = SamplingSpec(
        size=max(1, min(150, sessions // 4)),
        seed=seed,
        stratify_by=["version"],
        reviewers=DEMO_REVIEWERS,
        overlap=0.2,
        gold=len(gold),
    )
    create_batch(ws, DEMO_BATCH, spec)
    simulate_batch(ws, DEMO_BATCH, rubric, seed=seed)


DEMO_PAIRS = "demo-pairs"


def _demo_pairs(ws: Workspace, seed: int) -> None:
    """A small pairwise batch, version 1.0 against 2.0 on the same opening request, mostly
    reviewed by two simulated reviewers (``services.simulate_pairs``)."""
    from reviewer.services.batches import BatchError
    from reviewer.services.pairwise import create_pair_batch, pair_spec
    from reviewer.services.simulate_pairs import simulate_pairs

    spec = SamplingSpec(
        size=20,
        seed=seed,
        reviewers=DEMO_REVIEWERS[:2],
        overlap=0.25,
        pairs=pair_spec("first_user_text", "version=1.0,2.0"),
    )
    try:
        create_pair_batch(ws, DEMO_PAIRS, spec)
    except BatchError:
        return  # a demo too small to hold a pair
    simulate_pairs(ws, DEMO_PAIRS, seed=seed)


def write_generated_sessions(
    out: Path, count: int, seed: int, progress: Progress = NO_PROGRESS
) -> int:
    """Write ``count`` generated sessions (canonical JSONL, same seed same bytes) to ``out``;
    return the bytes written."""
    return write_jsonl(out, count, seed, progress=lambda n: progress.update(n, count))
