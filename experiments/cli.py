"""The ``sparft`` command: one subcommand per module, dispatched lazily.

Each subcommand lives in its own module ``sparft.experiments.cmd_<name>`` that
defines ``HELP`` (one line), ``add_arguments(parser)`` and ``run(args) -> int``.
Modules import their heavy dependencies inside ``run`` so that ``sparft --help``
stays fast.

Bad input anywhere below (a ``ValueError``, a missing file) ends the command
with one line on stderr naming the problem and exit code 2, never a traceback;
``SPARFT_DEBUG=1`` shows the traceback instead.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from collections.abc import Sequence

# Order is the order shown by ``sparft --help``.
COMMANDS = (
    "demo",
    "run",
    "bench",
    "sweep",
    "calibrate",
    "cluster",
    "strategies",
    "bandits",
    "plugins",
)

EXIT_BAD_INPUT = 2


def _load(name: str):
    try:
        return importlib.import_module(f"sparft.experiments.cmd_{name}")
    except ModuleNotFoundError as e:
        if e.name == f"sparft.experiments.cmd_{name}":
            return None
        raise


class _Parser(argparse.ArgumentParser):
    """argparse, with a bad option said in one line (the usage is one ``--help`` away)."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.exit(EXIT_BAD_INPUT, f"{self.prog}: error: {message}; see {self.prog} --help\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="sparft",
        description="Self-paced reinforcement fine-tuning: curricula, bandits and GRPO.",
    )
    from sparft import __version__

    parser.add_argument("--version", action="version", version=f"sparft {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMANDS:
        module = _load(name)
        if module is None:
            continue
        p = sub.add_parser(
            name,
            help=module.HELP,
            description=(module.__doc__ or module.HELP).strip(),
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )
        module.add_arguments(p)
        p.set_defaults(_module=module)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    # vLLM logs to stdout at INFO by default, into this command's tables: send its
    # warnings and errors to stderr instead, unless the user set either variable.
    os.environ.setdefault("VLLM_LOGGING_STREAM", "ext://sys.stderr")
    os.environ.setdefault("VLLM_LOGGING_LEVEL", "WARNING")
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as e:  # --help, --version, or a bad option (said in one line)
        return e.code if isinstance(e.code, int) else EXIT_BAD_INPUT
    if not getattr(args, "_module", None):
        parser.print_help()
        return EXIT_BAD_INPUT
    try:
        return int(args._module.run(args) or 0)
    except BrokenPipeError:
        # Output piped into `head` and the like: stop quietly, as Unix tools do.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except KeyboardInterrupt:
        hint = getattr(args._module, "INTERRUPTED", "re-run with --resume to continue")
        print(f"sparft: interrupted; {hint}", file=sys.stderr)
        return 130
    except (ValueError, FileNotFoundError, NotADirectoryError, PermissionError, KeyError) as e:
        if os.environ.get("SPARFT_DEBUG"):
            raise
        msg = e.args[0] if isinstance(e, KeyError) and e.args else e
        print(f"sparft {args.command}: error: {msg}", file=sys.stderr)
        return EXIT_BAD_INPUT


if __name__ == "__main__":
    sys.exit(main())
