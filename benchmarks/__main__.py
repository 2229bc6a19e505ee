"""Run the benchmarks: `python -m benchmarks [name ...]` (default: all bench_*.py modules)."""

import importlib
import os
import pkgutil
import sys
import traceback
from pathlib import Path


def main(selected: list[str]) -> int:
    names = sorted(
        module.name for module in pkgutil.iter_modules([str(Path(__file__).parent)]) if module.name.startswith("bench_")
    )
    if selected:
        names = [name for name in names if name in selected or name.removeprefix("bench_") in selected]
    failures = 0
    for name in names:
        print(f"\n=== {name}", flush=True)
        try:
            importlib.import_module(f"benchmarks.{name}").main()
        except Exception:  # one broken benchmark must not hide the others' figures
            failures += 1
            traceback.print_exc()
    return 1 if failures else 0


if __name__ == "__main__":
    # Every benchmark process starts Django; its start-up INFO lines would bury the figures.
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    sys.exit(main(sys.argv[1:]))
