"""Log lines as text or, with PYSPACE_LOG_FORMAT=json, one JSON object per line (for journald,
Loki or any collector). Used by the gunicorn settings (`gunicorn_config.py`) and the queue
consumer (`flask tasks consumer`)."""

import json
import logging
import os
import sys
from datetime import UTC, datetime

TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s %(message)s"


class JsonFormatter(logging.Formatter):
    """One JSON object per record: time (UTC, ISO 8601), level, logger, message, and the
    exception's traceback when there is one."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "process": record.process,
        }
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False)


def wants_json(environ=os.environ) -> bool:
    return environ.get("PYSPACE_LOG_FORMAT", "text").strip().lower() == "json"


def configure_logging(level: int = logging.INFO) -> None:
    """Send the root logger's records to stderr, as text or JSON (PYSPACE_LOG_FORMAT)."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter() if wants_json() else logging.Formatter(TEXT_FORMAT))
    logging.basicConfig(level=level, handlers=[handler], force=True)


def gunicorn_logconfig(json_lines: bool) -> dict:
    """gunicorn's `logconfig_dict`: the site's log and gunicorn's error log on stderr, the
    access log on stdout; as JSON lines when `json_lines`."""
    config: dict = {
        "root": {"level": "INFO", "handlers": ["error_console"]},
        "loggers": {
            "gunicorn.error": {"level": "INFO", "handlers": ["error_console"], "propagate": False},
            "gunicorn.access": {"level": "INFO", "handlers": ["console"], "propagate": False},
        },
    }
    if json_lines:
        config["formatters"] = {"json": {"()": "pyspace.log_format.JsonFormatter"}}
        config["handlers"] = {
            "console": {
                "class": "logging.StreamHandler",
                "formatter": "json",
                "stream": "ext://sys.stdout",
            },
            "error_console": {
                "class": "logging.StreamHandler",
                "formatter": "json",
                "stream": "ext://sys.stderr",
            },
        }
    return config
