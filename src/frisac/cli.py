"""Command-line interface: a thin shell over the library.

Every bad input is answered with one line on stderr (``frisac: error: ...``) and exit
status 2, without a traceback; files are written atomically.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import NoReturn

import numpy as np
import tomli_w
from tqdm import tqdm

from frisac import __version__
from frisac.design import check_compatible
from frisac.errors import FrisacInputError
from frisac.experiments import (
    FIGURES,
    ResultStore,
    SweepInterrupted,
    SweepSpec,
    parse_schemes,
    parse_vary,
    reproduce,
    run_sweep,
)
from frisac.experiments.store import STORE_NAME
from frisac.experiments.summary import SchemeStats, format_table, series_by_scheme, summarise
from frisac.io import load_design, load_realization, save_design, save_realization
from frisac.metrics import Evaluation, evaluate
from frisac.optimize import (
    METHODS,
    SCHEMES,
    OptimizeResult,
    run_schemes,
)
from frisac.optimize.schemes import parse_method_options, scheme_options
from frisac.plotting import plot_convergence
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


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r}: expected an integer >= 1") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"{value}: expected an integer >= 1")
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
        f"  bound validity        fit SNR {sen.fit_snr_db:.1f} dB, competing peak "
        f"{sen.ambiguity_margin:.3g} noise std below: "
        + ("bound meaningful" if sen.bound_valid else "OUTSIDE the bound's regime (outliers)"),
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


class _SchemeProgress:
    """A tqdm bar per optimised scheme, on stderr, showing the current exact bound."""

    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled
        self.bars: dict[str, tqdm] = {}

    def __call__(self, scheme: str, iteration: int, total: int, value: float) -> None:
        if not self.enabled:
            return
        bar = self.bars.get(scheme)
        if bar is None:
            bar = tqdm(total=total, desc=f"{scheme:>8}", unit="it", leave=True, file=sys.stderr)
            self.bars[scheme] = bar
        bar.update(iteration - bar.n)
        bar.set_postfix_str(f"tr(MCRB)={value:.4e}")

    def close(self) -> None:
        for bar in self.bars.values():
            bar.close()


def format_result(result: OptimizeResult) -> str:
    """A readable summary of one optimisation result."""
    lines = [
        f"scheme {result.scheme}, method {result.method}: {result.status}"
        + (f" ({result.message})" if result.message else ""),
        f"  iterations {result.iterations}, {result.seconds:.1f} s"
        + (f", {result.n_sdps} SDPs ({result.solver})" if result.n_sdps else ""),
    ]
    ev = result.evaluation
    if ev is not None:
        where = "fault-free RIS: CRB" if result.scheme == "perfect" else "faulty RIS: MCRB"
        lines += [
            f"  tr(MCRB_phi)   {ev.trace_mcrb_phi:.6e} rad^2  ({where})",
            f"  SINR [dB]      {', '.join(f'{v:.3f}' for v in ev.comm.sinr_db)}",
            f"  power          {ev.comm.power_w:.6g} W",
            f"  feasible       {ev.feasible}",
        ]
    return "\n".join(lines)


def _cmd_optimize(args: argparse.Namespace) -> int:
    realization = load_realization(args.realization)
    out = Path(args.out)
    if out.suffix.lower() not in (".npz", ".mat"):
        raise FrisacInputError(f"--out {str(out)!r}: expected a .npz or .mat file name")
    if not out.parent.is_dir():
        raise FrisacInputError(f"--out {str(out)!r}: folder {str(out.parent)!r} does not exist")
    if args.plot_convergence is not None and Path(args.plot_convergence).suffix.lower() not in (
        ".png",
        ".pdf",
        ".svg",
    ):
        raise FrisacInputError(
            f"--plot-convergence {str(args.plot_convergence)!r}: expected a .png, .pdf or .svg name"
        )
    settings = parse_method_options(args.options)
    if args.max_iterations:
        settings.setdefault("paper", {})["max_iterations"] = args.max_iterations
    options = scheme_options(args.method, settings)
    progress = _SchemeProgress(enabled=not args.quiet)
    try:
        results = run_schemes(
            realization,
            [args.scheme],
            options=options,
            rng=np.random.default_rng(args.seed),
            progress=progress,
        )
    finally:
        progress.close()
    result = results[args.scheme]
    if result.design is not None:
        save_design(out, result.design)
    if args.plot_convergence is not None:
        optimised = [r for r in results.values() if r.history]
        xlabel = "BCD iteration" if args.method == "paper" else "barrier stage"
        plot_convergence(
            optimised, args.plot_convergence, title=f"{args.method} method", xlabel=xlabel
        )
    if args.json:
        print(json.dumps(result.to_json(), indent=2))
    else:
        print(format_result(result))
        if result.design is not None:
            print(f"wrote {out}")
    if result.design is None:
        print(f"frisac: no design written: {result.status} ({result.message})", file=sys.stderr)
        return 1
    return 0


def _add_method_settings(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--option",
        dest="options",
        action="append",
        default=[],
        metavar="METHOD.KEY=VALUE",
        help="optimiser setting, repeatable: e.g. direct.starts=1, direct.require_valid_bound="
        "false, paper.max_iterations=5 (fields of DirectOptions / PaperOptions)",
    )


def _add_executor_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--workers", type=_positive_int, default=None, help="parallel workers (default: all cores)"
    )
    parser.add_argument(
        "--executor",
        choices=("local", "dask"),
        default="local",
        help="local process pool (default) or Dask distributed",
    )
    parser.add_argument(
        "--scheduler",
        default=None,
        metavar="ADDRESS",
        help="Dask scheduler address, e.g. tcp://host:8786 (implies --executor dask)",
    )
    parser.add_argument("--quiet", action="store_true", help="no progress bar")


def _interrupted(exc: SweepInterrupted) -> int:
    print(
        f"frisac: {exc}; re-run the same command to resume (stored trials are kept)",
        file=sys.stderr,
    )
    return EXIT_INTERRUPTED


def _cmd_sweep(args: argparse.Namespace) -> int:
    key, values = parse_vary(args.vary)
    # The varied key takes its first value already in the base scenario, so that e.g.
    # --set R_y=4 --set R_z=4 --vary F=2,4 is valid although the default F = 40 > R.
    first = f"{key}={json.dumps(values[0])}" if isinstance(values[0], str) else f"{key}={values[0]}"
    args.assignments = [*args.assignments, first]
    scenario = scenario_from_args(args)
    spec = SweepSpec(
        scenario=scenario,
        vary_key=key,
        values=values,
        schemes=parse_schemes(args.schemes),
        trials=args.trials,
        root_seed=args.seed,
        method=args.method,
        options=parse_method_options(args.options),
    )
    try:
        outcome = run_sweep(
            spec,
            args.out,
            workers=args.workers,
            executor=args.executor,
            scheduler=args.scheduler,
            progress=not args.quiet,
            command=["frisac", *sys.argv[1:]],
        )
    except SweepInterrupted as exc:
        return _interrupted(exc)
    with ResultStore(args.out).open(create=False) as store:
        rows = store.rows()
    print(format_table(summarise(rows), key=key, metric="tr(MCRB)"))
    print(
        f"{outcome.computed} trial(s) computed in {outcome.seconds:.1f} s "
        f"({outcome.already_stored} already stored); store: {Path(args.out) / STORE_NAME}"
    )
    return 0


def _cmd_results_export(args: argparse.Namespace) -> int:
    folder = Path(args.folder)
    with ResultStore(folder).open(create=False) as store:
        if args.parquet:
            path = Path(args.out) if args.out else folder / "results.parquet"
            n = store.export_parquet(path)
        else:
            path = Path(args.out) if args.out else folder / "results.csv"
            n = store.export_csv(path)
    print(f"wrote {n} rows to {path}")
    return 0


def _cmd_reproduce(args: argparse.Namespace) -> int:
    try:
        reproduce(
            args.figures,
            args.out,
            quick=args.quick,
            trials=args.trials,
            method=args.method,
            seed=args.seed,
            workers=args.workers,
            executor=args.executor,
            scheduler=args.scheduler,
            progress=not args.quiet,
        )
    except SweepInterrupted as exc:
        return _interrupted(exc)
    print(f"report: {Path(args.out) / 'report.md'}")
    return 0


def _cmd_demo(args: argparse.Namespace) -> int:
    """The key comparison of the four schemes at the Table I size, in a few minutes."""
    out = Path(args.out)
    print(
        "frisac demo: the four schemes (perfect = UB, naive, proposed, random) at the paper's "
        f"Table I size, F = 0..60, {args.trials} trials per point, direct method.",
        flush=True,
    )
    spec = SweepSpec(
        scenario=Scenario.default(),
        vary_key="F",
        values=(0, 20, 40, 60),
        schemes=("perfect", "naive", "proposed", "random"),
        trials=args.trials,
        root_seed=args.seed,
        method="direct",
    )
    try:
        outcome = run_sweep(
            spec,
            out / "sweep",
            workers=args.workers,
            progress=not args.quiet,
            command=["frisac", *sys.argv[1:]],
        )
    except SweepInterrupted as exc:
        return _interrupted(exc)
    with ResultStore(out / "sweep").open(create=False) as store:
        rows = store.rows()
    stats = summarise(rows)
    figure = out / "demo.png"
    _plot_stats(stats, figure, xlabel="number of faulty RIS elements F (R = 150)")
    print(format_table(stats, key="F", metric="tr(MCRB)"))
    print(
        f"{outcome.computed} trial(s) in {outcome.seconds:.0f} s. Figure: {figure}. "
        f"Store: {out / 'sweep' / STORE_NAME}. Full reproduction: frisac reproduce all"
    )
    return 0


def _plot_stats(stats: list[SchemeStats], path: Path, *, xlabel: str) -> None:
    from frisac.plotting import plot_sweep

    values, series = series_by_scheme(stats)
    plot_sweep(values, series, path, xlabel=xlabel, title="frisac demo")


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

    optimize = commands.add_parser(
        "optimize", help="design W, Rs and the RIS phases with one of the four schemes"
    )
    optimize.add_argument("realization", type=Path, help="realisation file (.npz/.mat)")
    optimize.add_argument("--scheme", choices=SCHEMES, required=True)
    optimize.add_argument(
        "--method",
        choices=METHODS,
        default="direct",
        help="direct: frisac's exact-MCRB method (default); paper: Algorithms 1-3",
    )
    optimize.add_argument("--out", required=True, help="design file to write (.npz/.mat)")
    optimize.add_argument("--json", action="store_true", help="print JSON instead of a summary")
    optimize.add_argument("--seed", type=_seed, default=0, help="seed of the random scheme")
    optimize.add_argument(
        "--max-iterations", type=_positive_int, default=None, help="BCD iterations (paper)"
    )
    _add_method_settings(optimize)
    optimize.add_argument("--plot-convergence", type=Path, default=None, metavar="FILE.png")
    optimize.add_argument("--quiet", action="store_true", help="no progress bar")
    optimize.set_defaults(handler=_cmd_optimize)

    sweep = commands.add_parser("sweep", help="Monte-Carlo sweep of one parameter (resumable)")
    _add_scenario_options(sweep)
    sweep.add_argument("--vary", required=True, metavar="KEY=V1,V2,...")
    sweep.add_argument(
        "--schemes", default="perfect,naive,proposed,random", help="comma-separated schemes"
    )
    sweep.add_argument("--trials", type=_positive_int, required=True)
    sweep.add_argument("--seed", type=_seed, default=0, help="root seed (default 0)")
    sweep.add_argument("--method", choices=METHODS, default="direct")
    _add_method_settings(sweep)
    sweep.add_argument("--out", required=True, help="output folder (holds results.sqlite)")
    _add_executor_options(sweep)
    sweep.set_defaults(handler=_cmd_sweep)

    results = commands.add_parser("results", help="work with a results folder")
    results_cmds = results.add_subparsers(dest="results_command", metavar="ACTION")
    results_cmds.required = True
    export = results_cmds.add_parser("export", help="write the results as tidy tables")
    export.add_argument("folder", help="results folder of a sweep")
    fmt = export.add_mutually_exclusive_group(required=True)
    fmt.add_argument("--csv", action="store_true")
    fmt.add_argument("--parquet", action="store_true")
    export.add_argument("--out", default=None, help="file to write (default: in the folder)")
    export.set_defaults(handler=_cmd_results_export)

    repro = commands.add_parser("reproduce", help="reproduce the paper's figures and report")
    repro.add_argument("figures", nargs="+", metavar="FIG", help=f"{', '.join(FIGURES)} or all")
    repro.add_argument("--trials", type=_positive_int, default=None)
    repro.add_argument("--quick", action="store_true", help="reduced sizes, few trials")
    repro.add_argument("--method", choices=METHODS, default="direct")
    repro.add_argument("--seed", type=_seed, default=0)
    repro.add_argument("--out", default="reproduction", help="output folder")
    _add_executor_options(repro)
    repro.set_defaults(handler=_cmd_reproduce)

    demo = commands.add_parser("demo", help="quick comparison of the four schemes (make demo)")
    demo.add_argument("--trials", type=_positive_int, default=3)
    demo.add_argument("--seed", type=_seed, default=0)
    demo.add_argument("--workers", type=_positive_int, default=None)
    demo.add_argument("--out", default="demo-out")
    demo.add_argument("--quiet", action="store_true")
    demo.set_defaults(handler=_cmd_demo)

    return parser


def _terminate(signum: int, frame: object) -> None:
    raise KeyboardInterrupt  # SIGTERM stops a sweep as cleanly as Ctrl-C


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``frisac`` console script. Returns the exit status."""
    previous = None
    if threading.current_thread() is threading.main_thread():
        previous = signal.signal(signal.SIGTERM, _terminate)
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
    except BrokenPipeError:  # output piped into `head` and the like
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 0
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
