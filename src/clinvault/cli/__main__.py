"""`python -m clinvault.cli`: the same as the `clinvault` command."""

from clinvault.cli.app import main

main()
