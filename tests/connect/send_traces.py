"""Send agent traces to a tracing server the way a team's instrumented agent does.

Run with the Python of the server's environment (it has the OpenInference and OpenTelemetry
packages): ``python send_traces.py phoenix ENDPOINT PROJECT FIRST COUNT``. Each trace is an
agent turn: a root ``agent`` chain span (with ``session.id``) around a real OpenAI client
call, instrumented by OpenInference, answered by a small local Chat Completions stub.
"""

from __future__ import annotations

import json
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class _FakeOpenAI(BaseHTTPRequestHandler):
    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        question = body["messages"][-1]["content"]
        answer = {
            "id": "chatcmpl-1",
            "object": "chat.completion",
            "created": 1767225600,
            "model": body["model"],
            "choices": [
                {
                    "index": 0,
                    "finish_reason": "stop",
                    "message": {"role": "assistant", "content": f"Answer to: {question}"},
                }
            ],
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
    _, kind, endpoint, project, first, count = sys.argv
    server = ThreadingHTTPServer(("127.0.0.1", 0), _FakeOpenAI)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    from openai import OpenAI
    from openinference.instrumentation import using_session
    from openinference.instrumentation.openai import OpenAIInstrumentor
    from opentelemetry.sdk.trace import TracerProvider

    assert kind == "phoenix"
    from phoenix.otel import register

    provider: TracerProvider = register(
        project_name=project, endpoint=endpoint, batch=True, set_global_tracer_provider=False
    )
    OpenAIInstrumentor().instrument(tracer_provider=provider)
    tracer = provider.get_tracer("support-agent")
    client = OpenAI(api_key="sk-test", base_url=f"http://127.0.0.1:{server.server_port}/v1")
    for i in range(int(first), int(first) + int(count)):
        # using_session puts session.id on every span of the turn, the LLM span included
        with (
            using_session(f"conv-{i}"),
            tracer.start_as_current_span(
                "agent",
                attributes={
                    "openinference.span.kind": "CHAIN",
                    "input.value": f"Where is order {i}?",
                },
            ) as span,
        ):
            reply = client.chat.completions.create(
                model="gpt-4o-mini",
                messages=[
                    {"role": "system", "content": "You are a support agent."},
                    {"role": "user", "content": f"Where is order {i}?"},
                ],
            )
            span.set_attribute("output.value", reply.choices[0].message.content or "")
            print(format(span.get_span_context().trace_id, "032x"), flush=True)
    provider.force_flush()
    provider.shutdown()
    server.shutdown()


if __name__ == "__main__":
    main()
