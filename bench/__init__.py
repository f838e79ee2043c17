"""py.space's benchmark suite: `.venv/bin/python -m bench` (add `--quick` for a fast check).

Every figure is a median of many repetitions with its spread (quartiles, min, max); every
figure that depends on the machine also comes as a ratio to a baseline measured in the same
run. The table is printed and written as JSON to bench/results/ (git-ignored).
"""
