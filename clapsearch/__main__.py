"""`python -m clapsearch` = the `clapsearch` command."""

from .cli import cli

if __name__ == "__main__":
    cli()
