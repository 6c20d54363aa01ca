"""Applications that record an agent conversation with real instrumentation libraries, as a
user's would, for the conformance tests. Each runs in a fresh process (instrumentation
patches client libraries process-wide and reads its settings from the environment once):

    python -m tests.helpers.recorders NAME OUT_DIR BASE_URL

writes ``OUT_DIR/spans.jsonl`` (and ``logs.jsonl`` where the library emits log events)
through OpenTelemetry's OTLP encoders and a ``SimpleSpanProcessor``: one span per line, the
root span of each turn last.

The conversation (against :mod:`tests.helpers.fake_llm`): a system prompt; the user asks
for the weather in Paris and Atlantis; the model calls ``get_weather`` for Paris (it
answers) and for Atlantis (it fails); the model answers; the user thanks it and the model
answers again. Two turns, one trace each, one conversation id.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

SYSTEM = "You are a weather bot."
QUESTION = "Weather in Paris and Atlantis?"
THANKS = "Thanks!"
CONVERSATION = "conv-42"
TOOLS = [
    {
        "type": "function",
        "function": {
            "name": "get_weather",
            "description": "The weather in a city.",
            "parameters": {
                "type": "object",
                "properties": {"city": {"type": "string"}},
                "required": ["city"],
            },
        },
    }
]


def get_weather(city: str) -> str:
    if city == "Atlantis":
        raise ValueError("unknown city: Atlantis")
    return "sunny, 21°C"


def _tracing(out: Path) -> Any:
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor

    from tests.helpers.otlp_files import OtlpJsonSpanFile

    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(OtlpJsonSpanFile(out / "spans.jsonl")))
    return provider


def _logging(out: Path) -> Any:
    from opentelemetry.sdk._logs import LoggerProvider
    from opentelemetry.sdk._logs.export import SimpleLogRecordProcessor

    from tests.helpers.otlp_files import OtlpJsonLogFile

    provider = LoggerProvider()
    provider.add_log_record_processor(SimpleLogRecordProcessor(OtlpJsonLogFile(out / "logs.jsonl")))
    return provider


def _chat_loop(base_url: str, tracer: Any, turn_attrs: dict[str, Any], tool_attrs: Any) -> None:
    """The conversation with the real ``openai`` client, each turn under an agent span and
    each tool run under a tool span (``tool_attrs(name, call_id)`` gives its attributes)."""
    import openai
    from opentelemetry.trace import Status, StatusCode

    client = openai.OpenAI(base_url=base_url + "/v1", api_key="test-key")
    messages: list[dict[str, Any]] = [{"role": "system", "content": SYSTEM}]
    for question in (QUESTION, THANKS):
        messages.append({"role": "user", "content": question})
        with tracer.start_as_current_span("invoke_agent weather-bot", attributes=turn_attrs):
            while True:
                reply = client.chat.completions.create(
                    model="gpt-fake", messages=messages, tools=TOOLS
                )
                message = reply.choices[0].message
                messages.append(message.model_dump(exclude_none=True))
                if not message.tool_calls:
                    break
                for call in message.tool_calls:
                    name = call.function.name
                    with tracer.start_as_current_span(
                        f"execute_tool {name}", attributes=tool_attrs(name, call.id)
                    ) as span:
                        try:
                            result = get_weather(**json.loads(call.function.arguments))
                        except ValueError as exc:
                            span.record_exception(exc)
                            span.set_status(Status(StatusCode.ERROR, str(exc)))
                            span.set_attribute("error.type", type(exc).__qualname__)
                            result = f"error: {exc}"
                    messages.append({"role": "tool", "tool_call_id": call.id, "content": result})


def openai_v2(out: Path, base_url: str) -> None:
    """``opentelemetry-instrumentation-openai-v2``, latest GenAI conventions, content on
    spans and in log events (set in the environment by the caller)."""
    from opentelemetry.instrumentation.openai_v2 import OpenAIInstrumentor

    tracing, logging = _tracing(out), _logging(out)
    OpenAIInstrumentor().instrument(tracer_provider=tracing, logger_provider=logging)
    tracer = tracing.get_tracer("weather-app")
    _chat_loop(
        base_url,
        tracer,
        {
            "gen_ai.operation.name": "invoke_agent",
            "gen_ai.agent.name": "weather-bot",
            "gen_ai.conversation.id": CONVERSATION,
        },
        lambda name, call_id: {
            "gen_ai.operation.name": "execute_tool",
            "gen_ai.tool.name": name,
            "gen_ai.tool.call.id": call_id,
        },
    )


def openinference(out: Path, base_url: str) -> None:
    """``openinference-instrumentation-openai`` with the session id OpenInference's
    ``using_session`` puts on every span."""
    from openinference.instrumentation import using_session
    from openinference.instrumentation.openai import OpenAIInstrumentor

    tracing = _tracing(out)
    OpenAIInstrumentor().instrument(tracer_provider=tracing)
    tracer = tracing.get_tracer("weather-app")
    with using_session(CONVERSATION):
        _chat_loop(
            base_url,
            tracer,
            {"openinference.span.kind": "AGENT", "session.id": CONVERSATION},
            lambda name, call_id: {
                "openinference.span.kind": "TOOL",
                "tool.name": name,
                "session.id": CONVERSATION,
            },
        )


def pydantic_ai(out: Path, base_url: str) -> None:
    """pydantic-ai's own OpenTelemetry instrumentation, a tool that fails with
    ``ModelRetry`` (the model is told and tries again)."""
    from pydantic_ai import Agent, ModelRetry
    from pydantic_ai.models.instrumented import InstrumentationSettings
    from pydantic_ai.models.openai import OpenAIChatModel
    from pydantic_ai.providers.openai import OpenAIProvider

    tracing = _tracing(out)
    model = OpenAIChatModel(
        "gpt-fake", provider=OpenAIProvider(base_url=base_url + "/v1", api_key="test-key")
    )
    agent = Agent(model, system_prompt=SYSTEM, name="weather-bot")
    agent.instrument = InstrumentationSettings(tracer_provider=tracing, include_content=True)

    @agent.tool_plain(name="get_weather")
    def get_weather_tool(city: str) -> str:
        try:
            return get_weather(city)
        except ValueError as exc:
            raise ModelRetry(str(exc)) from exc

    tracer = tracing.get_tracer("weather-app")
    history = None
    for question in (QUESTION, THANKS):
        with tracer.start_as_current_span(
            "conversation turn", attributes={"gen_ai.conversation.id": CONVERSATION}
        ):
            result = agent.run_sync(question, message_history=history)
        history = result.all_messages()


def openai_agents(out: Path, base_url: str) -> None:
    """The OpenAI Agents SDK with a tracing processor that writes each finished span and
    trace as its ``export()`` gives it (``agents.jsonl``), one per line; the turns share
    the trace ``group_id``."""
    from agents import (
        Agent,
        OpenAIChatCompletionsModel,
        Runner,
        function_tool,
        set_trace_processors,
        trace,
    )
    from agents.tracing import TracingProcessor
    from openai import AsyncOpenAI

    path = out / "agents.jsonl"

    class JsonLines(TracingProcessor):
        def _write(self, item: Any) -> None:
            exported = item.export()
            if exported:
                with path.open("a", encoding="utf-8") as f:
                    f.write(json.dumps(exported) + "\n")

        def on_trace_start(self, trace: Any) -> None:
            return None

        def on_trace_end(self, trace: Any) -> None:
            self._write(trace)

        def on_span_start(self, span: Any) -> None:
            return None

        def on_span_end(self, span: Any) -> None:
            self._write(span)

        def shutdown(self) -> None:
            return None

        def force_flush(self) -> None:
            return None

    set_trace_processors([JsonLines()])
    client = AsyncOpenAI(base_url=base_url + "/v1", api_key="test-key")

    @function_tool(name_override="get_weather")
    def weather(city: str) -> str:
        """The weather in a city."""
        return get_weather(city)

    agent = Agent(
        name="weather-bot",
        instructions=SYSTEM,
        tools=[weather],
        model=OpenAIChatCompletionsModel(model="gpt-fake", openai_client=client),
    )
    history: list[Any] = []
    for question in (QUESTION, THANKS):
        with trace("weather", group_id=CONVERSATION):
            result = Runner.run_sync(agent, [*history, {"role": "user", "content": question}])
        history = result.to_input_list()


RECORDERS = {
    "openai_v2": openai_v2,
    "openinference": openinference,
    "pydantic_ai": pydantic_ai,
    "openai_agents": openai_agents,
}


if __name__ == "__main__":
    name, out_dir, url = sys.argv[1:4]
    RECORDERS[name](Path(out_dir), url)
