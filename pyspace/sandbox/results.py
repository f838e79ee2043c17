"""What a run produced, in the shape the site and its JSON API show."""

from dataclasses import dataclass, field

# Outcomes that are not the code's doing, and the HTTP status routes answer them with.
REFUSAL_STATUS = {"SandboxUnavailable": 503, "ServerBusy": 503, "TooManyRuns": 429}
# The fields each answer shows: only those count as withheld from the person who gets it.
RUN_FIELDS = {"stdout", "stderr", "error.type", "error.message", "error.traceback"}
CALL_FIELDS = {"result", "error.type", "error.message"}


@dataclass
class RunResult:
    """One run's outcome. Everything here is already redacted and may be shown to the runner."""

    ok: bool
    stdout: str = ""
    stderr: str = ""
    # {"type": str, "message": str, "traceback": str} or None.
    error: dict | None = None
    duration_ms: float = 0.0
    truncated: bool = False
    # The server function's return value (calls from GUI client code only).
    result: object = None
    # True when the sandbox came from the warm pool (shown to benchmarks, not to people).
    warm: bool = field(default=False, repr=False)
    # Fields ("stdout", "stderr", "error.type", "error.message", "error.traceback", "result")
    # replaced whole by the WITHHELD notice because they held a secret value the run read.
    withheld: set[str] = field(default_factory=set)
    # Whether any field held a secret value the run read (masked or withheld).
    held_secret: bool = False

    def withheld_from_run(self) -> bool:
        """Whether the run's answer (`as_json`) hides a field that held a secret value."""
        return bool(self.withheld & RUN_FIELDS)

    def withheld_from_call(self) -> bool:
        """Whether a call's answer (`as_call_result`) hides a field that held a secret value."""
        return bool(self.withheld & CALL_FIELDS)

    def as_json(self) -> dict:
        """The `POST /run` JSON: ok, stdout, stderr, error (type and message), duration_ms."""
        error = None
        if self.error:
            error = {"type": self.error["type"], "message": self.error["message"]}
            if self.error.get("traceback"):
                error["traceback"] = self.error["traceback"]
        return {
            "ok": self.ok,
            "stdout": self.stdout,
            "stderr": self.stderr,
            "error": error,
            "duration_ms": round(self.duration_ms, 2),
            "truncated": self.truncated,
        }

    def as_call_result(self) -> dict:
        """The answer to a GUI widget's `anvil.server.call`."""
        if self.ok:
            return {"ok": True, "result": self.result}
        assert self.error is not None  # a run that is not ok always says why
        return {
            "ok": False,
            "error": {"type": self.error["type"], "message": self.error["message"]},
        }


def failed(error_type: str, message: str) -> RunResult:
    """A run that could not happen or was stopped, with a message for the person running it."""
    return RunResult(ok=False, error={"type": error_type, "message": message, "traceback": ""})
