"""What machine a benchmark ran on: the part both benchmarks print."""

from __future__ import annotations

import contextlib
import os
import platform
from typing import Any


def host_info() -> dict[str, Any]:
    """CPU count and model, memory, Python, kernel and load, read from /proc and platform."""
    cpu_model = ""
    with contextlib.suppress(OSError), open("/proc/cpuinfo", encoding="utf-8") as f:
        for line in f:
            if line.startswith("model name"):
                cpu_model = line.split(":", 1)[1].strip()
                break
    mem_gib = None
    with contextlib.suppress(OSError, ValueError), open("/proc/meminfo", encoding="utf-8") as f:
        mem_gib = round(int(f.readline().split()[1]) / 1024 / 1024, 1)
    return {"nproc": os.cpu_count(), "cpu_model": cpu_model, "memory_gib": mem_gib,
            "python": platform.python_version(), "python_implementation": platform.python_implementation(),
            "kernel": platform.release(), "loadavg_at_start": list(os.getloadavg())}
