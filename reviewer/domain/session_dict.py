"""Sessions as plain dicts: the ``Session`` schema with each model turned into a typed dict.

Importing validates canonical records with it: it checks what ``Session`` checks, with the
very field schemas pydantic built for the models (types, constraints, defaults, the tag
rule), and the step rule below, but builds no model objects, which is where most of the
time of ``Session.model_validate`` went. :func:`dump_json` gives what
``Session.model_validate(record).model_dump(mode="json")`` gives. A record it refuses goes
through ``Session`` itself, for the reason to report. Tests hold both paths to the same
answers (tests/domain/test_session_dict.py).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pydantic import BaseModel
from pydantic_core import SchemaSerializer, SchemaValidator, core_schema

from reviewer.domain.session import Role, Session, Step, check_tool_fields

SessionDict = dict[str, Any]


def _check_steps(session: SessionDict) -> None:
    for step in session["steps"]:
        if step["tool_calls"]:
            check_tool_fields(step["role"], step["tool_calls"])


_DICT_RULES: dict[str, Callable[[SessionDict], None]] = {
    f"{Step.__module__}.Step._tool_fields_match_role": _check_steps,
}
"""For each model validator of the session models (by qualified name), the same rule
checked over the whole validated session dict (one loop, not a call per step)."""
_checks: list[Callable[[SessionDict], None]] = []


def _convert(node: Any) -> Any:
    """A copy of a core schema with each model as a typed dict (recursively)."""
    if isinstance(node, list | tuple):
        return type(node)(_convert(x) for x in node)
    if not isinstance(node, dict):
        return node
    kind = node.get("type")
    if kind == "model":
        return _typed_dict(node)
    if kind == "function-after" and node["schema"].get("type") == "model":
        function = node["function"]["function"]
        function = getattr(function, "__func__", function)
        rule = _DICT_RULES.get(f"{function.__module__}.{function.__qualname__}")
        if rule is None:
            raise TypeError(f"no plain-dict version of the model validator {function!r}")
        if rule not in _checks:
            _checks.append(rule)
        return _typed_dict(node["schema"])  # the rule runs after validation, in validate()
    if (
        kind in ("function-before", "function-wrap", "function-plain")
        and node.get("schema", {}).get("type") == "model"
    ):
        raise TypeError("model validators other than 'after' have no plain-dict version")
    converted = {key: _convert(value) for key, value in node.items()}
    if kind == "default":
        # A model as default (``Field(default_factory=Source)``) becomes the same as a dict.
        factory = node.get("default_factory")
        if isinstance(factory, type) and issubclass(factory, BaseModel):
            converted["default_factory"] = lambda: factory().model_dump()
        elif isinstance(node.get("default"), BaseModel):
            raise TypeError("a model instance as a default has no plain-dict version")
    return converted


def _typed_dict(model: dict[str, Any]) -> core_schema.TypedDictSchema:
    fields = model["schema"]
    if fields.get("type") != "model-fields" or fields.get("computed_fields"):
        raise TypeError(f"cannot turn {model.get('cls')!r} into a plain dict")
    config = model.get("config", {})
    return core_schema.typed_dict_schema(
        {
            name: core_schema.typed_dict_field(
                _convert(field["schema"]), required=field["schema"]["type"] != "default"
            )
            for name, field in fields["fields"].items()
        },
        extra_behavior=config.get("extra_fields_behavior", "ignore"),
        ref=model.get("ref"),
    )


_SCHEMA = _convert(Session.__pydantic_core_schema__)
_VALIDATOR = SchemaValidator(_SCHEMA)
_SERIALIZER = SchemaSerializer(_SCHEMA)


def validate(value: Any) -> SessionDict:
    """The session ``value`` holds, as a plain dict with defaults filled in (``Role`` and
    datetime values as in a ``Session``); raises ``ValueError`` (pydantic's
    ``ValidationError`` is one) when ``Session`` would refuse it."""
    result: SessionDict = _VALIDATOR.validate_python(value)
    for check in _checks:
        check(result)
    return result


def dump_json(session: SessionDict) -> dict[str, Any]:
    """JSON-ready values of a validated session dict, as ``model_dump(mode="json")``."""
    result: dict[str, Any] = _SERIALIZER.to_python(session, mode="json")
    return result


def summary(session: SessionDict) -> dict[str, Any]:
    """:func:`reviewer.domain.session.session_summary` of a validated session dict."""
    tool_calls = 0
    tool_error = False
    for step in session["steps"]:
        if step["tool_calls"]:
            tool_calls += len(step["tool_calls"])
        if step["is_error"] and step["role"] is Role.TOOL:
            tool_error = True
    agent, metrics, signals = session["agent"], session["metrics"], session["signals"]
    return {
        "agent_name": agent["name"],
        "agent_version": agent["version"],
        "model": session["model"],
        "started_at": session["started_at"],
        "ended_at": session["ended_at"],
        "step_count": len(session["steps"]),
        "tool_call_count": tool_calls,
        "has_tool_error": tool_error,
        "input_tokens": metrics["input_tokens"],
        "output_tokens": metrics["output_tokens"],
        "cost_usd": metrics["cost_usd"],
        "latency_ms": metrics["latency_ms"],
        "user_feedback": signals["user_feedback"],
        "escalated": signals["escalated"],
        "task_success": signals["task_success"],
    }


def first_user_text(session: SessionDict) -> str | None:
    """The start of the first user message (as the store's ``first_user_text``)."""
    for step in session["steps"]:
        if step["role"] is Role.USER and step["content"].strip():
            return " ".join(step["content"].split())[:300]
    return None
