"""Command-line interface: a thin shell over the library.

Every bad input is answered with one line on stderr (``frisac: error: ...``) and exit
status 2, without a traceback; files are written atomically.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import NoReturn

import numpy as np
import tomli_w

from frisac import __version__
from frisac.errors import FrisacInputError
from frisac.io import save_realization
from frisac.realization import draw_realization
from frisac.scenario import Scenario

__all__ = ["main"]

EXIT_BAD_INPUT = 2
EXIT_INTERRUPTED = 130


class _Parser(argparse.ArgumentParser):
    """argparse that reports usage errors as one FrisacInputError line."""

    def error(self, message: str) -> NoReturn:
        where = self.prog.removeprefix("frisac").strip()
        raise FrisacInputError(f"{where}: {message}" if where else message)


def _seed(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r}: expected an integer >= 0") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"{value}: expected an integer >= 0")
    return value


def _add_scenario_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--config", type=Path, help="scenario TOML file (default: paper Table I)")
    parser.add_argument(
        "--set",
        dest="assignments",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="override one scenario field, e.g. --set F=60 (repeatable)",
    )


def scenario_from_args(args: argparse.Namespace) -> Scenario:
    """The effective scenario: defaults, then --config, then every --set in order."""
    base = Scenario.from_toml(args.config) if args.config else Scenario.default()
    return base.with_assignments(args.assignments)


# --------------------------------------------------------------------------- commands
def _cmd_scenario_show(args: argparse.Namespace) -> int:
    scenario = scenario_from_args(args)
    if args.toml:
        sys.stdout.write(tomli_w.dumps(scenario.to_mapping()))
    else:
        print(scenario.describe())
    return 0


def _cmd_draw(args: argparse.Namespace) -> int:
    scenario = scenario_from_args(args)
    out = Path(args.out)
    if out.suffix.lower() not in (".npz", ".mat"):
        raise FrisacInputError(f"--out {str(out)!r}: expected a .npz or .mat file name")
    realization = draw_realization(scenario, np.random.default_rng(args.seed))
    save_realization(out, realization)
    print(
        f"wrote {out}: N_t={realization.N_t}, R={realization.R}, K={realization.K}, "
        f"F={realization.F}, seed={args.seed}"
    )
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="frisac",
        description="Faulty-RIS ISAC: metrics, optimisers and reproducible Monte-Carlo studies.",
    )
    parser.add_argument("--version", action="version", version=f"frisac {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    commands.required = True

    scenario = commands.add_parser("scenario", help="inspect scenarios")
    scenario_cmds = scenario.add_subparsers(dest="scenario_command", metavar="ACTION")
    scenario_cmds.required = True
    show = scenario_cmds.add_parser("show", help="print the effective scenario with units")
    _add_scenario_options(show)
    show.add_argument("--toml", action="store_true", help="print as TOML (a config to edit)")
    show.set_defaults(handler=_cmd_scenario_show)

    draw = commands.add_parser("draw", help="draw one realisation and write it to a file")
    _add_scenario_options(draw)
    draw.add_argument("--seed", type=_seed, required=True, help="root seed (integer >= 0)")
    draw.add_argument("--out", required=True, help="output file, .npz or .mat")
    draw.set_defaults(handler=_cmd_draw)

    for register in _EXTRA_COMMANDS:
        register(commands)
    return parser


# Later modules register more sub-commands here (evaluate, optimize, sweep, ...).
_EXTRA_COMMANDS: list[Callable[[argparse._SubParsersAction[_Parser]], None]] = []


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``frisac`` console script. Returns the exit status."""
    try:
        args = build_parser().parse_args(argv)
        handler: Callable[[argparse.Namespace], int] = args.handler
        return handler(args)
    except FrisacInputError as exc:
        print(f"frisac: error: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except KeyboardInterrupt:
        print("frisac: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
