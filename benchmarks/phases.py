"""A benchmark's measurements each in a fresh process of its own (its peak memory and CPU time are
the measured work's): the benchmark's script run again, its answer a JSON object on the last line
of its output."""

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def run_script(script: str, environment: dict, *arguments: str) -> dict:
    """`python script arguments` with `environment`; the JSON object it printed last."""
    output = subprocess.run(
        [sys.executable, script, *arguments], cwd=ROOT, env=environment, capture_output=True, text=True
    )
    if output.returncode:
        raise RuntimeError(f"{' '.join(arguments)} failed:\n{output.stderr[-4000:]}")
    return json.loads(output.stdout.strip().splitlines()[-1])


def run_phase(script: str, environment: dict, *arguments: str) -> dict:
    """The phase `arguments[0]` of `script` (with the rest as its arguments) in a fresh process."""
    return run_script(script, environment, "--phase", *arguments)


def is_phase_process() -> bool:
    """Whether this process was started by run_phase."""
    return len(sys.argv) > 2 and sys.argv[1] == "--phase"


def serve_phase(phases: dict) -> None:
    """In the phase process: set Django up, run the phase named on the command line, print its result."""
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "hitlplatform.settings")
    import django

    django.setup()
    # default=str: some results hold dates or decimals
    print(json.dumps(phases[sys.argv[2]](*sys.argv[3:]), default=str), flush=True)
