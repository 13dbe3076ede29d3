"""Hand memory the process no longer uses back to the operating system.

Two allocators keep freed memory for themselves, and at national scale (40,000 detailed
outlines, a million facility rows) that memory stacks up to the peak:

* Arrow's memory pool (mimalloc or jemalloc) keeps the pages of a decoded GeoParquet or
  CSV file after its columns became pandas/numpy arrays — ~370 MB for a million rows —
  and no other allocator can reuse them;
* glibc gives each thread its own heap ("arena"): what the locating threads freed (the
  prepared outline blocks, ~60 MB each) is reused only by those threads, not by the main
  thread that evaluates next.

:func:`release_unused_memory` asks both to return what is free. It is cheap (10-60 ms
measured at that scale) and called where a large working set has just been dropped: at the
end of the readers and once the facility points are located.
"""

from __future__ import annotations

import ctypes
import sys
from collections.abc import Callable
from functools import cache

__all__ = ["release_unused_memory"]


@cache
def _malloc_trim() -> Callable[[int], int] | None:
    """glibc's ``malloc_trim``, or None elsewhere (macOS, Windows, musl)."""
    if not sys.platform.startswith("linux"):
        return None
    try:  # the symbols already loaded into the process (no ldconfig/gcc lookup)
        return ctypes.CDLL(None).malloc_trim
    except (OSError, AttributeError):
        return None


def release_unused_memory() -> None:
    """Return the free pages of Arrow's pool and of every glibc arena to the system.

    Only memory that is already free is released: nothing in use moves and no result
    changes. Arrow is asked only when it is already imported.
    """
    arrow = sys.modules.get("pyarrow")
    if arrow is not None:
        arrow.default_memory_pool().release_unused()
    trim = _malloc_trim()
    if trim is not None:
        trim(0)
