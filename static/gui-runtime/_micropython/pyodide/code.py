"""`pyodide.code.run_js` under MicroPython: JavaScript's own eval."""

import js


def run_js(code):
    return js.eval(code)
