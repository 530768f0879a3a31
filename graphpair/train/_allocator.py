"""The process's CPU heap: keep what torch frees for its next allocation (issue 22).

glibc serves every block above its mmap threshold (at most 32 MiB) with a mapping of its own
and unmaps it when the block is freed. A training step on a large graph allocates and frees
blocks of hundreds of MiB (the ``[N, D]`` activations of a sampled subgraph), so every step
gets its memory as fresh, zeroed pages from the kernel, one page fault per 4 KiB: on the
full-size citation2 stand-in about 6.2 million faults and more kernel than user time a step
(``benchmarks/results/allocator_reuse.md``). :func:`reuse_freed_memory` switches the
mappings and the heap's trimming off, so that freed blocks stay in the heap and the next
step reuses their pages; :func:`release_freed_memory` hands the free pages back once, between
phases (after the data is loaded), so that what the set-up freed does not stay resident for
the whole run.

Both act on glibc (Linux) through ``mallopt`` and ``malloc_trim``; elsewhere they do nothing
and return ``False``. The switch is for the whole process and cannot be undone (glibc's
dynamic threshold does not come back), which is why the library never sets it by itself:
``graphpair link`` and ``graphpair node`` do when asked (``--allocator reuse``), and a script
may call :func:`reuse_freed_memory` first thing. It is not their default: the heap's holes
between live blocks stay resident too, and a full-size citation2 sampled epoch peaked at
about twice the resident memory of one step under glibc's policy (``docs/link.md``).
"""

from __future__ import annotations

import ctypes
import os

__all__ = ["release_freed_memory", "reuse_freed_memory"]

#: ``mallopt`` parameters (glibc's ``malloc.h``).
_M_TRIM_THRESHOLD = -1
_M_MMAP_MAX = -4

_reusing = False


def _glibc() -> ctypes.CDLL | None:
    """glibc, where this process runs on it."""
    try:
        if not os.confstr("CS_GNU_LIBC_VERSION"):
            return None
        return ctypes.CDLL("libc.so.6")
    except (AttributeError, ValueError, OSError):  # not Linux, or not glibc
        return None


def reuse_freed_memory() -> bool:
    r"""Keep the memory this process frees in its heap, for its next allocations.

    Sets glibc's ``M_MMAP_MAX`` to 0 (no block gets a mapping of its own) and
    ``M_TRIM_THRESHOLD`` to -1 (the heap is never trimmed), so a freed block's pages are reused
    instead of being unmapped and faulted in afresh. The process's resident memory then stays
    at its high-water mark, holes left between live blocks included; call
    :func:`release_freed_memory` after a phase whose temporaries are not needed again.

    Returns:
        Whether the setting took effect (``False`` off glibc).

    Example:
        >>> from graphpair.train import reuse_freed_memory
        >>> reuse_freed_memory()  # doctest: +SKIP
        True
    """
    global _reusing
    libc = _glibc()
    if libc is None:
        return False
    done = int(libc.mallopt(_M_MMAP_MAX, 0)) == 1 and int(libc.mallopt(_M_TRIM_THRESHOLD, -1)) == 1
    _reusing = _reusing or done
    return done


def release_freed_memory() -> bool:
    """Hand the heap's free pages back to the kernel (glibc's ``malloc_trim(0)``), once.

    Does nothing unless :func:`reuse_freed_memory` took effect in this process (glibc trims
    by itself otherwise). The runners call it after loading the data and building the model.

    Returns:
        Whether pages were handed back.

    Example:
        >>> import torch
        >>> from graphpair.train import release_freed_memory
        >>> scratch = torch.ones(2**20)  # a set-up's temporary
        >>> del scratch
        >>> isinstance(release_freed_memory(), bool)  # True after reuse_freed_memory()
        True
    """
    if not _reusing:
        return False
    libc = _glibc()
    return libc is not None and int(libc.malloc_trim(0)) == 1
