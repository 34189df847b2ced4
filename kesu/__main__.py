"""`python -m kesu` is the `kesu` command."""

from kesu.cli import main

main()
