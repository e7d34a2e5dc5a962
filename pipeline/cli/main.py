"""Command line: `python -m pipeline ingest|explain|stats|export` (or `role-claims`). Thin: parse, configure
logging, call. The exit codes are `EXIT_CODES`, which `--help` prints.
"""

from __future__ import annotations

import argparse
import itertools
import json
import logging
import os
import re
import sqlite3
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from tqdm import tqdm

from .. import __version__
from ..config import ConfigError, load
from ..corpus.state import StateError
from ..model import PAGE_OUTCOMES, pages_in
from ..output.write import OutputError
from ..run import local, runner
from ..run.cluster import SchedulerError
from ..stages.claims import NO_CLAIMS
from ..text import printable

PROJECT_CONFIG = Path(__file__).resolve().parents[2] / "config.toml"
EXIT_OK, EXIT_FAILED_INPUTS, EXIT_USAGE, EXIT_LOCKED, EXIT_INTERNAL = 0, 1, 2, 3, 4
log = logging.getLogger(__name__)
errors = logging.getLogger("pipeline.error")  # the one line of an error that ends the command
inputs_log = logging.getLogger("pipeline.input")  # an input that failed: its path and why
OWN_LINES = ("pipeline.summary", "pipeline.error", "pipeline.input")  # plain text, without level and logger
summary_log = logging.getLogger("pipeline.summary")  # the run's last line: shown with -q too (cron reads it)
# Libraries that log at INFO on their own: quiet unless -v (Dask prints its cluster's life otherwise).
CHATTY = ("distributed", "dask", "tornado", "asyncio", "bokeh")


class Parser(argparse.ArgumentParser):
    """No abbreviated options (`--ful` is an error, not `--full`), help text as written, usage errors
    in one line with exit code 2."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("allow_abbrev", False)
        kwargs.setdefault("formatter_class", argparse.RawDescriptionHelpFormatter)
        super().__init__(*args, **kwargs)

    json_errors = False  # set by main when the arguments ask for JSON logs: a usage error is one too

    def error(self, message: str) -> None:  # one line, exit 2, as for every usage error
        if Parser.json_errors:
            line = json.dumps({"time": datetime.now(UTC).isoformat(timespec="milliseconds"), "level": "ERROR",
                               "logger": "pipeline.error", "message": f"{self.prog}: error: {message}",
                               "event": "usage_error", "exit_code": EXIT_USAGE}, ensure_ascii=False)
            self.exit(EXIT_USAGE, line + "\n")
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message}\n")


def positive_int(value: str) -> int:
    try:
        n = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {value}") from None
    if n < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return n


SCHEDULER = re.compile(r"(?:(?:tcp|tls|inproc|ucx|ws|wss)://)?[\w.\-\[\]:]+:\d+")


def scheduler_address(value: str) -> str:
    """'local', or a Dask scheduler address (tcp://host:8786, host:8786)."""
    if value == "local" or SCHEDULER.fullmatch(value):
        return value
    raise argparse.ArgumentTypeError(f"not 'local' nor a scheduler address like tcp://host:8786: {value}")


EXIT_CODES = """exit codes:
  0  every input processed
  1  finished, but some inputs failed (each in the log, the manifest and the report)
  2  usage, configuration or environment error (one line: bad flags or config, an --out that is not
     a new folder or an earlier corpus, an unreadable state, a full disk, no scheduler answering)
  3  another run holds the output folder
  4  internal error (a bug: one line; -v shows the traceback)"""

EXAMPLES = {
    "ingest": "  python -m pipeline ingest raw/\n"
              "  python -m pipeline ingest /data/pages --out /data/corpus -q --log-format json",
    "explain": "  python -m pipeline explain raw/article_rules.html\n"
               "  python -m pipeline explain /data/pages/site/page.html --corpus /data/corpus",
    "stats": "  python -m pipeline stats clean",
    "export": "  python -m pipeline export clean > claims.jsonl",
}


def build_parser() -> Parser:
    parser = Parser(prog="python -m pipeline", description="Scraped Chinese web pages to a clean, deduplicated "
                    "corpus of role-definition claims.",
                    epilog="examples:\n" + "\n".join(EXAMPLES.values()) + f"\n\n{EXIT_CODES}")
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=Parser, metavar="COMMAND")

    def command(name: str, about: str) -> Parser:
        epilog = f"examples:\n{EXAMPLES[name]}\n\n{EXIT_CODES}"
        return sub.add_parser(name, help=about, description=about, epilog=epilog)

    ing = command("ingest", "turn every page under RAW_DIR into the corpus (only new and changed files "
                            "on later nights)")
    ing.add_argument("raw_dir", type=Path, metavar="RAW_DIR",
                     help="folder of pages: HTML, text dumps, .jsonl, .warc(.gz), gzip of any, in any tree")
    ing.add_argument("--out", type=Path, default=Path("clean"), help="output folder (default: clean/)")
    ing.add_argument("--config", type=Path, help="config file (default: config.toml at the project root)")
    ing.add_argument("--workers", type=positive_int, default=local.default_workers(),
                     help="worker processes (default: all cores)")
    ing.add_argument("--scheduler", metavar="ADDRESS", type=scheduler_address,
                     help="run the per-page work on a Dask cluster: a scheduler address (tcp://host:8786), or "
                          "'local' for a local cluster of --workers processes")
    ing.add_argument("--full", action="store_true",
                     help="rebuild from RAW_DIR alone, forgetting what earlier runs learned")
    ing.add_argument("--dry-run", action="store_true", help="process everything, write nothing")
    verbosity = ing.add_mutually_exclusive_group()
    verbosity.add_argument("-v", "--verbose", action="store_true",
                           help="debug lines too, and a traceback for an internal error")
    verbosity.add_argument("-q", "--quiet", action="store_true",
                           help="only warnings, failed inputs, errors and the summary line (for cron)")
    ing.add_argument("--log-format", choices=("text", "json"), default="text",
                     help="log lines on stderr as text (default) or one JSON object each, for cron and log shippers")
    exp = command("explain", "show why each line of FILE was kept or removed, and its claims")
    exp.add_argument("file", type=Path, metavar="FILE", help="one input file, as ingest would read it")
    exp.add_argument("--config", type=Path, help="config file (default: config.toml at the project root)")
    exp.add_argument("--corpus", type=Path, metavar="DIR",
                     help="an output folder of ingest: take out the site template lines its state learned too")
    exp.add_argument("--color", choices=("auto", "always", "never"), default="auto",
                     help="colour the lines (default: on a terminal only; NO_COLOR turns it off)")
    st = command("stats", "key figures of an output folder (the report's, as text)")
    st.add_argument("dir", type=Path, nargs="?", default=Path("clean"), metavar="DIR",
                    help="the output folder of ingest (default: clean/)")
    ex = command("export", "the claims of an output folder as JSON lines on stdout, one object a claim")
    ex.add_argument("dir", type=Path, nargs="?", default=Path("clean"), metavar="DIR",
                    help="the output folder of ingest (default: clean/)")
    return parser


def config_for(path: Path | None):
    if path is not None:
        return load(path)
    return load(PROJECT_CONFIG) if PROJECT_CONFIG.is_file() else load(None)


class JsonFormatter(logging.Formatter):
    """One JSON object per log line: time, level, logger, message, and a run summary's fields."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {"time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
                 "level": record.levelname, "logger": record.name, "message": record.getMessage(),
                 **getattr(record, "fields", {})}
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False)


class TextFormatter(logging.Formatter):
    """Plain log lines, control characters escaped: a file name with a newline or ESC in it can neither
    forge a log line nor reach the terminal raw."""

    def formatMessage(self, record: logging.LogRecord) -> str:
        record.message = printable(record.message)
        if record.name in OWN_LINES:
            return record.message  # the command's own lines, as the README shows them
        return super().formatMessage(record)


def configure_logging(level: int, fmt: str) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter() if fmt == "json" else TextFormatter("%(levelname)s %(name)s: %(message)s"))
    logging.basicConfig(level=level, handlers=[handler], force=True)


def summary(result: runner.RunResult, out: str) -> tuple[str, dict[str, object]]:
    """The run's last log line, and its fields for JSON logs."""
    counts = result.manifest["counts"]
    inputs = counts["inputs"]
    pages = {k: inputs.get(k, 0) for k in PAGE_OUTCOMES}
    fields = {"out": out, "run_id": result.manifest.get("run_id"), "pages_in": pages_in(inputs), **pages,
              "skipped": inputs.get("skipped", 0), "claims_new": counts.get("claims_added", 0),
              "claims_total": counts["claims"], "seconds": result.manifest["seconds"],
              "failed_inputs": [{"path": f.path, "reason": f.reason} for f in result.failed]}
    none = counts.get("pages_without_claims", {})
    fields["pages_without_claims"] = none
    text = ("{out}: pages in {pages_in} (ingested {ingested}, unchanged {unchanged}, dropped {dropped}, "
            "failed {failed}); skipped {skipped} other files; claims new {claims_new}, total {claims_total}; "
            "{seconds:.1f}s").format(**fields)
    if pages["ingested"] and not fields["claims_new"] and "claims_added" in counts:  # not a dry run: say why
        why = "; ".join(f"{n}: {NO_CLAIMS[k]}" for k, n in sorted(none.items(), key=lambda kv: (-kv[1], kv[0])))
        text += (f"; no new claims: {sum(none.values())} of {pages['ingested']} pages gave none ({why})" if none
                 else "; no new claims: every claim tonight's pages gave was already in the corpus")
    return text, fields


def main(argv: list[str] | None = None) -> int:
    words = sys.argv[1:] if argv is None else argv
    Parser.json_errors = "--log-format=json" in words or any(
        pair == ("--log-format", "json") for pair in itertools.pairwise(words))
    args = build_parser().parse_args(argv)
    quiet = getattr(args, "quiet", False)
    level = logging.DEBUG if getattr(args, "verbose", False) else logging.WARNING if quiet else logging.INFO
    configure_logging(level, getattr(args, "log_format", "text"))
    summary_log.setLevel(logging.INFO)
    # trafilatura reports every page it cannot parse at ERROR; our fallback handles those pages.
    logging.getLogger("trafilatura").setLevel(level if level == logging.DEBUG else logging.CRITICAL)
    if getattr(args, "scheduler", None):
        # Dask sets its loggers' levels from its config when it is imported, in this process and in each
        # worker process it starts: say the level there (the environment reaches the workers), then import.
        os.environ.setdefault("DASK_LOGGING__DISTRIBUTED", "info" if level == logging.DEBUG else "warning")
        try:
            import distributed  # noqa: F401
        except ImportError:
            return fail("--scheduler needs Dask: pip install -e '.[cluster]'", EXIT_USAGE)
    for name in CHATTY:
        logging.getLogger(name).setLevel(logging.INFO if level == logging.DEBUG else logging.WARNING)
    try:
        return run(args, quiet)
    except KeyboardInterrupt:
        errors.error("interrupted; the previous corpus is untouched", extra={"fields": {"event": "interrupted"}})
        return 130
    except BrokenPipeError:  # `stats | head`: the reader has what it wanted
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_OK
    except (ConfigError, StateError, OutputError, SchedulerError) as exc:
        return fail(str(exc), EXIT_USAGE)
    except runner.LockedError as exc:
        return fail(str(exc), EXIT_LOCKED)
    except sqlite3.DatabaseError as exc:  # the state went bad under the run (disk full, a file corrupted mid-way)
        if "full" in str(exc) or "readonly" in str(exc) or "disk I/O" in str(exc):
            return fail(f"cannot write the state: {exc}", EXIT_USAGE)
        return fail(f"unreadable state ({exc}); run with --full to rebuild", EXIT_USAGE)
    except OSError as exc:  # the environment: a full or read-only disk, a folder it may not write
        where = f": {exc.filename}" if exc.filename else ""
        return fail(f"{exc.strerror or exc}{where}", EXIT_USAGE)
    except Exception as exc:
        log.debug("internal error", exc_info=True)
        return fail(f"internal error (a bug; -v shows the traceback): {type(exc).__name__}: {exc}", EXIT_INTERNAL)


@contextmanager
def progress_bar(total: int) -> Iterator[Callable[[int], object]]:
    """The run's progress on the terminal: one tick a file."""
    with tqdm(total=total, unit="file", file=sys.stderr, dynamic_ncols=True) as bar:
        yield bar.update


def fail(message: str, code: int) -> int:
    """The one line a user sees for an error that ends the run (a log record: one JSON object in JSON
    mode), and its exit code."""
    errors.error("error: %s", message, extra={"fields": {"event": "error", "exit_code": code}})
    return code


def run(args: argparse.Namespace, quiet: bool) -> int:
    """The command the arguments name (errors are turned into exit codes by `main`)."""
    if args.command == "stats":
        from . import stats

        return stats.main(args.dir)
    if args.command == "export":
        from . import export

        return export.main(args.dir)
    cfg = config_for(args.config)
    if args.command == "explain":
        from . import explain

        return explain.main(args.file, cfg, args.color, args.corpus)
    if not args.raw_dir.is_dir():
        return fail(f"not a folder: {args.raw_dir}", EXIT_USAGE)
    result = runner.ingest(args.raw_dir, args.out, cfg, workers=args.workers, dry_run=args.dry_run,
                           progress=progress_bar if sys.stderr.isatty() and not quiet else None, full=args.full,
                           scheduler=args.scheduler)
    for failure in result.failed:
        inputs_log.warning("failed: %s: %s", failure.path, failure.reason, extra={"fields": {
            "event": "input_failed", "path": failure.path, "reason": failure.reason}})
    text, fields = summary(result, "dry run" if args.dry_run else str(args.out))
    summary_log.info(text, extra={"fields": fields})
    return EXIT_FAILED_INPUTS if result.failed else EXIT_OK

