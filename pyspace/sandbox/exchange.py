"""Driving one job through one sandbox: send the code, answer its requests, collect output,
enforce the wall-time and output limits, and turn what happened into a RunResult."""

import os
import selectors
import signal
import subprocess
import time
from collections.abc import Mapping

from .bwrap import Sandbox
from .cgroups import MemoryUsage
from .redaction import WITHHELD
from .results import RunResult, failed
from .services import Answer, Handler, RunContext, refusal
from .settings import Limits
from .wire import ChannelError, encode_frame

# How deeply lists and dicts may nest in a request or result from the sandbox (tags of portable
# values included): well above what anvil/_serialise.py lets code send.
MAX_VALUE_DEPTH = 64


def nesting_depth(value: object) -> int:
    """How deeply lists and dicts nest in the JSON value `value` (0 for a scalar); counted
    without recursion, so any depth the channel's parser accepted can be measured."""
    deepest = 0
    pending: list[tuple[object, int]] = [(value, 0)]
    while pending:
        item, depth = pending.pop()
        if isinstance(item, dict):
            item = list(item.values())
        if isinstance(item, list):
            deepest = max(deepest, depth + 1)
            pending.extend((child, depth + 1) for child in item)
    return deepest


def _answer(request: dict, run: RunContext, services: Mapping[str, Handler]) -> Answer:
    handler = services.get(str(request.get("op")))
    if handler is None:
        return refusal(f"The site does not know the request {request.get('op')!r}.")
    if nesting_depth(request) > MAX_VALUE_DEPTH:
        # Services walk what they are sent (redaction, JSON): never a structure this deep.
        return refusal(f"The request nests more than {MAX_VALUE_DEPTH} lists and dicts deep.")
    return handler(request, run)


def _exit_reason(returncode: int | None, limits: Limits) -> RunResult:
    # bubblewrap reports a child killed by signal N as exit status 128 + N.
    signum = returncode - 128 if returncode and returncode > 128 else -(returncode or 0)
    if signum in (signal.SIGXCPU, signal.SIGKILL) and returncode not in (None, 0):
        if signum == signal.SIGXCPU:
            return failed(
                "CPULimitExceeded",
                f"The run used more than {limits.cpu_seconds} s of CPU time and was stopped.",
            )
        return failed("Killed", "The run was killed (it may have run out of memory or CPU time).")
    if returncode:
        return failed(
            "SandboxExited", f"The run ended without finishing (exit status {returncode})."
        )
    return RunResult(ok=True)


def _time_limit_exceeded(limits: Limits) -> RunResult:
    return failed(
        "TimeLimitExceeded",
        f"The run took longer than {limits.wall_seconds:g} s and was stopped.",
    )


class _Execution:
    """What `execute` keeps while one job runs: the output so far, the pipes still open, and the
    code's "done" message once it arrives."""

    def __init__(
        self, sandbox: Sandbox, limits: Limits, run: RunContext, services: Mapping[str, Handler]
    ) -> None:
        self.sandbox = sandbox
        self.limits = limits
        self.run = run
        self.services = services
        self.output = {"stdout": bytearray(), "stderr": bytearray()}
        self.done: dict | None = None
        self.truncated = False
        self.selector = selectors.DefaultSelector()

    def watch(self) -> None:
        """Register the code's stdout, stderr and channel, all non-blocking."""
        for name in self.output:
            stream = getattr(self.sandbox.process, name)
            os.set_blocking(stream.fileno(), False)
            self.selector.register(stream, selectors.EVENT_READ, name)
        self.selector.register(self.sandbox.channel, selectors.EVENT_READ, "channel")

    def send_job(self, job: dict) -> RunResult | None:
        """Send the job; a failure if the sandbox can't take it, else None."""
        self.sandbox.channel.settimeout(self.limits.wall_seconds)
        try:
            self.sandbox.channel.sendall(
                encode_frame({"op": "run", **job, "limits": self.limits.for_sandbox()})
            )
        except OSError:
            return failed("SandboxError", "The sandbox could not be started. Please try again.")
        return None

    def wait(self, deadline: float, messages: list[dict]) -> RunResult | None:
        """Answer the code's requests until it says "done" (None) or is stopped (the failure)."""
        while True:
            self._handle(messages, deadline)
            if self.done is not None:
                return None
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return _time_limit_exceeded(self.limits)
            if not self.selector.get_map():
                # The code closed every pipe: all that is left is to wait for it to end.
                try:
                    return _exit_reason(self.sandbox.process.wait(timeout=remaining), self.limits)
                except subprocess.TimeoutExpired:
                    return _time_limit_exceeded(self.limits)
            messages, stopped = self._read(remaining)
            if stopped is not None:
                return stopped

    def _handle(self, messages: list[dict], deadline: float) -> None:
        for message in messages:
            if message.get("op") == "done":
                self.done = message
            elif message.get("op") != "ready":
                self.sandbox.channel.settimeout(max(0.01, deadline - time.monotonic()))
                answer = _answer(message, self.run, self.services)
                self.sandbox.channel.sendall(encode_frame(answer))

    def _read(self, timeout: float) -> tuple[list[dict], RunResult | None]:
        """The channel messages that arrived within `timeout`, and a failure if the output grew
        past its limit (the output is kept up to there)."""
        messages: list[dict] = []
        for key, _ in self.selector.select(timeout):
            if key.data == "channel":
                data = self.sandbox.channel.recv(65536)
                if data:
                    messages += self.sandbox.reader.feed(data)
                else:
                    self.selector.unregister(self.sandbox.channel)
                continue
            data = os.read(key.fd, 65536)
            if not data:
                self.selector.unregister(key.fileobj)
                continue
            self.output[key.data] += data
            if len(self.output["stdout"]) + len(self.output["stderr"]) > self.limits.output_bytes:
                self.truncated = True
                return messages, failed(
                    "OutputLimitExceeded",
                    f"The run printed more than {self.limits.output_bytes:,} bytes "
                    "and was stopped; the output is cut there.",
                )
        return messages, None


def execute(
    sandbox: Sandbox, job: dict, limits: Limits, run: RunContext, services: Mapping[str, Handler]
) -> RunResult:
    """Run `job` in `sandbox` (which is then discarded) and return the redacted result.

    Requests from the code are answered by `services` (see `services.py`), for `run` only."""
    started = time.monotonic()
    deadline = started + limits.wall_seconds
    execution = _Execution(sandbox, limits, run, services)
    outcome: RunResult | None = None
    try:
        execution.watch()
        outcome = execution.send_job(job)
        if outcome is None:
            outcome = execution.wait(deadline, list(sandbox.pending))
        if execution.done is not None:
            _drain(execution.output, execution.selector)
    except ChannelError as error:
        outcome = failed("SandboxError", f"The run broke its channel to the site: {error}")
    except (TimeoutError, BrokenPipeError, ConnectionResetError):
        outcome = failed("SandboxError", "The run stopped answering and was stopped.")
    finally:
        execution.selector.close()
        # Read before the sandbox (and its cgroup) is discarded, and only when the run did not
        # end cleanly: memory only turns a failure into a MemoryError (3 cgroup files a run).
        clean = execution.done is not None and execution.done.get("error") is None
        memory = None if clean else sandbox.memory_usage()
        sandbox.discard()
    duration_ms = (time.monotonic() - started) * 1000
    done = execution.done
    if done is not None:
        reported = done.get("error")
        outcome = RunResult(ok=reported is None, error=reported, result=done.get("result"))
        if nesting_depth(outcome.result) > MAX_VALUE_DEPTH:
            # The runtime never nests a value this deep (anvil/_serialise.py): code wrote its
            # own frame. Refused before anything walks it (redaction recurses per level).
            outcome = failed(
                "SerializationError",
                f"The server function returned a value nested more than {MAX_VALUE_DEPTH} "
                "lists and dicts deep.",
            )
    # `wait` returns None only once "done" has arrived, so there is always an outcome here.
    assert outcome is not None
    outcome = _memory_verdict(outcome, memory, limits)
    return _redacted(outcome, execution.output, execution.truncated, limits, run, duration_ms)


# Errors a run that hit its memory ceiling ends with (a killed process, a failed allocation).
_MEMORY_FAILURES = ("MemoryError", "OSError", "Killed", "SandboxExited", "SandboxError")


def _memory_verdict(outcome: RunResult, memory: MemoryUsage | None, limits: Limits) -> RunResult:
    """`outcome`, or a MemoryError when the run failed because its cgroup ran out of memory."""
    if memory is None or outcome.ok:
        return outcome
    failure = (outcome.error or {}).get("type")
    if memory.oom_kills or (memory.hit_limit and failure in _MEMORY_FAILURES):
        return failed(
            "MemoryError",
            f"The run used more than its {limits.memory_mb} MB of memory (all its processes, "
            "memory files and files in /tmp together) and was stopped.",
        )
    return outcome


def _drain(output: dict, selector: selectors.BaseSelector) -> None:
    # Everything the code printed before saying "done" is already in the pipes.
    for key in list(selector.get_map().values()):
        if key.data == "channel":
            continue
        while True:
            try:
                data = os.read(key.fd, 65536)
            except BlockingIOError:
                break
            if not data:
                break
            output[key.data] += data


def _redacted(
    outcome: RunResult,
    output: dict,
    truncated: bool,
    limits: Limits,
    run: RunContext,
    duration_ms: float,
) -> RunResult:
    """`outcome` with every secret value the run read masked (for the owner) or every field
    that held one withheld whole (for anyone else). A run that read another run's withheld
    outcome (`run.read_withheld`) shows anyone but the owner nothing at all."""
    redactor = run.redactor
    # Everything such a run shows could say what the withheld outcome was.
    withhold_all = run.read_withheld and not run.viewer_is_owner
    outcome.held_secret = withhold_all

    def shown(name: str, text: str, cut: bool = False) -> str:
        masked = redactor.text(text, cut)
        if masked != text:
            outcome.held_secret = True
        if run.viewer_is_owner or (masked == text and not withhold_all):
            return masked
        outcome.withheld.add(name)
        return WITHHELD

    stdout, stderr = bytes(output["stdout"]), bytes(output["stderr"])
    if truncated:
        stdout = stdout[: limits.output_bytes]
        stderr = stderr[: max(0, limits.output_bytes - len(stdout))]
    outcome.stdout = shown("stdout", stdout.decode("utf-8", "replace"), truncated)
    outcome.stderr = shown("stderr", stderr.decode("utf-8", "replace"), truncated)
    if outcome.error:
        error_type = shown("error.type", str(outcome.error.get("type", "Error")))
        outcome.error = {
            "type": "OutputHidden" if error_type == WITHHELD else error_type[:100],
            "message": shown("error.message", str(outcome.error.get("message", ""))),
            "traceback": shown("error.traceback", str(outcome.error.get("traceback", ""))),
        }
    result_held_secret = redactor.value_contains_secret(outcome.result)
    outcome.held_secret = outcome.held_secret or result_held_secret
    if run.viewer_is_owner or not (result_held_secret or withhold_all):
        outcome.result = redactor.value(outcome.result)
    else:
        # A function's result is withheld as a whole: the call fails with the notice.
        outcome.withheld.add("result")
        outcome.ok, outcome.result = False, None
        outcome.error = {"type": "OutputHidden", "message": WITHHELD, "traceback": ""}
    outcome.truncated = truncated
    outcome.duration_ms = duration_ms
    return outcome
