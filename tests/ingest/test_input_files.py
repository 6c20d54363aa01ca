"""Only regular files are imported; standard input only when `-` asks for it, with a bounded
wait. Nothing hangs on a device or a FIFO."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from reviewer.cli import main
from reviewer.services.input_files import InputError, spool_stdin
from reviewer.services.workspaces import init_workspace
from reviewer.synth.generator import write_jsonl

posix = pytest.mark.skipif(sys.platform == "win32", reason="devices and FIFOs of POSIX")


@pytest.fixture
def ws(tmp_path: Path) -> str:
    path = tmp_path / "ws.sqlite"
    init_workspace(path).close()
    return str(path)


@posix
@pytest.mark.parametrize("fmt", ["auto", "canonical"])
def test_a_device_or_a_fifo_without_writer_is_refused_at_once(
    ws: str, tmp_path: Path, fmt: str
) -> None:
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    good = tmp_path / "s.jsonl"
    write_jsonl(good, 2, 1)
    result = CliRunner().invoke(
        main, ["import", ws, "/dev/zero", str(fifo), str(good), "--format", fmt]
    )
    assert result.exit_code == 3, result.output  # the regular file still went in
    assert "/dev/zero: is a device, not a regular file" in result.output
    assert f"{fifo}: is a FIFO (named pipe), not a regular file" in result.output
    assert "give `-`" in result.output
    assert "total: 2 imported" in result.output


def test_dash_reads_standard_input(ws: str, tmp_path: Path) -> None:
    good = tmp_path / "s.jsonl"
    write_jsonl(good, 3, 1)
    result = CliRunner().invoke(main, ["import", ws, "-"], input=good.read_bytes())
    assert result.exit_code == 0, result.output
    assert "- (canonical): 3 imported" in result.output
    twice = CliRunner().invoke(main, ["import", ws, "-", "-"], input=b"")
    assert twice.exit_code == 2 and "only once" in twice.output


@posix
def test_a_silent_standard_input_is_waited_for_a_bounded_time(tmp_path: Path) -> None:
    read_end, write_end = os.pipe()  # a writer that never writes
    try:
        with (
            os.fdopen(read_end, "rb", buffering=0) as stream,
            pytest.raises(InputError, match="sent nothing for 0 s"),
        ):
            spool_stdin(tmp_path, stream, wait_s=0.2)  # type: ignore[arg-type]
    finally:
        os.close(write_end)
