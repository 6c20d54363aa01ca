"""Message shapes that mix tool results with text and new tool calls in one message."""

from __future__ import annotations

import json
from pathlib import Path

from reviewer.domain.session import UNRECOGNISED, Role, Step
from reviewer.ingest.messages import (
    genai_steps,
    message_steps,
    messages_to_steps,
    system_instructions,
)
from reviewer.services import browse
from reviewer.services.importing import import_paths
from reviewer.store.workspace import Workspace


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


# Each shape below is written as its own documentation shows it (linked in the comment).


def _brief(steps: list[Step]) -> list[tuple[str, str, list[str], str | None, bool]]:
    return [
        (s.role.value, s.content, [c.name for c in s.tool_calls], s.tool_call_id, s.is_error)
        for s in steps
    ]


def test_opentelemetry_genai_parts() -> None:
    # semantic-conventions gen-ai-input-messages.json / gen-ai-output-messages.json
    messages = [
        {
            "role": "user",
            "parts": [
                {"type": "text", "content": "What is on this picture?"},
                {
                    "type": "blob",
                    "modality": "image",
                    "mime_type": "image/png",
                    "content": "iVBORw0KGgo=",
                },
                {"type": "uri", "modality": "image", "uri": "https://example.com/cat.png"},
                {"type": "file", "modality": "document", "file_id": "file-123"},
            ],
        },
        {
            "role": "assistant",
            "parts": [
                {"type": "reasoning", "content": "Look it up first."},
                {
                    "type": "server_tool_call",
                    "id": "ws_1",
                    "name": "web_search",
                    "server_tool_call": {"type": "web_search", "query": "cat breeds"},
                },
                {
                    "type": "server_tool_call_response",
                    "id": "ws_1",
                    "server_tool_call_response": {"type": "web_search", "results": ["tabby"]},
                },
                {"type": "tool_call", "id": "c1", "name": "lookup", "arguments": '{"q": "tabby"}'},
            ],
        },
        {"role": "tool", "parts": [{"type": "tool_call_response", "id": "c1", "result": "a cat"}]},
    ]
    steps = genai_steps(messages)
    # The server tool's result follows the message that made the call.
    assert [s.role for s in steps] == [Role.USER, Role.ASSISTANT, Role.TOOL, Role.TOOL]
    user = steps[0].content
    assert user.startswith("What is on this picture?\n[image image/png, not loaded]")
    assert "iVBOR" not in user and "https://example.com/cat.png" in user and "file-123" in user
    assert steps[2].tool_call_id == "ws_1" and "tabby" in steps[2].content
    assert steps[1].content == "(reasoning) Look it up first."
    assert [(c.name, c.arguments) for c in steps[1].tool_calls] == [
        ("web_search", {"type": "web_search", "query": "cat breeds"}),
        ("lookup", {"q": "tabby"}),
    ]
    assert (steps[3].tool_call_id, steps[3].content) == ("c1", "a cat")
    assert all(UNRECOGNISED not in s.metadata for s in steps)
    [system] = system_instructions([{"type": "text", "content": "Be brief."}])
    assert (system.role, system.content) == (Role.SYSTEM, "Be brief.")


def test_openai_responses_items() -> None:
    # platform.openai.com/docs/api-reference/responses/object (output items)
    items = [
        {"type": "message", "role": "user", "content": [{"type": "input_text", "text": "hi"}]},
        {"type": "reasoning", "id": "rs_1", "summary": [{"type": "summary_text", "text": "plan"}]},
        {
            "type": "web_search_call",
            "id": "ws_1",
            "status": "completed",
            "action": {"type": "search", "query": "news"},
        },
        {"type": "function_call", "call_id": "fc_1", "name": "add", "arguments": '{"a": 1}'},
        {"type": "function_call_output", "call_id": "fc_1", "output": "2"},
        {
            "type": "mcp_call",
            "id": "mcp_1",
            "name": "deploy",
            "arguments": "{}",
            "server_label": "ops",
            "output": None,
            "error": "denied",
        },
        {
            "type": "message",
            "role": "assistant",
            "content": [{"type": "output_text", "text": "done", "annotations": []}],
        },
    ]
    assert _brief(messages_to_steps(items)) == [
        ("user", "hi", [], None, False),
        ("assistant", "(reasoning) plan", [], None, False),
        ("assistant", "", ["web_search"], None, False),
        ("assistant", "", ["add"], None, False),
        ("tool", "2", [], "fc_1", False),
        ("assistant", "", ["deploy"], None, False),
        ("tool", "denied", [], "mcp_1", True),
        ("assistant", "done", [], None, False),
    ]


def test_bedrock_converse_and_gemini_and_vercel_shapes() -> None:
    # docs.aws.amazon.com/bedrock/latest/APIReference/API_runtime_ContentBlock.html
    bedrock = [
        {
            "role": "assistant",
            "content": [
                {"reasoningContent": {"reasoningText": {"text": "need data"}}},
                {"toolUse": {"toolUseId": "t1", "name": "fetch", "input": {"id": 7}}},
            ],
        },
        {
            "role": "user",
            "content": [
                {
                    "toolResult": {
                        "toolUseId": "t1",
                        "content": [{"text": "not found"}],
                        "status": "error",
                    }
                }
            ],
        },
    ]
    assert _brief(messages_to_steps(bedrock)) == [
        ("assistant", "(reasoning) need data", ["fetch"], None, False),
        ("tool", "not found", [], "t1", True),
    ]
    # ai.google.dev/api/caching#Content
    gemini = {
        "contents": [
            {
                "role": "user",
                "parts": [
                    {"text": "see"},
                    {"inlineData": {"mimeType": "image/jpeg", "data": "/9j/4AAQ"}},
                ],
            },
            {
                "role": "model",
                "parts": [
                    {"text": "hmm", "thought": True},
                    {"functionCall": {"name": "zoom", "args": {"x": 2}}},
                ],
            },
            {
                "role": "user",
                "parts": [{"functionResponse": {"name": "zoom", "response": {"ok": True}}}],
            },
        ]
    }
    steps = messages_to_steps(gemini)
    assert _brief(steps)[1:] == [
        ("assistant", "(reasoning) hmm", ["zoom"], None, False),
        ("tool", '{\n  "ok": true\n}', [], "zoom", False),
    ]
    assert steps[0].content == "see\n[inlineData image/jpeg, not loaded]"
    # ai-sdk.dev/docs/reference/ai-sdk-core/model-message (ToolCallPart, ToolResultPart)
    vercel = [
        {
            "role": "assistant",
            "content": [
                {"type": "text", "text": "checking"},
                {"type": "tool-call", "toolCallId": "v1", "toolName": "lookup", "input": {"q": 1}},
            ],
        },
        {
            "role": "tool",
            "content": [
                {
                    "type": "tool-result",
                    "toolCallId": "v1",
                    "toolName": "lookup",
                    "output": {"type": "error-text", "value": "boom"},
                }
            ],
        },
    ]
    assert _brief(messages_to_steps(vercel)) == [
        ("assistant", "checking", ["lookup"], None, False),
        ("tool", "boom", [], "v1", True),
    ]


def test_pydantic_ai_and_langchain_shapes() -> None:
    # pydantic-ai ModelMessagesTypeAdapter dump (ModelRequest / ModelResponse)
    pydantic_ai = [
        {
            "kind": "request",
            "parts": [
                {"part_kind": "system-prompt", "content": "be nice"},
                {"part_kind": "user-prompt", "content": "add 1 and 2"},
            ],
        },
        {
            "kind": "response",
            "parts": [
                {
                    "part_kind": "tool-call",
                    "tool_name": "add",
                    "args": '{"a": 1, "b": 2}',
                    "tool_call_id": "p1",
                }
            ],
        },
        {
            "kind": "request",
            "parts": [
                {
                    "part_kind": "retry-prompt",
                    "tool_name": "add",
                    "content": "b must be > 2",
                    "tool_call_id": "p1",
                }
            ],
        },
        {"kind": "response", "parts": [{"part_kind": "text", "content": "3"}]},
    ]
    assert _brief(messages_to_steps(pydantic_ai)) == [
        ("system", "be nice", [], None, False),
        ("user", "add 1 and 2", [], None, False),
        ("assistant", "", ["add"], None, False),
        ("tool", "b must be > 2", [], "p1", True),
        ("assistant", "3", [], None, False),
    ]
    # LangChain's serialised form (langchain_core.load.dumpd)
    lc = {
        "lc": 1,
        "type": "constructor",
        "id": ["langchain", "schema", "messages", "ToolMessage"],
        "kwargs": {"content": "denied", "tool_call_id": "x1", "status": "error", "type": "tool"},
    }
    assert _brief(messages_to_steps([lc])) == [("tool", "denied", [], "x1", True)]


def test_wrappers_and_python_reprs_are_read_through() -> None:
    # A callback handler's {"args": [...], "kwargs": {...}} and a dict logged with str().
    wrapped = {"args": [[{"role": "user", "content": "hello"}]], "kwargs": {}}
    assert _brief(messages_to_steps(wrapped)) == [("user", "hello", [], None, False)]
    text = "[{'role': 'user', 'content': 'hi there'}]"
    assert _brief(messages_to_steps(text)) == [("user", "hi there", [], None, False)]


def test_an_unknown_part_is_kept_as_pretty_json_with_a_note_and_counted(
    workspace: Workspace, tmp_path: Path
) -> None:
    line = {
        "id": "c1",
        "messages": [
            {
                "role": "user",
                "content": [{"type": "text", "text": "hi"}, {"type": "hologram", "frames": 3}],
            }
        ],
    }
    f = tmp_path / "chat.jsonl"
    f.write_text(json.dumps(line) + "\n")
    summary = import_paths(workspace, [f])
    counted = summary.files[0]
    assert (counted.sessions, counted.unrecognised) == (1, 1)
    assert counted.unrecognised_paths == ["$.messages[0].content[1]"]
    [sid] = browse.session_ids(workspace)
    [step] = browse.get_session(workspace, sid).steps
    assert step.content == 'hi\n(shape not recognised)\n{\n  "type": "hologram",\n  "frames": 3\n}'
    assert "unrecognised" in summary.files[0].counts_text()


def test_messages_logged_as_model_reprs_and_calls_written_as_text() -> None:
    # Agno logs each message as its pydantic model's str(); Koog writes an assistant's
    # tool calls into the content as JSON text and drops the call id from the result.
    agno = [
        "role='user' content='Trending now?' name=None tool_call_id=None tool_calls=None "
        "metrics=MessageMetrics(input_tokens=0, time=None) created_at=1749650492",
        "role='assistant' content=None tool_calls=[{'id': 'c9', 'type': 'function', "
        "'function': {'name': 'search', 'arguments': '{\"q\": \"x=1 y=2\"}'}}]",
        "role='tool' content='no results' tool_call_id='c9' tool_name='search' "
        "tool_call_error=True",
    ]
    assert _brief(messages_to_steps(agno)) == [
        ("user", "Trending now?", [], None, False),
        ("assistant", "", ["search"], None, False),
        ("tool", "no results", [], "c9", True),
    ]
    assert messages_to_steps(agno)[1].tool_calls[0].arguments == {"q": "x=1 y=2"}
    calls = '[{"function":{"name":"Hello","arguments":"{}"},"id":"k1","type":"function"}]'
    koog = [{"role": "tool", "content": calls}, {"role": "tool", "content": "Hi Bob!"}]
    assert _brief(messages_to_steps(koog)) == [
        ("assistant", "", ["Hello"], None, False),
        ("tool", "Hi Bob!", [], "k1", False),
    ]


def test_anthropic_server_tools_and_thinking() -> None:
    # docs.anthropic.com: server_tool_use / web_search_tool_result blocks, thinking blocks
    message = {
        "role": "assistant",
        "content": [
            {"type": "thinking", "thinking": "Search first.", "signature": "abc"},
            {
                "type": "server_tool_use",
                "id": "srv_1",
                "name": "web_search",
                "input": {"query": "weather"},
            },
            {
                "type": "web_search_tool_result",
                "tool_use_id": "srv_1",
                "content": [
                    {"type": "web_search_result", "url": "https://w.example", "title": "W"}
                ],
            },
            {"type": "text", "text": "It is sunny."},
        ],
    }
    steps = message_steps(message)
    assert _brief(steps)[0] == (
        "assistant",
        "(reasoning) Search first.\nIt is sunny.",
        ["web_search"],
        None,
        False,
    )
    # The server tool's result follows the call made in the same message.
    assert (steps[1].role, steps[1].tool_call_id) == (Role.TOOL, "srv_1")
    assert "https://w.example" in steps[1].content
    assert all(UNRECOGNISED not in s.metadata for s in steps)
