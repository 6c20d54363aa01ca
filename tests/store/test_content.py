"""The stored form of a session stays what earlier versions wrote: workspaces keep
recognising re-imported sessions as duplicates across upgrades."""

from __future__ import annotations

import hashlib
import zlib

import orjson
import pytest

from reviewer.domain.session import Session, Source, Span
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
    for piece_bytes in (1, 300, 1 << 19):
        monkeypatch.setattr(content, "PIECE_BYTES", piece_bytes)
        for session in sessions:
            stored = prepare_session(session).content
            whole = Session.model_validate_json(zlib.decompress(stored))
            decoded = decode_content(stored)
            assert decoded == whole == session
            assert decoded.model_fields_set == whole.model_fields_set


def _look_alike(key: str) -> Session:
    """A session whose nested values hold what lies between steps and spans in the
    stored JSON: a slice cut there would not be whole steps."""
    steps = [{"content": "a", "tool_calls": []}, {"content": "b", "tool_calls": []}]
    base = make_session(key)
    calls = [
        c.model_copy(update={"arguments": {"messages": steps}}) for c in base.steps[2].tool_calls
    ]
    return base.model_copy(
        update={
            "tags": ['],"tags":[', "x"],
            "metadata": {"n": {"a": 1, "started_at": None, "steps": steps}, "spans": [{}]},
            "steps": [
                *base.steps[:2],
                base.steps[2].model_copy(update={"tool_calls": calls, "metadata": {"m": steps}}),
                *base.steps[3:],
                base.steps[1].model_copy(update={"content": ']},{"content":"'}),
            ],
            "spans": [
                Span(
                    id="a", name="a", attributes={"a": 1, "spans": [{"attributes": {}}, {"x": 1}]}
                ),
                Span(id="b", name="b", attributes={"l": [{"attributes": 1}, {"attributes": 2}]}),
            ],
        }
    )


def test_a_large_session_whose_values_look_like_the_cuts_reads_back_the_same(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(content, "PIECEWISE_FROM", 0)
    for piece_bytes in (1, 1 << 19):
        monkeypatch.setattr(content, "PIECE_BYTES", piece_bytes)
        for session in (_look_alike("k"), _look_alike("k").model_copy(update={"spans": []})):
            stored = prepare_session(session).content
            decoded = decode_content(stored)
            assert decoded == Session.model_validate_json(zlib.decompress(stored)) == session


def test_a_large_stored_session_with_an_integer_beyond_64_bits_still_reads(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(content, "PIECEWISE_FROM", 0)
    session = make_session("big-int").model_copy(update={"metadata": {"n": 2**70}})
    stored = zlib.compress(session.model_dump_json().encode())  # orjson cannot read it
    assert decode_content(stored).metadata["n"] == 2**70
