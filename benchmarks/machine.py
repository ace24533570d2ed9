"""The machine a benchmark ran on, for the line printed under every table: a ratio measured on one
processor says little of another (issue 26), so each names its processor, caches and BLAS.

    python benchmarks/machine.py     # the line alone

Only the standard library at import; NumPy and threadpoolctl are imported when the BLAS is asked for.
"""

from __future__ import annotations

import glob
import os
import platform
import subprocess

CACHES = "/sys/devices/system/cpu/cpu0/cache"
OPENBLAS_VARIABLES = ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE", "OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS")


def processor() -> str:
    """The model name Linux reports (/proc/cpuinfo), with its family and model numbers (a virtual
    machine's name may say only "AMD EPYC"), and the cores this process may use."""
    model = platform.processor() or platform.machine() or "unknown processor"
    try:
        with open("/proc/cpuinfo") as stream:
            fields = dict(line.split(":", 1) for line in stream.read().split("\n\n")[0].splitlines() if ":" in line)
        fields = {name.strip(): value.strip() for name, value in fields.items()}
        model = f"{fields['model name']} (family {fields['cpu family']}, model {fields['model']})"
    except (OSError, KeyError):
        pass
    cores = os.cpu_count()
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else cores
    return f"{model}, {cores} cores ({usable} usable)"


def _size(text: str) -> str:
    """Linux's cache size (32K, 1024K, 32768K) as 32 KiB, 1 MiB, 32 MiB."""
    kib = int(text.rstrip("K"))
    return f"{kib // 1024} MiB" if kib >= 1024 and kib % 1024 == 0 else f"{kib} KiB"


def _read(path: str) -> str:
    with open(path) as stream:
        return stream.read().strip()


def _cpus(listed: str) -> int:
    """How many CPUs a list such as 0-1,4 names."""
    total = 0
    for part in listed.split(","):
        first, _, last = part.partition("-")
        total += int(last or first) - int(first) + 1
    return total


def caches() -> str:
    """Each cache level of the first core, from /sys/devices/system/cpu/cpu0/cache (else `lscpu -C`):
    L1d 32 KiB, L1i 32 KiB, L2 1 MiB, L3 32 MiB shared by 2 cores."""
    described = []
    for index in sorted(glob.glob(os.path.join(CACHES, "index*"))):
        try:
            level, kind, size, shared = (_read(os.path.join(index, name)) for name in ("level", "type", "size", "shared_cpu_list"))
            sharing = _cpus(shared)
        except (OSError, ValueError):
            continue
        name = f"L{level}" + {"Data": "d", "Instruction": "i"}.get(kind, "")
        described.append(f"{name} {_size(size)}" + (f" shared by {sharing} cores" if sharing > 1 else ""))
    if described:
        return ", ".join(described)
    try:
        lines = subprocess.run(["lscpu", "-C"], capture_output=True, text=True, check=True).stdout.splitlines()[1:]
        return ", ".join(f"{line.split()[0]} {line.split()[1]}" for line in lines) or "caches unknown"
    except (OSError, subprocess.CalledProcessError):
        return "caches unknown"


def blas() -> str:
    """NumPy's BLAS as loaded in this process (threadpoolctl: library, version, the core type
    OpenBLAS chose, threads), else as NumPy was built with it; and the OPENBLAS_* variables set."""
    import numpy as np

    described = "BLAS unknown"
    try:
        build = np.show_config(mode="dicts")["Build Dependencies"]["blas"]
        described = f"{build.get('name')} {build.get('version')} (as built; pip install threadpoolctl to see it loaded)"
    except Exception:  # noqa: BLE001 - a NumPy without show_config's dicts
        pass
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        pass
    else:
        numpy_libraries = os.path.dirname(np.__file__)
        for info in threadpool_info():
            if info.get("user_api") == "blas" and (info["filepath"].startswith(numpy_libraries) or "numpy" in info["filepath"]):
                described = (f"{info.get('internal_api')} {info.get('version')}, core type {info.get('architecture')}, "
                             f"{info.get('num_threads')} threads ({info.get('threading_layer')})")
                break
    variables = ", ".join(f"{name}={os.environ[name]}" for name in OPENBLAS_VARIABLES if name in os.environ)
    return f"numpy {np.__version__} with {described}" + (f" [{variables}]" if variables else "")


def numpy_simd() -> str:
    """The widest instruction set NumPy's own kernels (np.tanh, np.exp...) dispatch to in this
    process: NPY_DISABLE_CPU_FEATURES turns some off, as a processor without them would run."""
    try:
        from numpy._core._multiarray_umath import __cpu_dispatch__, __cpu_features__
    except ImportError:
        return "NumPy's kernels: unknown"
    enabled = [target for target in __cpu_dispatch__ if __cpu_features__.get(target)]
    return f"NumPy's kernels up to {enabled[-1] if enabled else 'its baseline'}"


def load() -> str:
    """The load average now: the other processes sharing the machine."""
    if not hasattr(os, "getloadavg"):
        return "load average unknown"
    return "load average {:.2f}, {:.2f}, {:.2f} (1, 5, 15 min)".format(*os.getloadavg())


def machine_line(*extra: str) -> str:
    """`- **Machine**: processor; caches; BLAS; Python; extra...; load`, one Markdown line."""
    parts = [processor(), caches(), blas(), f"Python {platform.python_version()}", *extra, load()]
    return "- **Machine**: " + "; ".join(parts)


if __name__ == "__main__":
    print(machine_line())
