"""Team-mode claim throughput: 20 concurrent workers claiming (and submitting) batch items
through the service, against a bare psycopg SKIP LOCKED queue on the same server."""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import psycopg

from reviewer.services.claims import claim_next
from reviewer.services.workspaces import init_workspace
from tests.helpers.postgres import temporary_database
from tests.packs.helpers import make_batch
from tests.perf.harness import Figures, benchmark, timed
from tests.team.workload import run_workers

ITEMS = 2000
WORKERS = 20
PER_CLAIM = 5


def _threads(n: int, work: Callable[[int], None]) -> None:
    gate = threading.Barrier(n)

    def run(i: int) -> None:
        gate.wait()
        work(i)

    with ThreadPoolExecutor(max_workers=n) as pool:
        for f in [pool.submit(run, i) for i in range(n)]:
            f.result()


def _bare_queue(url: str, submit: bool) -> float:
    """The same job on one table with raw psycopg: claim 5 with SKIP LOCKED, mark each done."""
    dsn = url
    with psycopg.connect(dsn, autocommit=True) as con:
        con.execute("DROP TABLE IF EXISTS q")
        con.execute(
            "CREATE TABLE q (id serial PRIMARY KEY, pos int, who int, lease timestamptz, "
            "done bool NOT NULL DEFAULT false)"
        )
        con.execute("INSERT INTO q (pos) SELECT g FROM generate_series(1, %s) g", (ITEMS,))

    def work(i: int) -> None:
        with psycopg.connect(dsn) as con:
            while True:
                with con.transaction():
                    ids = con.execute(
                        "UPDATE q SET who = %s, lease = now() + interval '1 hour' WHERE id IN "
                        "(SELECT id FROM q WHERE lease IS NULL ORDER BY pos LIMIT %s "
                        "FOR UPDATE SKIP LOCKED) RETURNING id",
                        (i, PER_CLAIM),
                    ).fetchall()
                if not ids:
                    return
                if submit:
                    for (qid,) in ids:
                        with con.transaction():
                            con.execute("UPDATE q SET done = true WHERE id = %s", (qid,))

    with timed() as t:
        _threads(WORKERS, work)
    return t.seconds


def _service(url: str, submit: bool) -> float:
    reviewers = [f"r{i:02d}" for i in range(WORKERS)]
    ws = init_workspace(url)
    make_batch(ws, "b1", {}, items=ITEMS)
    with ws.engine.begin() as c:
        c.exec_driver_sql("ANALYZE")
    ws.close()
    if submit:
        with timed() as t:
            run_workers(url, reviewers, per_claim=PER_CLAIM, pool_copies=1)
        return t.seconds
    from reviewer.store.workspace import open_workspace

    def work(i: int) -> None:
        own = open_workspace(url)
        try:
            while claim_next(own, "b1", reviewers[i], PER_CLAIM, pool_copies=1):
                pass
        finally:
            own.close()

    with timed() as t:
        _threads(WORKERS, work)
    return t.seconds


@benchmark("claims_postgres")
def claims_postgres() -> Figures:
    figures: Figures = {"items": ITEMS, "workers": WORKERS, "per_claim": PER_CLAIM}
    for submit in (False, True):
        label = "claim_and_submit" if submit else "claim_only"
        with temporary_database("reviewer_bench") as url:
            if url is None:
                return {"skipped": "no PostgreSQL server at 127.0.0.1:5432"}
            ours = _service(url, submit)
        with temporary_database("reviewer_bench") as url:
            assert url is not None
            bare = _bare_queue(url, submit)
        figures[f"{label}_items_per_s"] = round(ITEMS / ours)
        figures[f"baseline_bare_psycopg_{label}_items_per_s"] = round(ITEMS / bare)
        figures[f"{label}_ratio_to_baseline"] = round(bare / ours, 3)
    return figures
