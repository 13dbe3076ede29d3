"""Command-line interface: ``coverage-gis audit | validate | batch | catalog | …``.

Exit codes: 0 success; 2 bad input (the message names file, row, column and value, in
Chinese and English); 1 internal error. Each sub-command lives in its own module and
registers itself on :data:`cli`.
"""

from __future__ import annotations

import sys
import traceback

import click

from coverage_gis import __version__
from coverage_gis.core.errors import InputError
from coverage_gis.export.safety import terminal_safe

__all__ = ["cli", "main"]

EXIT_OK, EXIT_INTERNAL, EXIT_INPUT = 0, 1, 2


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, prog_name="coverage-gis")
def cli() -> None:
    """镇(街道)民政设施覆盖审计 / Township-level civil-affairs facility coverage audits."""


def main(argv: list[str] | None = None) -> int:
    """Run the CLI and map errors to exit codes (0 ok, 2 bad input, 1 internal)."""
    try:
        # With standalone_mode=False click *returns* the code of a click Exit.
        rv = cli.main(args=argv, prog_name="coverage-gis", standalone_mode=False)
        if isinstance(rv, int) and not isinstance(rv, bool) and rv != 0:
            return _exit(rv, argv)
    except InputError as exc:
        click.echo(f"错误 / error:\n{terminal_safe(exc.describe())}", err=True)
        return _exit(EXIT_INPUT, argv)
    except click.exceptions.Exit as exc:
        return _exit(exc.exit_code, argv)
    except click.ClickException as exc:
        exc.show()
        return _exit(EXIT_INPUT, argv)
    except click.exceptions.Abort:
        click.echo("已取消 / aborted", err=True)
        return _exit(EXIT_INTERNAL, argv)
    except Exception as exc:
        click.echo(
            terminal_safe(
                f"内部错误 / internal error: {type(exc).__name__}: {exc}\n"
                "请将以下信息报告给开发者 / please report this with the details below:\n"
                + traceback.format_exc()
            ),
            err=True,
        )
        return _exit(EXIT_INTERNAL, argv)
    return _exit(EXIT_OK, argv)


def _exit(code: int, argv: list[str] | None) -> int:
    if argv is None:  # console-script entry point
        sys.exit(code)
    return code


# Register sub-commands (each module adds its commands to ``cli``).
from coverage_gis.cli import access as _access  # noqa: E402,F401
from coverage_gis.cli import audit as _audit  # noqa: E402,F401
from coverage_gis.cli import gui as _gui  # noqa: E402,F401
from coverage_gis.cli import map as _map  # noqa: E402,F401
from coverage_gis.cli import site as _site  # noqa: E402,F401
