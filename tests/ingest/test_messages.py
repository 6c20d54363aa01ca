"""Message shapes that mix tool results with text and new tool calls in one message."""

from __future__ import annotations

from reviewer.domain.session import Role
from reviewer.ingest.messages import message_steps, messages_to_steps


def test_results_text_and_new_calls_in_one_message_are_all_kept() -> None:
    # One recorded message that answers the last call and makes the next one (Anthropic
    # content blocks, as some frameworks log a whole turn).
    message = {
        "role": "assistant",
        "content": [
            {"type": "tool_result", "tool_use_id": "tu_1", "content": "3 results"},
            {"type": "text", "text": "Found them; now the prices."},
            {"type": "tool_use", "id": "tu_2", "name": "prices", "input": {"ids": [1, 2, 3]}},
        ],
    }
    steps = message_steps(message)
    assert [s.role for s in steps] == [Role.TOOL, Role.ASSISTANT]
    assert (steps[0].tool_call_id, steps[0].content) == ("tu_1", "3 results")
    assert steps[1].content == "Found them; now the prices."
    [call] = steps[1].tool_calls
    assert (call.id, call.name, call.arguments) == ("tu_2", "prices", {"ids": [1, 2, 3]})


def test_a_user_turn_with_results_and_calls_gives_the_calls_to_the_assistant() -> None:
    # Gemini-style parts: the function response and the model's next call in one turn.
    message = {
        "role": "user",
        "parts": [
            {"function_response": {"name": "lookup", "response": {"status": "shipped"}}},
            {"function_call": {"name": "notify", "args": {"to": "ann"}}},
        ],
    }
    steps = message_steps(message)
    assert [s.role for s in steps] == [Role.TOOL, Role.ASSISTANT]
    assert steps[1].tool_calls[0].name == "notify"


def test_results_with_user_text_keep_the_text_as_the_user_s() -> None:
    steps = messages_to_steps(
        [
            {
                "role": "user",
                "content": [
                    {"type": "tool_result", "tool_use_id": "tu_1", "content": "ok"},
                    {"type": "text", "text": "Thanks, and the refund?"},
                ],
            }
        ]
    )
    assert [(s.role, s.content) for s in steps] == [
        (Role.TOOL, "ok"),
        (Role.USER, "Thanks, and the refund?"),
    ]
    assert steps[1].tool_calls == []


def test_results_alone_are_only_tool_steps() -> None:
    steps = message_steps(
        {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "a", "content": "x"}]}
    )
    assert [s.role for s in steps] == [Role.TOOL]
