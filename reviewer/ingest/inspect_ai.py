"""Inspect AI eval logs: `.json` (one EvalLog document) and `.eval` (a zip with
`header.json` and one `samples/<id>_epoch_<n>.json` per sample). Each sample becomes a
session; its scores become judge signals.

Provenance ids kept in `source.ids`: `sample_id`, `epoch`, `eval_id`, `run_id`, `task`.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from reviewer.domain.session import Agent, Metrics, Session, Signals, Source
from reviewer.ingest.archive import ArchiveError, SafeZip
from reviewer.ingest.judgements import judgement
from reviewer.ingest.messages import messages_to_steps
from reviewer.ingest.records import RecordError, parse_json
from reviewer.ingest.values import parse_time

NAME = "inspect-ai"
ZIP_MAGIC = b"PK\x03\x04"
_LETTER_SCORES = {"C": 1.0, "I": 0.0, "P": 0.5, "N": 0.0}


def looks_like(value: Any) -> bool:
    return (
        isinstance(value, dict)
        and isinstance(value.get("eval"), dict)
        and ("samples" in value or "status" in value)
    )


def _score(value: Any) -> float | None:
    if isinstance(value, bool):
        return 1.0 if value else 0.0
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        return _LETTER_SCORES.get(value.upper())
    return None


def sample_session(
    sample: dict[str, Any], spec: dict[str, Any], file: str, position: str
) -> Session:
    if "id" not in sample:
        raise RecordError("sample has no id")
    messages = sample.get("messages") or []
    steps = messages_to_steps(messages if messages else sample.get("input"))
    scores: dict[str, Any] = sample["scores"] if isinstance(sample.get("scores"), dict) else {}
    judge = {
        name: v
        for name, s in scores.items()
        if isinstance(s, dict) and (v := _score(s.get("value"))) is not None
    }
    usage = [u for u in (sample.get("model_usage") or {}).values() if isinstance(u, dict)]
    eval_id = str(spec.get("eval_id") or spec.get("run_id") or "")
    epoch = int(sample.get("epoch") or 1)
    key = f"inspect:{eval_id}:{sample['id']}:{epoch}"
    ids = {
        "sample_id": str(sample["id"]),
        "epoch": str(epoch),
        "eval_id": eval_id,
        "run_id": str(spec.get("run_id") or ""),
        "task": str(spec.get("task") or ""),
    }
    started = parse_time(spec.get("created"))
    total = sample.get("total_time")
    return Session(
        id=key,
        source=Source(format=NAME, file=file, position=position, ids=ids),
        agent=Agent(name=spec.get("task"), version=str(spec.get("task_version") or "") or None),
        model=spec.get("model"),
        started_at=started,
        metadata={
            "target": sample.get("target"),
            "sample_metadata": sample.get("metadata"),
            "error": sample.get("error"),
        },
        steps=steps,
        metrics=Metrics(
            input_tokens=sum(int(u.get("input_tokens") or 0) for u in usage) or None,
            output_tokens=sum(int(u.get("output_tokens") or 0) for u in usage) or None,
            latency_ms=float(total) * 1000 if isinstance(total, int | float) else None,
        ),
        signals=Signals(
            judge_scores=judge,
            task_success=judge[next(iter(judge))] >= 1.0 if judge else None,
            judgements=[
                j
                for name, s in scores.items()
                if isinstance(s, dict)
                and (j := judgement(name, s.get("value"), s.get("explanation"), "inspect"))
            ],
        ),
    )


def sessions(doc: Any, file: str, line: int) -> Iterator[Session]:
    spec = doc.get("eval") or {}
    for i, sample in enumerate(doc.get("samples") or []):
        if isinstance(sample, dict):
            yield sample_session(sample, spec, file, f"sample {i + 1}")


def read_archive(path: Path, max_bytes: int) -> Iterator[Session | tuple[str, str]]:
    """Sessions of an `.eval` file, one sample entry at a time; rejects as (where, why)."""
    try:
        archive = SafeZip(path, max_bytes)
    except ArchiveError as exc:
        yield ("archive", str(exc))
        return
    with archive:
        spec: dict[str, Any] = {}
        for name in ("header.json", "_journal/start.json"):
            if name in archive.names:
                try:
                    header = parse_json(archive.read(name))
                except (RecordError, ArchiveError):
                    continue
                if isinstance(header, dict) and isinstance(header.get("eval"), dict):
                    spec = header["eval"]
                    break
        for name in archive.names:
            if not (name.startswith("samples/") and name.endswith(".json")):
                continue
            try:
                sample = parse_json(archive.read(name))
                if not isinstance(sample, dict):
                    raise RecordError("sample is not an object")
                yield sample_session(sample, spec, str(path), name)
            except (RecordError, ArchiveError, ValidationError, ValueError, TypeError) as exc:
                yield (name, str(exc).splitlines()[0])
