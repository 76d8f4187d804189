"""The `ypsi-audit` command. Only argparse is imported at start; each command imports
what it needs, so `ypsi-audit --help` answers at once."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence

from .errors import YpsiError

EPILOG = "Run 'ypsi-audit COMMAND --help' for the options of a command."


INTERNAL_ERROR = 70  # a fault of the tool's own, not of the input (sysexits EX_SOFTWARE)


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "handler", None):
        parser.print_help()
        return 2
    previous = os.umask(0o077)  # everything written is the owner's only, whatever the umask
    try:
        return int(args.handler(args) or 0)
    except YpsiError as error:
        print(f"ypsi-audit: {error}", file=sys.stderr)
        return error.exit_code
    except KeyboardInterrupt:
        print("ypsi-audit: stopped; nothing more was written.", file=sys.stderr)
        return 130
    except OSError as error:
        where = f" ({error.filename})" if getattr(error, "filename", None) else ""
        print(
            f"ypsi-audit: the system refused a file operation{where}: "
            f"{error.strerror or error}; check the path, its permissions and the free disk "
            "space.",
            file=sys.stderr,
        )
        return 2
    except Exception as error:  # a defect of ours: one line, the details only on request
        if os.environ.get("YPSI_DEBUG"):
            raise
        print(
            f"ypsi-audit: an internal error ({type(error).__name__}) stopped the run; nothing "
            "was written. Run again with YPSI_DEBUG=1 to see the details, and report it.",
            file=sys.stderr,
        )
        return INTERNAL_ERROR
    finally:
        os.umask(previous)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="ypsi-audit",
        description=(
            "Check how settings handled youth-produced sexual imagery incidents against "
            "police and national guidance, from anonymised incident logs."
        ),
        epilog=EPILOG,
    )
    parser.add_argument("--version", action="version", version=_version())
    commands = parser.add_subparsers(title="commands", metavar="COMMAND")

    assess = commands.add_parser(
        "assess",
        help="apply a policy to every incident of a log",
        description=(
            "Apply a policy to every incident: the outcome the guidance recommends, why, "
            "whether the setting's decision agreed, and which recording steps are missing."
        ),
    )
    assess.add_argument("input", metavar="INPUT", help="incident log: .csv, .xlsx or .parquet")
    _policy_options(assess)
    assess.add_argument(
        "--out", required=True, metavar="OUT", help="where to write: OUT.csv or OUT.parquet"
    )
    _input_options(assess)
    assess.add_argument(
        "--strict", action="store_true", help="refuse the whole file if any row fails a check"
    )
    _engine_options(assess)
    assess.set_defaults(handler=_assess)

    validate = commands.add_parser(
        "validate",
        help="check a log against the data contract without assessing it",
        description=(
            "Check a log against the data contract: every failed check in plain English with "
            "its rows. Exit 0: valid; 1: some rows invalid; 2: the file cannot be used."
        ),
    )
    validate.add_argument("input", metavar="INPUT", help="incident log: .csv, .xlsx or .parquet")
    _input_options(validate)
    validate.set_defaults(handler=_validate)

    report = commands.add_parser(
        "report",
        help="run the audit reports on a log and publish offline HTML pages",
        description=(
            "Run every report notebook on a log and write, under DIR: an offline HTML page "
            "per report, the executed notebooks, tables/*.csv, the case list for follow-up "
            "and manifest.json. Exit 0: all written; 1: some rows held back (reports still "
            "written); 2: the file cannot be used; 3: a report notebook failed; 4: a "
            "publication failed its disclosure check (nothing written)."
        ),
    )
    report.add_argument("input", metavar="INPUT", help="incident log: .csv, .xlsx or .parquet")
    report.add_argument("--out", required=True, metavar="DIR", help="folder for the report set")
    report.add_argument("--period", help="an academic year such as 2024-25 (default: all)")
    report.add_argument("--settings", help="only these settings, e.g. S01,S02")
    _audience_options(report)
    report.add_argument(
        "--compare-with",
        metavar="ID_OR_PATH",
        help="the policy the escalation page compares with (default: the other shipped one)",
    )
    _input_options(report)
    _policy_options(report)
    _engine_options(report)
    report.set_defaults(handler=_report)

    impact = commands.add_parser(
        "impact",
        help="what a change of policy or parameters would have meant for past incidents",
        description=(
            "Assess the same incidents under two policies (or one policy with different "
            "parameters) and publish an offline page, tables, the flipped incidents for "
            "follow-up and a manifest. --sweep evaluates the --from policy across values of "
            "one parameter."
        ),
    )
    impact.add_argument("input", metavar="INPUT", help="incident log: .csv, .xlsx or .parquet")
    impact.add_argument(
        "--from",
        dest="before",
        default="cheshire-quick-guide",
        metavar="POLICY",
        help="the policy in use (default cheshire-quick-guide)",
    )
    impact.add_argument(
        "--to",
        dest="after",
        metavar="POLICY",
        help="the proposed policy (default: the --from policy)",
    )
    impact.add_argument(
        "--from-param",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="a parameter of the --from policy; repeat for several",
    )
    impact.add_argument(
        "--to-param",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="a parameter of the --to policy; repeat for several",
    )
    impact.add_argument(
        "--sweep",
        metavar="NAME=V1,V2,...",
        help="values of one --from parameter, or a range such as 1..10",
    )
    impact.add_argument("--out", required=True, metavar="DIR", help="folder for the results")
    impact.add_argument("--settings", help="only these settings, e.g. S01,S02")
    impact.add_argument("--period", help="an academic year such as 2024-25 (default: all)")
    _audience_options(impact)
    _input_options(impact)
    _engine_options(impact)
    impact.set_defaults(handler=_impact)

    run = commands.add_parser(
        "run",
        help="run the report jobs a schedule file lists (for cron)",
        description=(
            "Run every report job in a schedule YAML file. A failing job does not stop the "
            "others. Exit 0 when every job succeeded, 1 otherwise."
        ),
    )
    run.add_argument("config", metavar="CONFIG", help="schedule YAML file")
    run.set_defaults(handler=_run)

    lab = commands.add_parser(
        "lab",
        help="open the notebooks in JupyterLab, copied to a private folder",
        description=(
            "Copy the report notebooks and explore.ipynb into an owner-only folder outside "
            "the repository (a copy already there is kept as you left it) and open "
            "JupyterLab there, on this machine only. What JupyterLab saves stays in that "
            "folder."
        ),
    )
    lab.add_argument(
        "--folder",
        metavar="DIR",
        help="where the copies live (default: ~/.local/share/ypsi-audit/lab)",
    )
    lab.add_argument(
        "--no-start", action="store_true", help="only copy the notebooks; do not open JupyterLab"
    )
    lab.set_defaults(handler=_lab)

    policies = commands.add_parser(
        "policies",
        help="list the shipped policies with their parameters",
        description="List the shipped policies, their parameters and defaults.",
    )
    policies.set_defaults(handler=_policies)

    synth = commands.add_parser(
        "synth",
        help="make a synthetic trust log for trying the tool",
        description=(
            "Make a realistic synthetic incident log for a trust over English academic "
            "years. The same seed always gives the same file."
        ),
    )
    synth.add_argument("--settings", type=int, default=12, help="number of settings (default 12)")
    synth.add_argument("--years", type=int, default=3, help="academic years (default 3)")
    synth.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    synth.add_argument("--rows", type=int, help="exact number of incidents instead")
    synth.add_argument(
        "--bias",
        metavar="COLUMN=GROUP:STRENGTH",
        help="plant a decision bias against a group, e.g. child_sen=true:0.2",
    )
    synth.add_argument(
        "--poor-recording",
        metavar="SETTINGS:STRENGTH",
        help="plant poor recording in named settings, e.g. S05,S08:0.6",
    )
    synth.add_argument("--out", required=True, help="OUT.csv, OUT.parquet or OUT.xlsx")
    synth.set_defaults(handler=_synth)
    _sql_command(commands)
    return parser


def _audience_options(command: argparse.ArgumentParser) -> None:
    command.add_argument(
        "--audience",
        choices=("internal", "publication"),
        default="internal",
        help="internal (default): every figure, for the safeguarding team only; "
        "publication: protected figures, proven safe before they are written",
    )
    command.add_argument(
        "--threshold",
        type=int,
        default=None,
        help="publication only: the smallest count that may be shown (5 to 50; default 5)",
    )
    command.add_argument(
        "--secret",
        metavar="FILE",
        help="publication only: the trust's cell-key secret file, made the first time "
        "(default: $YPSI_AUDIT_SECRET, else $XDG_CONFIG_HOME/ypsi-audit/cell-key.secret); "
        "keep it, and never put it in a report folder or a repository",
    )
    command.add_argument("--title", help="the trust's name, shown on every page")
    command.add_argument("--pdf", action="store_true", help="also print every page to PDF")
    command.add_argument(
        "--no-suppression",
        action="store_true",
        help=argparse.SUPPRESS,  # replaced by --audience; kept to say so
    )


def _input_options(command: argparse.ArgumentParser) -> None:
    command.add_argument("--sheet", help="XLSX only: the sheet to read (default: the first)")
    command.add_argument(
        "--mapping", metavar="FILE", help="YAML file renaming and recoding a setting's export"
    )


def _policy_options(command: argparse.ArgumentParser) -> None:
    command.add_argument(
        "--policy",
        default="cheshire-quick-guide",
        metavar="ID_OR_PATH",
        help="a shipped policy id or a policy YAML file (default: cheshire-quick-guide)",
    )
    command.add_argument(
        "--param",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="override a policy parameter; repeat for several",
    )


def parse_params(pairs: Sequence[str]) -> dict[str, str]:
    params: dict[str, str] = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep or not name.strip() or not value.strip():
            raise YpsiError(f"--param {pair}: write it as NAME=VALUE, for example under_age=13.")
        params[name.strip()] = value.strip()
    return params


def _assess(args: argparse.Namespace) -> int:
    if args.engine == "duckdb":
        return _assess_duckdb(args)
    from .assessing import assess_file

    result = assess_file(
        args.input,
        args.out,
        policy=args.policy,
        params=parse_params(args.param),
        sheet=args.sheet,
        mapping=args.mapping,
        strict=args.strict,
    )
    print(result.text)
    return result.exit_code


def _no_suppression(args: argparse.Namespace) -> None:
    if args.no_suppression:
        raise YpsiError(
            "--no-suppression is gone: the default --audience internal shows every figure to "
            "the safeguarding team, and --audience publication protects them for sharing."
        )


def _report(args: argparse.Namespace) -> int:
    from .reports.runner import main_progress, run
    from .reports.spec import RunSpec

    _no_suppression(args)
    _pandas_only(args)
    spec = RunSpec.build(
        "report",
        input=args.input,
        out=args.out,
        policy=args.policy,
        params=parse_params(args.param),
        compare_with=args.compare_with,
        audience=args.audience,
        threshold=args.threshold,
        title=args.title,
        period=args.period,
        settings=args.settings,
        mapping=args.mapping,
        sheet=args.sheet,
        pdf=args.pdf,
        secret=args.secret,
        engine=args.engine,
        memory_limit=args.memory_limit,
    )
    done = run(spec, progress=main_progress)
    return 1 if done.quarantined else 0


def _impact(args: argparse.Namespace) -> int:
    from .reports.runner import main_progress, run
    from .reports.spec import RunSpec

    _no_suppression(args)
    _pandas_only(args)
    if not args.after and not args.sweep and not (args.from_param or args.to_param):
        raise YpsiError("impact needs --to POLICY, --to-param/--from-param, or --sweep.")
    spec = RunSpec.build(
        "impact",
        input=args.input,
        out=args.out,
        policy=args.before,
        params=parse_params(args.from_param),
        compare_with=args.after or args.before,
        compare_params=parse_params(args.to_param),
        audience=args.audience,
        threshold=args.threshold,
        title=args.title,
        period=args.period,
        settings=args.settings,
        mapping=args.mapping,
        sheet=args.sheet,
        pdf=args.pdf,
        secret=args.secret,
        sweep=args.sweep,
        engine=args.engine,
        memory_limit=args.memory_limit,
    )
    done = run(spec, progress=main_progress)
    return 1 if done.quarantined else 0


def _run(args: argparse.Namespace) -> int:
    from .reports.runner import main_progress
    from .reports.schedule import load_jobs, run_jobs

    outcomes = run_jobs(load_jobs(args.config), progress=main_progress)
    for name, outcome in outcomes.items():
        print(f"{name}: {outcome}")
    return 0 if all(o == "ok" for o in outcomes.values()) else 1


def _validate(args: argparse.Namespace) -> int:
    from .assessing import validate_file

    result = validate_file(args.input, mapping=args.mapping, sheet=args.sheet)
    print(result.text)
    return result.exit_code


def _lab(args: argparse.Namespace) -> int:
    from pathlib import Path

    from .lab import default_folder, prepare, start

    folder = Path(args.folder).expanduser().resolve() if args.folder else default_folder()
    copies = prepare(folder)
    print(f"{len(copies)} notebooks in {folder} (owner-only; JupyterLab's saves stay there).")
    return 0 if args.no_start else start(folder)


def _policies(args: argparse.Namespace) -> int:
    from .policy import available_policies, load_policy

    for policy_id in available_policies():
        policy = load_policy(policy_id)
        print(f"{policy.label}  {policy.title}")
        print(
            f"  {len(policy.factors)} factors, {len(policy.experimental)} experimental "
            f"criteria, {len(policy.recording)} recording requirements"
        )
        for name, spec in policy.parameters.items():
            allowed = (
                f"{spec.minimum} to {spec.maximum}"
                if spec.type == "int"
                else f"a level of {spec.of}"
            )
            print(f"  --param {name}={spec.default}  ({allowed}) {spec.description}")
    return 0


def _synth(args: argparse.Namespace) -> int:
    from .synth import BiasPlan, RecordingPlan, generate, write_log

    if args.settings < 1 or args.years < 1 or (args.rows is not None and args.rows < 1):
        raise YpsiError("--settings, --years and --rows must be at least 1.")
    bias = recording = None
    if args.bias:
        target, strength = _plant(args.bias, "--bias", "child_sen=true:0.2")
        column, _, group = target.partition("=")
        bias = BiasPlan(column.strip(), group.strip(), strength)
    if args.poor_recording:
        names, strength = _plant(args.poor_recording, "--poor-recording", "S05,S08:0.6")
        recording = RecordingPlan(tuple(n.strip() for n in names.split(",")), strength)
    try:
        frame = generate(
            args.settings, args.years, args.seed, n=args.rows, bias=bias, poor_recording=recording
        )
    except ValueError as error:
        raise YpsiError(str(error)) from None
    write_log(frame, args.out)
    print(f"Wrote {len(frame):,} synthetic incidents from {args.settings} settings to {args.out}.")
    return 0


def _plant(text: str, option: str, example: str) -> tuple[str, float]:
    target, _, strength = text.rpartition(":")
    try:
        value = float(strength)
    except ValueError:
        value = -1.0
    if not target or not 0 <= value <= 1:
        raise YpsiError(f"{option} {text}: write it like {example}, with a strength from 0 to 1.")
    return target, value


def _engine_options(command: argparse.ArgumentParser) -> None:
    command.add_argument(
        "--engine",
        choices=("pandas", "duckdb"),
        default="pandas",
        help="pandas (default): in memory; duckdb: CSV or Parquet of any size, out of core",
    )
    command.add_argument(
        "--memory-limit",
        default="4GB",
        metavar="SIZE",
        help="duckdb only: memory DuckDB may use before spilling to disk (default 4GB)",
    )


def _pandas_only(args: argparse.Namespace) -> None:
    """--mapping and --sheet need the pandas engine (DuckDB reads the contract's own CSV or
    Parquet)."""
    if args.engine != "duckdb":
        return
    for option, value in (("--mapping", args.mapping), ("--sheet", args.sheet)):
        if value:
            raise YpsiError(
                f"{option} works with --engine pandas only; leave it out, or use pandas."
            )


def _assess_duckdb(args: argparse.Namespace) -> int:
    from .duck_job import assess_file

    _pandas_only(args)
    try:
        result = assess_file(
            args.input,
            args.out,
            policy=args.policy,
            params=parse_params(args.param),
            strict=args.strict,
            memory_limit=args.memory_limit,
        )
    except ValueError as error:
        raise YpsiError(f"--memory-limit: {error}.") from None
    print(result.text)
    return result.exit_code


def _sql_command(commands: argparse._SubParsersAction) -> None:
    sql = commands.add_parser(
        "sql",
        help="print a policy as one SQL query, to run where the data is",
        description=(
            "Print one SQL query that assesses a table of incidents (the contract's columns "
            "with SQL types) under a policy: every output column of assess."
        ),
    )
    _policy_options(sql)
    sql.add_argument(
        "--dialect",
        required=True,
        metavar="NAME",
        help="duckdb, spark, bigquery, snowflake or postgres",
    )
    sql.add_argument("--table", default="incidents", help="the table to read (default incidents)")
    sql.add_argument(
        "--states", action="store_true", help="add every rule's state as a small integer column"
    )
    sql.set_defaults(handler=_sql)


def _sql(args: argparse.Namespace) -> int:
    import re

    from .sql import DIALECTS, compile_policy

    if args.dialect not in DIALECTS:
        raise YpsiError(f"--dialect {args.dialect}: use one of {', '.join(DIALECTS)}.")
    if not re.fullmatch(r"[A-Za-z_][\w$-]*(?:\.[A-Za-z_][\w$-]*){0,2}", args.table):
        raise YpsiError(
            "--table: give a table name such as incidents or dataset.incidents "
            "(letters, digits and _)."
        )
    params = parse_params(args.param)
    query = compile_policy(
        args.policy, params, dialect=args.dialect, table=args.table, with_states=args.states
    )
    from .policy import load_policy

    policy = load_policy(args.policy)
    values = policy.resolve_params(params)
    settings = ", ".join(f"{k}={v}" for k, v in values.items()) or "none"
    print(f"-- ypsi-audit: {policy.label} for {args.dialect}; parameters: {settings}")
    print(f"-- reads {args.table}: the data contract's columns with SQL types")
    print(query + ";")
    return 0


def _version() -> str:
    from . import __version__

    return f"ypsi-audit {__version__}"


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
