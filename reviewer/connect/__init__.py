"""Clients of running tracing systems (Phoenix, Langfuse, LangSmith): HTTP only, no store."""
