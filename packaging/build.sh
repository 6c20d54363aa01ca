#!/usr/bin/env bash
# Build the one-folder desktop app into dist/AgentOpsReviewer and check that it starts.
set -euo pipefail
cd "$(dirname "$0")/.."
python3 -m venv .venv-build
.venv-build/bin/pip install -q . pyinstaller
.venv-build/bin/pyinstaller --noconfirm --clean --distpath dist --workpath build \
    packaging/agentops-reviewer.spec
dist/AgentOpsReviewer/AgentOpsReviewer --version
QT_QPA_PLATFORM=offscreen dist/AgentOpsReviewer/AgentOpsReviewer --smoke
echo "built dist/AgentOpsReviewer (desktop file and AppStream metadata in packaging/)"
