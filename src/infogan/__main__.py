"""`python -m infogan ...` is the same as the `infogan` command."""

from infogan.cli import main

main()
