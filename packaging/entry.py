"""Entry point of the packaged app: the `reviewer` command, plus `--smoke`.

`AgentOpsReviewer --smoke` opens the main window offscreen on a small demo workspace and
exits 0 when it showed sessions; `--version` prints the version.
"""

from __future__ import annotations

import sys


def main() -> int:
    args = sys.argv[1:]
    if args == ["--smoke"]:
        from reviewer.ui.app import smoke

        return smoke()
    if not args:
        from reviewer.ui.app import run_app

        return run_app()
    from reviewer.cli import main as cli

    cli()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
