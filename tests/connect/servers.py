"""Real tracing servers for tests, each in a virtual environment of its own.

Arize Phoenix pulls in some hundred packages (a web server, gRPC, LLM SDKs) that the
reviewer does not need; they would resolve beside our pins today, but keeping them in a
separate environment means no Phoenix release can ever change what the app runs with. The
environment is built once (``pip install arize-phoenix==VERSION``, a few minutes) under
the user cache folder and reused; where it cannot be built or started, the tests that need
it are skipped with the reason.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from platformdirs import user_cache_path

PHOENIX_VERSION = "20.26.1"
MLFLOW_VERSION = "3.17.2"
HERE = Path(__file__).parent
INSTALL_TIMEOUT = 1200
START_TIMEOUT = 120
SENDERS = 4
"""MLflow senders at most at once (see :func:`send_mlflow_traces`)."""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def server_python(name: str, requirement: str) -> Path:
    """The Python of a cached environment holding ``requirement``; skips where it cannot
    be built."""
    if os.environ.get("REVIEWER_TEST_SERVERS") == "0":
        pytest.skip("REVIEWER_TEST_SERVERS=0: tests against real tracing servers are off")
    root = user_cache_path("agentops-reviewer", appauthor=False) / "test-servers"
    env_dir = root / name
    python = env_dir / "bin" / "python"
    if (env_dir / ".complete").exists() and python.exists():
        return python
    building = root / f"{name}.tmp"
    shutil.rmtree(building, ignore_errors=True)
    root.mkdir(parents=True, exist_ok=True)
    try:
        subprocess.run(
            [sys.executable, "-m", "venv", str(building)], check=True, capture_output=True
        )
        subprocess.run(
            [str(building / "bin" / "python"), "-m", "pip", "install", "-q", *requirement.split()],
            check=True,
            capture_output=True,
            timeout=INSTALL_TIMEOUT,
        )
    except (subprocess.SubprocessError, OSError) as exc:
        out = getattr(exc, "stderr", b"") or b""
        pytest.skip(f"cannot install {requirement} for the test server: {exc} {out[-500:]!r}")
    (building / ".complete").touch()
    shutil.rmtree(env_dir, ignore_errors=True)
    building.rename(env_dir)  # run only as `bin/python -m ...`: scripts keep the old path
    return python


@dataclass
class Server:
    url: str
    python: Path
    env: dict[str, str]
    log: Path


@contextmanager
def running(
    python: Path, args: list[str], env: dict[str, str], ready: str, log: Path, url: str
) -> Iterator[Server]:
    """Start a server, wait until its output says ``ready``, stop it at the end."""
    proc = subprocess.Popen(
        [str(python), *args],
        env={**os.environ, **env},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        cwd=log.parent,
        start_new_session=True,  # its workers are stopped with it (MLflow starts several)
    )
    started = threading.Event()
    assert proc.stdout is not None
    out = proc.stdout

    def drain() -> None:
        with log.open("wb") as f:
            for line in out:
                f.write(line)
                f.flush()
                if ready.encode() in line:
                    started.set()

    reader = threading.Thread(target=drain, daemon=True)
    reader.start()
    try:
        if not started.wait(START_TIMEOUT):
            tail = log.read_text(errors="replace")[-2000:]
            pytest.skip(f"the test server did not start in {START_TIMEOUT}s: {tail}")
        yield Server(url=url, python=python, env=env, log=log)
    finally:
        _signal_group(proc, signal.SIGTERM)
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            _signal_group(proc, signal.SIGKILL)
            proc.wait()
        reader.join(5)
        out.close()


def _signal_group(proc: subprocess.Popen[bytes], sig: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, sig)  # the server's own process group (start_new_session)


@contextmanager
def phoenix(workdir: Path) -> Iterator[Server]:
    python = server_python(f"phoenix-{PHOENIX_VERSION}", f"arize-phoenix=={PHOENIX_VERSION}")
    port = free_port()
    env = {
        "PHOENIX_WORKING_DIR": str(workdir),  # SQLite database in here
        "PHOENIX_HOST": "127.0.0.1",
        "PHOENIX_PORT": str(port),
        "PHOENIX_GRPC_PORT": str(free_port()),
        "PHOENIX_TELEMETRY_ENABLED": "false",
    }
    with running(
        python,
        ["-m", "phoenix.server.main", "serve"],
        env,
        "Application startup complete",
        workdir / "server.log",
        f"http://127.0.0.1:{port}",
    ) as server:
        yield server


def send_traces(server: Server, project: str, first: int, count: int) -> list[str]:
    """Send ``count`` agent turns through a real OpenInference-instrumented OpenAI client,
    and wait until the server lists the last one's spans (ingestion is asynchronous and
    in order). Returns the trace ids."""
    done = subprocess.run(
        [
            str(server.python),
            str(HERE / "send_traces.py"),
            "phoenix",
            f"{server.url}/v1/traces",
            project,
            str(first),
            str(count),
        ],
        check=True,
        capture_output=True,
        env={**os.environ, "PHOENIX_TELEMETRY_ENABLED": "false"},
        timeout=120 + count / 20,
    )
    traces = done.stdout.decode().split()
    deadline = time.monotonic() + 60 + count / 50
    while time.monotonic() < deadline:
        r = httpx.get(
            f"{server.url}/v1/projects/{project}/spans/otlpv1",
            params={"trace_id": traces[-1]},
            timeout=10,
        )
        if r.status_code == 200 and len(r.json()["data"]) == 2:  # agent span and LLM span
            return traces
        time.sleep(0.2)  # the server's ingestion queue, not our code: nothing to wait on
    raise AssertionError(f"Phoenix did not list the spans of {project}'s last trace in time")


@contextmanager
def mlflow(workdir: Path) -> Iterator[Server]:
    """``mlflow server`` with an SQLite backend store and artifacts in ``workdir``."""
    python = server_python(f"mlflow-{MLFLOW_VERSION}", f"mlflow=={MLFLOW_VERSION} openai")
    port = free_port()
    env = {
        "MLFLOW_DISABLE_TELEMETRY": "true",
        "DO_NOT_TRACK": "true",
        "MLFLOW_SERVER_ENABLE_JOB_EXECUTION": "false",  # no background job workers
    }
    with running(
        python,
        [
            "-m",
            "mlflow",
            "server",
            "--backend-store-uri",
            f"sqlite:///{workdir / 'mlflow.db'}",
            "--artifacts-destination",
            str(workdir / "artifacts"),
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--workers",
            "1",
        ],
        env,
        "Application startup complete",
        workdir / "server.log",
        f"http://127.0.0.1:{port}",
    ) as server:
        yield server


def send_mlflow_traces(server: Server, experiment: str, first: int, count: int) -> list[str]:
    """Send ``count`` agent turns traced by MLflow (``mlflow.openai.autolog()`` around a
    real OpenAI client, a tool span that fails on odd turns). Returns the trace ids, once
    the server has the last one's spans. Large counts go through several senders at once
    (each a client of its own, as several agent processes would be): one logs a trace at a
    time."""
    senders = max(1, min(SENDERS, count // 500))
    share = -(-count // senders)
    if senders > 1:  # made once here: senders that each create it race
        httpx.post(
            f"{server.url}/api/2.0/mlflow/experiments/create", json={"name": experiment}, timeout=30
        )
    runs = [
        subprocess.Popen(
            [
                str(server.python),
                str(HERE / "send_mlflow_traces.py"),
                server.url,
                experiment,
                str(start),
                str(min(share, first + count - start)),
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            # logged as each trace ends: the async queue drops traces beyond 1,000 waiting
            env={**os.environ, **server.env, "MLFLOW_ENABLE_ASYNC_TRACE_LOGGING": "false"},
        )
        for start in range(first, first + count, share)
    ]
    out = b""
    try:
        for run in runs:
            stdout, stderr = run.communicate(timeout=600 + count)  # a loaded machine: slow
            if run.returncode:
                raise AssertionError(f"sending MLflow traces failed: {stderr.decode()[-2000:]}")
            out += stdout
    finally:
        for run in runs:  # none left sending when one failed
            if run.poll() is None:
                run.kill()
                run.wait()
    traces = [t for t in out.decode().split() if t.startswith("tr-")]
    deadline = time.monotonic() + 60 + count / 50
    while time.monotonic() < deadline:
        r = httpx.get(
            f"{server.url}/api/3.0/mlflow/traces/batchGet",
            params={"trace_ids": traces[-1]},
            timeout=10,
        )
        if r.status_code == 200 and [len(t["spans"]) for t in r.json().get("traces", [])] == [4]:
            return traces
        time.sleep(0.2)  # the client logs traces asynchronously: nothing of ours to wait on
    raise AssertionError(f"MLflow did not have the spans of {experiment}'s last trace in time")
