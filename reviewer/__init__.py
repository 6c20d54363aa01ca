"""AgentOps Reviewer: human review of recorded AI-agent sessions."""

__version__ = "0.1.0"
