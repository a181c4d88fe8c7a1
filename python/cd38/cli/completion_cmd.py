"""``cd38 completion SHELL``: print the shell-completion script."""

from __future__ import annotations

import click
from click.shell_completion import get_completion_class

__all__ = ["completion"]


@click.command()
@click.argument("shell", type=click.Choice(["bash", "zsh", "fish"]))
def completion(shell: str) -> None:
    """Print the completion script for SHELL.

    \b
    bash:  eval "$(cd38 completion bash)"      (add to ~/.bashrc)
    zsh:   eval "$(cd38 completion zsh)"       (add to ~/.zshrc)
    fish:  cd38 completion fish > ~/.config/fish/completions/cd38.fish
    """
    from cd38.cli.app import main

    cls = get_completion_class(shell)
    assert cls is not None  # the choices above are click's own shells
    click.echo(cls(main, {}, "cd38", "_CD38_COMPLETE").source())
