"""A long session fills the transcript a slice at a time: the window keeps answering while
its cards go in, and every card, mark and verdict tint is there once it is complete."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QTimer
from pytestqt.qtbot import QtBot

from reviewer.domain.session import Role, Session, Step
from reviewer.ui import transcript
from reviewer.ui.transcript import TranscriptView
from reviewer.ui.transcript_plan import build_plan
from tests.helpers.factories import make_session

STEPS = 300


def _long_session(key: str = "long") -> Session:
    steps = [
        Step(role=(Role.USER, Role.ASSISTANT)[i % 2], content=f"step {i}: " + "word " * 400)
        for i in range(STEPS)
    ]
    return make_session(key).model_copy(update={"steps": steps})


@pytest.fixture
def view(qtbot: QtBot) -> TranscriptView:
    v = TranscriptView()
    qtbot.addWidget(v)
    v.resize(540, 700)
    v.show()
    return v


def test_a_long_session_goes_in_over_several_turns_of_the_event_loop(
    qtbot: QtBot, view: TranscriptView, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(transcript, "SLICE_SECONDS", 0.0)  # one card per turn
    session = _long_session()
    turns: list[int] = []
    ticker = QTimer()
    ticker.setInterval(0)
    ticker.timeout.connect(lambda: turns.append(len(view._placed)))
    ticker.start()
    view.show_session(session, build_plan(session))
    first = len(view._placed)
    assert 0 < first < STEPS and not view.complete, "the first screenful shows at once"
    with qtbot.waitSignal(view.rendered, timeout=10_000):
        pass
    ticker.stop()
    assert len([n for n in turns if n < STEPS]) > 10, "other events ran between the slices"
    text = view.toPlainText()
    assert view.complete and len(view._placed) == STEPS
    positions = [text.index(f"step {i}: ") for i in range(STEPS)]
    assert positions == sorted(positions), "cards in step order"
    assert view.step_at(view._placed[-1].body_start) == STEPS - 1


def test_marks_and_verdict_tints_given_while_filling_show_once_complete(
    qtbot: QtBot, view: TranscriptView, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(transcript, "SLICE_SECONDS", 0.0)
    session = _long_session()
    view.show_session(session, build_plan(session))
    view.set_verdicts({STEPS - 2: "good"})
    view.mark_step(STEPS - 1)  # not in the document yet
    with qtbot.waitSignal(view.rendered, timeout=10_000):
        pass
    marked = {s.cursor.position() for s in view.extraSelections()}
    assert marked == {view._placed[STEPS - 2].start, view._placed[STEPS - 1].start}


def test_another_session_opened_mid_fill_replaces_the_first(
    qtbot: QtBot, view: TranscriptView, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(transcript, "SLICE_SECONDS", 0.0)
    first, second = _long_session("first"), make_session("second", text="the second one")
    view.show_session(first, build_plan(first))
    assert not view.complete
    with qtbot.waitSignal(view.rendered, timeout=10_000):
        view.show_session(second, build_plan(second))
    turns = [0]
    ticker = QTimer()
    ticker.setInterval(0)
    ticker.timeout.connect(lambda: turns.__setitem__(0, turns[0] + 1))
    ticker.start()
    qtbot.waitUntil(lambda: turns[0] >= 20)  # a stale slice of the first would land by now
    ticker.stop()
    assert "the second one" in view.toPlainText()
    assert "step 1: " not in view.toPlainText()
    assert len(view._placed) == len(second.steps)


def test_a_timer_gets_its_turn_after_each_slice(
    qtbot: QtBot, view: TranscriptView, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Slices go through a timer: calls posted one after another ran back to back in one
    turn of the event loop, so a timer (a blinking cursor, a key repeat) waited 20–30 ms."""
    monkeypatch.setattr(transcript, "SLICE_SECONDS", 0.0)  # one card per slice
    session = _long_session()
    ticks: list[int] = []
    ticker = QTimer()
    ticker.setInterval(1)
    ticker.timeout.connect(lambda: ticks.append(len(view._placed)))
    ticker.start()
    with qtbot.waitSignal(view.rendered, timeout=10_000):
        view.show_session(session, build_plan(session))
    ticker.stop()
    assert len(ticks) > 0.8 * STEPS, f"{len(ticks)} ticks for {STEPS} slices"


def test_the_scroll_bar_grows_while_cards_go_in_below_the_view(
    qtbot: QtBot, view: TranscriptView, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(transcript, "SLICE_SECONDS", 0.0)
    session = _long_session()
    bar = view.verticalScrollBar()
    ranges: list[int] = []
    bar.rangeChanged.connect(lambda _lo, hi: ranges.append(hi))
    with qtbot.waitSignal(view.rendered, timeout=10_000):
        view.show_session(session, build_plan(session))
    assert len(ranges) > 10 and ranges == sorted(ranges), "longer with every slice"
    bar.setValue(bar.maximum())
    assert view.step_at(view.cursorForPosition(view.viewport().rect().center()).position()) in (
        STEPS - 2,
        STEPS - 1,
    ), "the end of the scroll bar shows the last cards"


def test_the_cards_of_later_steps_follow_the_first_ones(qtbot: QtBot, view: TranscriptView) -> None:
    session = _long_session()
    view.show_session(session, build_plan(session, stop=20), more=True)
    qtbot.waitUntil(lambda: len(view._placed) == 20)
    assert not view.complete, "more to come"
    view.add_cards(make_session("other"), build_plan(make_session("other")))  # a stale one
    with qtbot.waitSignal(view.rendered, timeout=10_000):
        view.add_cards(session, build_plan(session, start=20))
    text = view.toPlainText()
    assert view.complete and len(view._placed) == STEPS
    positions = [text.index(f"step {i}: ") for i in range(STEPS)]
    assert positions == sorted(positions), "cards in step order"
    assert [p.card.step for p in view._placed] == list(range(STEPS))
