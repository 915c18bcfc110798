"""Benchmarks: `python -m bench <command> [options]`, e.g. `python -m bench businesstime`.

A command is a module with `add_arguments(parser)` and `run(args)`; register it in COMMANDS. Modules
are imported only when their command runs, so a benchmark that needs Django does not load it for
one that does not.
"""

import argparse
import importlib
import sys

COMMANDS = {
    "businesstime": "bench.businesstime",
    "soak": "bench.soak",
    "sweep": "bench.sweep",
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    parser.add_argument("command", choices=sorted(COMMANDS))
    parser.add_argument("options", nargs=argparse.REMAINDER, help="the command's own options (see --help)")
    chosen = parser.parse_args(argv)
    module = importlib.import_module(COMMANDS[chosen.command])
    command_parser = argparse.ArgumentParser(
        prog=f"python -m bench {chosen.command}", description=module.__doc__
    )
    module.add_arguments(command_parser)
    return module.run(command_parser.parse_args(chosen.options)) or 0


if __name__ == "__main__":
    sys.exit(main())
