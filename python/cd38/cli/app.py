"""The ``cd38`` command: a click group of the commands in this package.

Errors a user can act on (a missing or corrupt file, a bad option value) end
the command with one line naming the file and exit code 1; ``--debug`` shows
the traceback instead. Usage errors exit with 2, as click does.
"""

from __future__ import annotations

from typing import Any

import click

from cd38.cli._common import INPUT_ERRORS, State, common_options, report_error, state

__all__ = ["main"]


class _App(click.Group):
    """A group that turns input errors into one line (exit 1) instead of a traceback."""

    def invoke(self, ctx: click.Context) -> Any:
        ctx.ensure_object(State)  # shared with every subcommand's context
        try:
            return super().invoke(ctx)
        except (click.exceptions.Exit, click.ClickException, click.Abort):
            raise
        except INPUT_ERRORS as e:
            if state().debug:
                raise
            report_error(None, e)
            ctx.exit(1)
        except Exception as e:
            if state().debug:
                raise
            report_error(
                None,
                RuntimeError(
                    f"internal error ({type(e).__name__}: {e}); rerun with --debug "
                    "for the traceback and please report it"
                ),
            )
            ctx.exit(1)


def _version() -> str:
    from cd38 import __version__

    return __version__


@click.group(cls=_App, context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(_version(), "-V", "--version", prog_name="cd38")
@common_options
def main() -> None:
    """Flow-cytometry B-cell analysis: read FCS files, gate them, interpret CD38/IgM subsets.

    \b
    cd38 info sample.fcs                      what is in a file
    cd38 gate *.fcs --panel bcell --out stats.parquet
    cd38 report sample.fcs --panel bcell --context NAME --subject subject.toml --out report.html
    cd38 demo                                 the whole path on a generated sample
    """


def _register() -> None:
    from cd38.cli.anonymize_cmd import anonymize
    from cd38.cli.batch_cmd import batch
    from cd38.cli.completion_cmd import completion
    from cd38.cli.contexts_cmd import contexts
    from cd38.cli.demo_cmd import demo
    from cd38.cli.gate_cmd import gate
    from cd38.cli.info_cmd import info
    from cd38.cli.interpret_cmd import interpret
    from cd38.cli.report_cmd import report

    for cmd in (info, gate, interpret, report, contexts, demo, batch, anonymize, completion):
        main.add_command(cmd)


_register()
