"""Use cases shared by the UI and the CLI. Neither calls SQL directly."""
