"""The stored form of a session stays what earlier versions wrote: workspaces keep
recognising re-imported sessions as duplicates across upgrades."""

from __future__ import annotations

import hashlib
import zlib

import orjson

from reviewer.domain.session import Source
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
