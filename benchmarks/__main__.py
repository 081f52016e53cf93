"""Run every benchmark module and append their JSON lines to a results file.

`python -m benchmarks [--output FILE] [NAME ...]`
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

import msgspec

MODULES = [
    "actors",
    "store",
    "etcd_wire",
    "api",
    "http",
    "scheduler",
    "controllers",
    "nodes",
    "heartbeats",
    "sim",
]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    parser.add_argument("names", nargs="*", help="benchmarks to run")
    parser.add_argument("--output", type=Path, help="append the JSON lines to this file")
    args = parser.parse_args(argv)
    names = args.names or MODULES
    failed = []
    for name in names:
        if not (Path(__file__).parent / f"{name}.py").exists():
            print(f"benchmarks.{name}: not written yet, skipped", file=sys.stderr)
            continue
        print(f"== benchmarks.{name}", file=sys.stderr, flush=True)
        result = subprocess.run(
            [sys.executable, "-m", f"benchmarks.{name}"],
            stdout=subprocess.PIPE,
            text=True,
            check=False,
        )
        lines = [line for line in result.stdout.splitlines() if line.startswith("{")]
        for line in result.stdout.splitlines():
            print(line)
        if result.returncode != 0:
            failed.append(name)
        if args.output is not None:
            args.output.parent.mkdir(parents=True, exist_ok=True)
            with args.output.open("a") as out:
                for line in lines:
                    msgspec.json.decode(line)
                    out.write(line + "\n")
    if failed:
        print(f"failed: {', '.join(failed)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
