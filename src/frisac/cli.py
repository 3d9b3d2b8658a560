"""Command-line interface: a thin shell over the library.

Every bad input is answered with one line on stderr (``frisac: error: ...``) and exit
status 2, without a traceback; files are written atomically.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import NoReturn

import numpy as np
import tomli_w

from frisac import __version__
from frisac.design import check_compatible
from frisac.errors import FrisacInputError
from frisac.io import load_design, load_realization, save_realization
from frisac.metrics import Evaluation, evaluate
from frisac.realization import Realization, draw_realization
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


def format_evaluation(ev: Evaluation, realization: Realization) -> str:
    """A readable report of one evaluation (angles in degrees and radians, bounds in rad^2)."""
    sen, com = ev.sensing, ev.comm
    deg = np.rad2deg
    lines = [
        "Sensing (MODEL.md section 6)",
        f"  tr(MCRB_phi)          {sen.trace_mcrb_phi_rad2:.6e} rad^2"
        f"   (RMSE bound {np.sqrt(sen.trace_mcrb_phi_rad2):.4e} rad)",
        f"  MCRB_phi              [[{sen.mcrb_phi_rad2[0, 0]:.6e}, {sen.mcrb_phi_rad2[0, 1]:.6e}],",
        f"                         [{sen.mcrb_phi_rad2[1, 0]:.6e}, {sen.mcrb_phi_rad2[1, 1]:.6e}]]",
        f"  true phi [e, a]       [{deg(sen.phi_true_rad[0]):.6f}, "
        f"{deg(sen.phi_true_rad[1]):.6f}] deg",
        f"  pseudo-true phi0      [{deg(sen.eta0[0]):.6f}, {deg(sen.eta0[1]):.6f}] deg",
        f"  bias phi0 - phi       [{sen.bias_phi_rad[0]:.6e}, {sen.bias_phi_rad[1]:.6e}] rad",
        f"  alpha0                {sen.alpha0.real:.6e} {sen.alpha0.imag:+.6e}j"
        f"   (true alpha {realization.alpha.real:.6e} {realization.alpha.imag:+.6e}j)",
        f"  tr(MSE bound)         {np.trace(sen.mse_bound_phi_rad2):.6e} rad^2"
        "   (MCRB_phi + bias bias^T)",
        f"  tr(CRB_phi) perfect   {sen.crb_perfect_trace_rad2:.6e} rad^2"
        "   (fault-free RIS, same design)",
        f"  diagnostics           A negative definite: {sen.a_negative_definite}, "
        f"cond(A) {sen.cond_A:.3g}, Newton steps {sen.newton_iterations}, "
        f"on window edge: {sen.on_window_boundary}",
        "",
        "Communication (MODEL.md section 5)",
    ]
    threshold_db = 10 * np.log10(realization.sinr_min)
    for k, (value, value_db) in enumerate(zip(com.sinr, com.sinr_db, strict=True)):
        mark = "ok" if value >= realization.sinr_min * (1 - 1e-6) else "BELOW threshold"
        lines.append(f"  SINR user {k}           {value_db:8.3f} dB  ({value:.6g})  {mark}")
    lines += [
        f"  SINR threshold        {threshold_db:8.3f} dB",
        f"  transmit power        {com.power_w:.6g} W  (P_max {realization.p_max_w:.6g} W)"
        f"  {'ok' if com.power_ok else 'ABOVE P_max'}",
        f"  feasible              {com.feasible}",
    ]
    return "\n".join(lines)


def _cmd_evaluate(args: argparse.Namespace) -> int:
    realization = load_realization(args.realization)
    design = load_design(args.design)
    check_compatible(realization, design)
    ev = evaluate(realization, design)
    if args.json:
        print(json.dumps(ev.to_json(), indent=2))
    else:
        print(format_evaluation(ev, realization))
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

    evaluate_cmd = commands.add_parser(
        "evaluate", help="exact tr(MCRB_phi), CRB, SINRs and power of a design"
    )
    evaluate_cmd.add_argument("realization", type=Path, help="realisation file (.npz/.mat)")
    evaluate_cmd.add_argument("design", type=Path, help="design file (.npz/.mat)")
    evaluate_cmd.add_argument("--json", action="store_true", help="print JSON instead of a table")
    evaluate_cmd.set_defaults(handler=_cmd_evaluate)

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
