"""A real X server for end-to-end tests: Xvfb, with xdotool as the keyboard.

Where Xvfb or xdotool is missing and the tests run as root on a system with apt-get (as CI
does), they are installed here, with the libraries Qt's xcb plugin needs; anywhere else the
tests are skipped with the reason.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator

import pytest

from reviewer.ui.platform_help import DEBIAN_PACKAGES

TOOLS = {"Xvfb": "xvfb", "xdotool": "xdotool"}
"""Programs the tests need, and the Debian package of each."""
APT_TIMEOUT_S = 900


def _missing() -> list[str]:
    return [tool for tool in TOOLS if shutil.which(tool) is None]


def _install_with_apt() -> str:
    """Install the tools and Qt's libraries with apt-get; '' when done, else why not."""
    if not hasattr(os, "geteuid") or os.geteuid() != 0:
        return "not root, so they cannot be installed here"
    if shutil.which("apt-get") is None:
        return "no apt-get to install them with"
    packages = [*TOOLS.values(), *DEBIAN_PACKAGES]
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    for command in (
        ["apt-get", "install", "-y", "-q", "--no-install-recommends", *packages],
        ["apt-get", "update", "-q"],
        ["apt-get", "install", "-y", "-q", "--no-install-recommends", *packages],
    ):
        done = subprocess.run(
            command, env=env, capture_output=True, text=True, timeout=APT_TIMEOUT_S, check=False
        )
        if done.returncode == 0 and command[1] == "install":
            return ""
    return f"apt-get could not install them: {done.stderr.strip()[-300:]}"


@pytest.fixture(scope="session")
def x_display() -> Iterator[str]:
    """The DISPLAY of a fresh Xvfb server (installed first where missing and possible)."""
    if _missing():
        why = _install_with_apt()
        if _missing():
            pytest.skip(f"needs {', '.join(_missing())} (Debian: xvfb, xdotool): {why}")
    read_fd, write_fd = os.pipe()
    server = subprocess.Popen(
        ["Xvfb", "-displayfd", str(write_fd), "-screen", "0", "1400x900x24", "-nolisten", "tcp"],
        pass_fds=(write_fd,),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    os.close(write_fd)
    with os.fdopen(read_fd) as announced:
        number = announced.readline().strip()  # Xvfb writes it once it accepts clients
    if not number:
        server.kill()
        server.wait()
        pytest.skip("Xvfb did not start")
    try:
        yield f":{number}"
    finally:
        server.terminate()
        server.wait(timeout=10)
