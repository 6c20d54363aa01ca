"""What to say when Qt's window-system plugin cannot load: one message naming the packages.

Qt ends the process (``qFatal`` then ``abort``) when no platform plugin can start; a message
handler installed before the ``QApplication`` is made turns that into this message and exit
code 2. The package lists are the ones the README shows next to its two commands.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from PySide6.QtCore import QMessageLogContext, QtMsgType, qInstallMessageHandler

EXIT_NO_WINDOW_SYSTEM = 2

DEBIAN_PACKAGES = (
    "libxcb-cursor0",
    "libxcb-icccm4",
    "libxcb-keysyms1",
    "libxkbcommon-x11-0",
    "libxcb-image0",
    "libxcb-render-util0",
    "libxcb-shape0",
    "libxcb-randr0",
    "libegl1",
    "fonts-dejavu-core",
)
"""Debian/Ubuntu packages Qt's xcb plugin needs beyond a minimal system."""
FEDORA_PACKAGES = (
    "xcb-util-cursor",
    "xcb-util-wm",
    "xcb-util-keysyms",
    "libxkbcommon-x11",
    "xcb-util-image",
    "xcb-util-renderutil",
    "libxcb",
    "mesa-libEGL",
    "dejavu-sans-fonts",
)
"""The same set under Fedora's names."""


def no_window_system_message(qt_says: list[str], env: dict[str, str] | None = None) -> str:
    """The one message shown instead of Qt's abort."""
    env = dict(os.environ) if env is None else env
    platform = env.get("QT_QPA_PLATFORM", "")
    reason = next((m.strip() for m in qt_says if m.strip()), "no reason given")
    lines = [
        "error: the window cannot open: Qt could not load its window-system plugin"
        + (f" '{platform}'" if platform else "")
        + f" ({reason.splitlines()[0]})."
    ]
    no_display = not env.get("DISPLAY") and not env.get("WAYLAND_DISPLAY")
    if no_display and sys.platform == "linux" and platform in ("", "xcb", "wayland"):
        lines.append(
            "No display is set (DISPLAY and WAYLAND_DISPLAY are empty): run it on a desktop "
            "or under a virtual X server (xvfb-run)."
        )
    lines += [
        "Qt needs these system packages:",
        "  Debian/Ubuntu: sudo apt-get install " + " ".join(DEBIAN_PACKAGES),
        "  Fedora:        sudo dnf install " + " ".join(FEDORA_PACKAGES),
    ]
    return "\n".join(lines)


@contextmanager
def window_system_or_exit(
    exit_: Callable[[int], object] = os._exit,
) -> Iterator[None]:
    """While the ``QApplication`` is made: a plugin failure prints the message and exits 2.

    Qt's own lines about it are kept back (the message says what they said), and the
    handler is removed again once the application exists.
    """
    said: list[str] = []

    def handler(kind: QtMsgType, _context: QMessageLogContext, text: str) -> None:
        if kind == QtMsgType.QtFatalMsg:
            sys.stderr.write(no_window_system_message(said or [text]) + "\n")
            sys.stderr.flush()
            exit_(EXIT_NO_WINDOW_SYSTEM)  # Qt aborts right after this handler returns
        said.append(text)

    previous = qInstallMessageHandler(handler)
    try:
        yield
    finally:
        qInstallMessageHandler(previous)
        for text in said:  # warnings of a start that went well are not swallowed
            if "propagateSizeHints" not in text:
                sys.stderr.write(text + "\n")
