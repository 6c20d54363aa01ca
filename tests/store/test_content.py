"""The stored form of a session stays what earlier versions wrote: workspaces keep
recognising re-imported sessions as duplicates across upgrades."""

from __future__ import annotations

import hashlib
import zlib

import orjson
import pytest

from reviewer.domain.session import Session, Source
from reviewer.store import content
from reviewer.store.content import decode_content, prepare_session
from reviewer.synth.generator import generate_sessions
from tests.helpers.factories import make_session


def test_hash_and_content_are_the_sorted_canonical_json() -> None:
    sessions = [
        *generate_sessions(30, seed=5),
        make_session("plain"),
        make_session("src", source=Source(format="otlp", file="/x.json", position="7")),
    ]
    for session in sessions:
        prepared = prepare_session(session)
        data = session.model_dump(mode="json")
        stored = zlib.decompress(prepared.content)
        assert stored == orjson.dumps(data, option=orjson.OPT_SORT_KEYS)
        del data["source"]
        body = orjson.dumps(data, option=orjson.OPT_SORT_KEYS)
        assert prepared.content_hash == hashlib.sha256(body).hexdigest()
        assert decode_content(prepared.content) == session


def test_provenance_is_not_part_of_the_hash() -> None:
    a = make_session("s", source=Source(format="canonical", file="/a.jsonl", position="1"))
    b = make_session("s", source=Source(format="canonical", file="/b.jsonl", position="9"))
    assert prepare_session(a).content_hash == prepare_session(b).content_hash
    assert prepare_session(a).content != prepare_session(b).content


def test_a_large_session_reads_back_the_same_validated_a_slice_of_steps_at_a_time(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Large sessions are validated piecewise so a worker opening one never holds the GIL
    # (and so the GUI thread) for long; whatever the size, what comes back is the same.
    sessions = [*generate_sessions(20, seed=7), make_session("plain")]
    assert any(s.spans for s in sessions) and any(s.steps for s in sessions)
    monkeypatch.setattr(content, "PIECEWISE_FROM", 0)
    monkeypatch.setattr(content, "_PIECE", 3)
    for session in sessions:
        stored = prepare_session(session).content
        whole = Session.model_validate_json(zlib.decompress(stored))
        decoded = decode_content(stored)
        assert decoded == whole == session
        assert decoded.model_fields_set == whole.model_fields_set


def test_a_large_stored_session_with_an_integer_beyond_64_bits_still_reads(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(content, "PIECEWISE_FROM", 0)
    session = make_session("big-int").model_copy(update={"metadata": {"n": 2**70}})
    stored = zlib.compress(session.model_dump_json().encode())  # orjson cannot read it
    assert decode_content(stored).metadata["n"] == 2**70
