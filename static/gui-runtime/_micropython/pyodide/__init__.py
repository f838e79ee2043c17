"""What client code written for Pyodide imports from `pyodide`, under MicroPython."""
