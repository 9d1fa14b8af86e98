"""Scratch folders for tests and benchmarks that are gone when the process ends.

Some folders cannot be pytest's `tmp_path` (an embedded server runs as another system user
under root and needs a traversable parent; the tests' own home is set before pytest
starts). Made with `tempfile.mkdtemp` alone they stayed behind: a benchmark run left
375 MB of journal, a test session 150 MB of caches (pip's, in its home), until the disk
was full.
"""

from __future__ import annotations

import atexit
import shutil
import tempfile


def scratch_dir(prefix: str) -> str:
    """A new folder in the system's temporary folder, removed when this process exits."""
    path = tempfile.mkdtemp(prefix=prefix)
    atexit.register(shutil.rmtree, path, ignore_errors=True)
    return path
