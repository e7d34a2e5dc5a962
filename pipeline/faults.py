"""Fault injection for the crash tests: `PIPELINE_KILL_AT=<point>` makes the run kill itself there.

The kill is a real SIGKILL (what `kill -9` or the OOM killer does): no cleanup, no finally blocks.
`<point>:INT` sends SIGINT to the whole process group instead, as Ctrl-C in a terminal does.
Points: read (after the first document is processed), dedup (before merging), write (after the first
corpus file is written), swap (just before the new corpus is swapped in).
"""

from __future__ import annotations

import os
import signal

ENV = "PIPELINE_KILL_AT"


def checkpoint(point: str) -> None:
    wanted = os.environ.get(ENV)
    if wanted == point:
        os.kill(os.getpid(), signal.SIGKILL)
    elif wanted == f"{point}:INT":
        os.killpg(os.getpgrp(), signal.SIGINT)
