"""Who holds a claim: an owner id naming this process, and whether a holder on this machine has died.

A claim lease outlives a process killed with SIGKILL (or by the OOM killer); until the lease runs
out, nobody would act on the items it held. An owner id names the machine, the PID namespace and
the process, so a process on the same machine can tell that the holder is gone and take over at
once. Anything it cannot tell for sure (another machine, another PID namespace, an id in another
format) counts as alive: then the lease decides, as before.
"""

from __future__ import annotations

import functools
import os


@functools.cache
def _namespace() -> str:
    """This process's PID namespace (Linux), or "" where there is none to read."""
    try:
        link = os.readlink("/proc/self/ns/pid")  # "pid:[4026531836]"
    except OSError:
        return ""
    return link.partition("[")[2].rstrip("]")


def this_process(tag: object) -> str:
    """An owner id for this process: machine, PID namespace, pid and ``tag`` (which run object)."""
    return f"{os.uname().nodename}:{_namespace()}:{os.getpid()}:{tag}"


def gone(owner: str) -> bool:
    """True when ``owner`` names a process of this machine and PID namespace that no longer runs."""
    parts = owner.split(":")
    if len(parts) != 4:
        return False
    host, namespace, pid, _ = parts
    if host != os.uname().nodename or namespace != _namespace() or not pid.isdigit():
        return False
    if int(pid) == os.getpid():
        return False  # another run object in this very process: alive
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except OSError:  # e.g. PermissionError: it exists, under another user
        return False
    return False
