"""A review pack's round trip at 1,000 items: create, open offline, review, write results,
merge; against zipping the same canonical sessions with bare zipfile."""

from __future__ import annotations

import tempfile
import zipfile
from pathlib import Path

import orjson

from reviewer.domain.review import Review, ReviewStatus
from reviewer.resources import default_rubric
from reviewer.services.merging import merge_results
from reviewer.services.packs import create_pack, open_pack, write_results
from reviewer.services.reviewing import save
from reviewer.services.workspaces import init_workspace
from reviewer.synth.generator import generate_sessions
from tests.packs.helpers import GOOD, make_batch
from tests.perf.harness import Figures, benchmark, timed

N = 1000


@benchmark("pack_round_trip")
def pack_round_trip() -> Figures:
    rubric = default_rubric()
    sessions = list(generate_sessions(N, seed=5))
    with tempfile.TemporaryDirectory() as tmp:
        bare_zip = Path(tmp) / "bare.zip"
        with timed() as bare, zipfile.ZipFile(bare_zip, "w", zipfile.ZIP_DEFLATED) as z:
            for i, sess in enumerate(sessions):
                z.writestr(f"{i}.json", orjson.dumps(sess.model_dump(mode="json")))
        ws = init_workspace(Path(tmp) / "ws.sqlite")
        make_batch(ws, "b1", {"ana": range(N)}, items=N, sessions=sessions)
        with timed() as made:
            pack = create_pack(ws, "b1", "ana", Path(tmp) / "ana.reviewpack")
        with timed() as opened:
            offline = open_pack(pack.path, data_dir=Path(tmp) / "data")
        for i in range(N):
            review = Review(
                session_key=f"s-{i:05d}",
                batch="b1",
                reviewer="ana",
                rubric_name=rubric.name,
                rubric_version=rubric.version,
                values=dict(GOOD),
                status=ReviewStatus.SUBMITTED,
            )
            save(offline, review, rubric)
        with timed() as written:
            results = write_results(offline, Path(tmp) / "ana.reviewresults")
        offline.close()
        with timed() as merged:
            report = merge_results(ws, [results.path], actor="lead")
        with timed() as again:
            merge_results(ws, [results.path], actor="lead")
        assert report.added == N
        size = pack.path.stat().st_size
        ws.close()
    return {
        "items": N,
        "pack_mb": round(size / 1e6, 2),
        "create_pack_s": round(made.seconds, 3),
        "baseline_bare_zip_of_sessions_s": round(bare.seconds, 3),
        "create_ratio_to_baseline": round(bare.seconds / made.seconds, 3),
        "open_pack_s": round(opened.seconds, 3),
        "write_results_s": round(written.seconds, 3),
        "merge_s": round(merged.seconds, 3),
        "merge_again_s": round(again.seconds, 3),
    }
