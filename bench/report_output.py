"""The benchmark table (printed) and its JSON file, with the machine it ran on."""

import json
import os
import platform
from datetime import UTC, datetime
from pathlib import Path

from .measure import Report


def machine() -> dict:
    """What the figures depend on: CPU, cores, memory, OS, Python."""
    cpu = platform.processor() or "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    try:
        memory_kb = int(Path("/proc/meminfo").read_text().split()[1])
    except (OSError, ValueError, IndexError):
        memory_kb = 0
    return {
        "cpu": cpu,
        "cpus": os.cpu_count(),
        "memory_gb": round(memory_kb / 1024 / 1024, 1),
        "os": platform.platform(),
        "python": platform.python_version(),
    }


def describe_machine(info: dict) -> str:
    """One line naming the machine, for the table's heading."""
    return (
        f"{info['cpu']}, {info['cpus']} CPUs, {info['memory_gb']} GB RAM, {info['os']}, "
        f"Python {info['python']}"
    )


def _number(value: float | None, unit: str = "") -> str:
    if value is None:
        return ""
    if abs(value) >= 100:
        text = f"{value:,.0f}"
    elif abs(value) >= 1:
        text = f"{value:.2f}"
    else:
        text = f"{value:.3f}"
    return f"{text} {unit}".strip()


def table(report: Report) -> str:
    """The figures as a Markdown table (it reads well in a terminal and in the README)."""
    lines = [
        "| figure | median | spread (p25–p75) | n | vs baseline | target |",
        "|---|---:|---:|---:|---|---|",
    ]
    for figure in report.figures.values():
        stats = figure.stats
        ratio = f"{figure.ratio:.2f}× {figure.baseline}" if figure.ratio is not None else ""
        target = ""
        if figure.target:
            target = f"{'met' if figure.met else 'MISSED'}: {figure.target}"
        notes = [
            f"{key}={_number(value) if isinstance(value, float) else value}"
            for key, value in figure.extra.items()
            if key in ("decryptions", "statements", "errors", "warm_runs", "vs_10x_500")
        ]
        if notes:
            target = "; ".join(filter(None, [target, ", ".join(notes)]))
        lines.append(
            f"| {figure.name} | {_number(stats['median'], figure.unit)} | "
            f"{_number(stats['p25'])}–{_number(stats['p75'])} | {stats['n']} | {ratio} | {target} |"
        )
    return "\n".join(lines)


def write_json(report: Report, directory: Path, quick: bool) -> Path:
    """Write the run's figures and machine to directory/bench-<UTC time>.json; returns the path."""
    directory.mkdir(parents=True, exist_ok=True)
    now = datetime.now(UTC)
    path = directory / f"bench-{now:%Y%m%d-%H%M%S}{'-quick' if quick else ''}.json"
    document = {
        "started": now.isoformat(timespec="seconds"),
        "quick": quick,
        "machine": machine(),
        "figures": [figure.as_json() for figure in report.figures.values()],
    }
    path.write_text(json.dumps(document, indent=2) + "\n")
    return path
