"""`python -m pyspace.sandbox.check`, run by `./manage.sh serve` before the server starts: makes
the sandbox's world-readable files (`install.py`), starts one real sandbox with the site's
settings, and exits non-zero with the cause and the fix when widget code couldn't run."""

import sys

from pyspace import create_app
from pyspace.sandbox import runner_for


def main() -> int:
    """`python -m pyspace.sandbox.check`: make the copy, start one sandbox, report."""
    app = create_app({"RUN_POOL_WARM_ON_START": False, "RUN_POOL_SIZE": 0})
    runner = runner_for(app)
    try:
        if runner.problem is None and runner.host is not None:
            print(f"Sandboxes start: {runner.host.describe()}")
            if runner.host.cgroups is None:
                print(f"WARNING: {runner.host.cgroups_warning}", file=sys.stderr)
            return 0
        if runner.settings.allow_unsandboxed:
            print(f"WARNING: widget code will run UNSANDBOXED: {runner.problem}", file=sys.stderr)
            return 0
        print(f"py.space can't run widget code safely here: {runner.problem}", file=sys.stderr)
        return 1
    finally:
        runner.shutdown()


if __name__ == "__main__":
    sys.exit(main())
