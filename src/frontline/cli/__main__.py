"""`python -m frontline.cli`: the same as the `frontline` command."""

from frontline.cli import main

main()
