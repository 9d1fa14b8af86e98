"""Entry point of the frozen app (PyInstaller runs this file as __main__)."""

import os
import sys

# The Windows GUI executable (console=False) has no stdout or stderr: Python sets them to
# None, and a print() or a warning would raise. Send them nowhere instead; the window
# logs to its log file, and pgwatch-gui-cli.exe is the command line with a console.
for _name in ("stdout", "stderr"):
    if getattr(sys, _name) is None:
        setattr(sys, _name, open(os.devnull, "w", encoding="utf-8"))  # noqa: SIM115

from pgwatch_gui.cli import console_main  # noqa: E402  (after the streams exist)

if __name__ == "__main__":
    console_main()
