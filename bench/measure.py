"""Timing helpers and the report every benchmark adds its figures to."""

import statistics
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from cryptography.fernet import Fernet


@dataclass
class DecryptionCount:
    """Fernet decryptions made in this process (every key tried counts once)."""

    value: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)


@contextmanager
def counted_decryptions() -> Iterator[DecryptionCount]:
    """Count every decryption while the block runs, the vault's and any other code's.

    Counted in cryptography's Fernet class, so the vault carries no measuring hook; every
    decryption path (MultiFernet's too) ends in `_decrypt_data`, which fails loudly here if a
    new cryptography renames it."""
    count = DecryptionCount()
    original = Fernet._decrypt_data

    def counting_decrypt(fernet, *args, **kwargs):
        with count.lock:
            count.value += 1
        return original(fernet, *args, **kwargs)

    Fernet._decrypt_data = counting_decrypt  # type: ignore[method-assign]
    try:
        yield count
    finally:
        Fernet._decrypt_data = original  # type: ignore[method-assign]


def time_ms(action, repeat: int, warmup: int = 2) -> list[float]:
    """Milliseconds taken by each of `repeat` calls of `action` (after `warmup` untimed calls)."""
    for _ in range(warmup):
        action()
    samples = []
    for _ in range(repeat):
        started = time.perf_counter_ns()
        action()
        samples.append((time.perf_counter_ns() - started) / 1e6)
    return samples


def request_cpu_us(client, path: str) -> float:
    """The request thread's CPU time (`time.thread_time`, which holds up on a busy machine), in
    µs, of one GET of `path` through a Flask test client; the answer must be a 200."""
    started = time.thread_time_ns()
    response = client.get(path)
    spent = time.thread_time_ns() - started
    assert response.status_code == 200, (path, response.status_code)
    return spent / 1000


class CacheFlusher:
    """Copies `megabytes` of memory over other memory: afterwards the CPU's caches hold that,
    not what the last request used. Called before a request (and not counted), it starts the
    request with caches as cold as a web worker's are over HTTP, where the other workers and the
    clients run between two of its requests (bench/README.md, "cold caches")."""

    def __init__(self, megabytes: int) -> None:
        size = megabytes * 1024 * 1024
        self.target, self.sources = bytearray(size), (bytes(size), b"\xff" * size)
        self.turn = 0

    def __call__(self) -> None:
        self.turn ^= 1
        self.target[:] = self.sources[self.turn]


def time_interleaved(actions: dict, repeat: int, warmup: int = 2) -> dict[str, list[float]]:
    """Milliseconds per call of each action, the actions taking turns call by call.

    Taking turns makes a figure and its baseline share whatever else the machine is doing,
    so their ratio stays meaningful on a busy machine.
    """
    for _ in range(warmup):
        for action in actions.values():
            action()
    samples = {name: [] for name in actions}
    for _ in range(repeat):
        for name, action in actions.items():
            started = time.perf_counter_ns()
            action()
            samples[name].append((time.perf_counter_ns() - started) / 1e6)
    return samples


def summarize(samples: list[float]) -> dict:
    """Median and spread of `samples`: quartiles, min, max and how many there were."""
    ordered = sorted(samples)
    if len(ordered) >= 2:
        p25, _, p75 = statistics.quantiles(ordered, n=4, method="inclusive")
    else:
        p25 = p75 = ordered[0]
    return {
        "median": statistics.median(ordered),
        "p25": p25,
        "p75": p75,
        "min": ordered[0],
        "max": ordered[-1],
        "n": len(ordered),
    }


@dataclass
class Figure:
    """One measured figure, optionally compared with a baseline figure and a target."""

    name: str
    unit: str
    stats: dict
    baseline: str | None = None
    ratio: float | None = None
    target: str = ""
    met: bool | None = None
    extra: dict = field(default_factory=dict)

    def as_json(self) -> dict:
        """The figure as one flat JSON object."""
        return {
            "name": self.name,
            "unit": self.unit,
            **self.stats,
            "baseline": self.baseline,
            "ratio": self.ratio,
            "target": self.target,
            "met": self.met,
            **self.extra,
        }


class Report:
    """The figures of one benchmark run, in the order they were measured."""

    def __init__(self):
        self.figures: dict[str, Figure] = {}

    def add(
        self,
        name: str,
        samples: list[float],
        unit: str = "ms",
        baseline: str | None = None,
        **extra,
    ) -> Figure:
        """Record `samples` as a figure; with `baseline`, also its ratio to that figure's median."""
        figure = Figure(name, unit, summarize(samples), baseline=baseline, extra=extra)
        if baseline is not None:
            figure.ratio = figure.stats["median"] / self.figures[baseline].stats["median"]
        self.figures[name] = figure
        return figure

    def median(self, name: str) -> float:
        """The median of the figure called `name`."""
        return self.figures[name].stats["median"]

    def check(self, name: str, target: str, met: bool) -> None:
        """Attach a target (as words) and whether this run met it."""
        self.figures[name].target, self.figures[name].met = target, met
