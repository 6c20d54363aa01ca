"""Send agent traces to an MLflow tracking server the way a team's MLflow-traced agent does.

Run with the Python of the server's environment (it has mlflow and openai):
``python send_mlflow_traces.py TRACKING_URL EXPERIMENT FIRST COUNT``. Each trace is an agent
turn: an ``@mlflow.trace`` agent function (its session in the trace metadata) around real
OpenAI client calls traced by ``mlflow.openai.autolog()``, answered by a small local Chat
Completions stub: the model asks for the ``lookup_order`` tool, a ``TOOL`` span runs it
(for odd turns it fails: a tool error), and the model answers with what it got. Prints
each trace id.
"""

from __future__ import annotations

import json
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

TOOLS = [
    {
        "type": "function",
        "function": {
            "name": "lookup_order",
            "description": "Where an order is.",
            "parameters": {
                "type": "object",
                "properties": {"order": {"type": "integer"}},
                "required": ["order"],
            },
        },
    }
]


class _FakeOpenAI(BaseHTTPRequestHandler):
    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        last = body["messages"][-1]
        if last["role"] == "tool":
            message: dict[str, Any] = {"role": "assistant", "content": f"Done: {last['content']}"}
            finish = "stop"
        else:
            order = "".join(c for c in last["content"] if c.isdigit())
            args = json.dumps({"order": int(order)})
            call = {
                "id": f"call_{order}",
                "type": "function",
                "function": {"name": "lookup_order", "arguments": args},
            }
            message = {"role": "assistant", "content": None, "tool_calls": [call]}
            finish = "tool_calls"
        answer = {
            "id": "chatcmpl-1",
            "object": "chat.completion",
            "created": 1767225600,
            "model": body["model"],
            "choices": [{"index": 0, "finish_reason": finish, "message": message}],
            "usage": {"prompt_tokens": 12, "completion_tokens": 5, "total_tokens": 17},
        }
        data = json.dumps(answer).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args: object) -> None:
        pass


def main() -> None:
    _, url, experiment, first, count = sys.argv
    server = ThreadingHTTPServer(("127.0.0.1", 0), _FakeOpenAI)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    import mlflow
    from openai import OpenAI

    mlflow.set_tracking_uri(url)
    mlflow.set_experiment(experiment)
    mlflow.openai.autolog()
    client = OpenAI(api_key="sk-test", base_url=f"http://127.0.0.1:{server.server_port}/v1")

    @mlflow.trace(span_type="TOOL")
    def lookup_order(order: int) -> str:
        if order % 2:
            raise LookupError(f"order {order} is not in the warehouse system")
        return f"order {order} ships tomorrow"

    @mlflow.trace(name="agent", span_type="AGENT")
    def agent(i: int) -> str:
        mlflow.update_current_trace(metadata={"mlflow.trace.session": f"conv-{i}"})
        messages: list[dict[str, Any]] = [
            {"role": "system", "content": "You are a support agent."},
            {"role": "user", "content": f"Where is order {i}?"},
        ]
        reply = client.chat.completions.create(model="gpt-4o-mini", messages=messages, tools=TOOLS)
        call = reply.choices[0].message.tool_calls[0]
        try:
            result = lookup_order(**json.loads(call.function.arguments))
        except LookupError as exc:
            result = f"error: {exc}"
        messages.append(reply.choices[0].message.model_dump(exclude_none=True))
        messages.append({"role": "tool", "tool_call_id": call.id, "content": result})
        final = client.chat.completions.create(model="gpt-4o-mini", messages=messages, tools=TOOLS)
        return final.choices[0].message.content or ""

    for i in range(int(first), int(first) + int(count)):
        agent(i)
        print(mlflow.get_last_active_trace_id(), flush=True)
    mlflow.flush_trace_async_logging()
    server.shutdown()


if __name__ == "__main__":
    main()
