"""A small fake model server on 127.0.0.1 speaking the OpenAI Chat Completions and the
Anthropic Messages wire formats, for conformance tests that drive the real client libraries.

Each conversation is scripted the same way: the first request is answered with a call to
``get_weather`` for Paris, the next with a call for Atlantis (which the test's tool fails),
then with a final answer; every later request (a new user turn) gets a plain answer.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

FINAL = "Paris is sunny; Atlantis could not be found."
SECOND = "You are welcome."


def _script(messages: list[dict[str, Any]]) -> tuple[str, str | None, dict[str, Any] | None]:
    """(kind, text, call) for the request's history: counts the tool results so far and
    whether the last message is a user turn after an answer."""
    results = 0
    for m in messages:
        if m.get("role") == "tool":
            results += 1
        content = m.get("content")
        if isinstance(content, list):
            results += sum(
                1 for b in content if isinstance(b, dict) and b.get("type") == "tool_result"
            )
    answered = any(
        m.get("role") == "assistant" and isinstance(m.get("content"), str) and m["content"] == FINAL
        for m in messages
    ) or any(
        m.get("role") == "assistant"
        and isinstance(m.get("content"), list)
        and any(isinstance(b, dict) and b.get("text") == FINAL for b in m["content"])
        for m in messages
    )
    if answered:
        return "text", SECOND, None
    if results == 0:
        return "call", None, {"id": "call_paris", "city": "Paris"}
    if results == 1:
        return "call", None, {"id": "call_atlantis", "city": "Atlantis"}
    return "text", FINAL, None


def _openai(body: dict[str, Any]) -> dict[str, Any]:
    _, text, call = _script(body.get("messages") or [])
    message: dict[str, Any] = {"role": "assistant", "content": text}
    if call is not None:
        message["tool_calls"] = [
            {
                "id": call["id"],
                "type": "function",
                "function": {
                    "name": "get_weather",
                    "arguments": json.dumps({"city": call["city"]}),
                },
            }
        ]
    return {
        "id": "chatcmpl-1",
        "object": "chat.completion",
        "created": 1700000000,
        "model": body.get("model", "fake-model"),
        "choices": [
            {
                "index": 0,
                "message": message,
                "finish_reason": "tool_calls" if call else "stop",
            }
        ],
        "usage": {"prompt_tokens": 10, "completion_tokens": 5, "total_tokens": 15},
    }


def _anthropic(body: dict[str, Any]) -> dict[str, Any]:
    _, text, call = _script(body.get("messages") or [])
    content: list[dict[str, Any]] = []
    if call is not None:
        content.append(
            {
                "type": "tool_use",
                "id": call["id"],
                "name": "get_weather",
                "input": {"city": call["city"]},
            }
        )
    else:
        content.append({"type": "text", "text": text})
    return {
        "id": "msg_1",
        "type": "message",
        "role": "assistant",
        "model": body.get("model", "fake-model"),
        "content": content,
        "stop_reason": "tool_use" if call else "end_turn",
        "stop_sequence": None,
        "usage": {"input_tokens": 10, "output_tokens": 5},
    }


class _Handler(BaseHTTPRequestHandler):
    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = json.loads(self.rfile.read(length) or b"{}")
        if self.path.endswith("/chat/completions"):
            out = _openai(body)
        elif self.path.endswith("/messages"):
            out = _anthropic(body)
        else:
            self.send_error(404)
            return
        data = json.dumps(out).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: Any) -> None:  # quiet
        return


@contextmanager
def fake_llm_server() -> Iterator[str]:
    """The base URL of a running fake model server (stopped on exit)."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
