"""`python -m clinvault.access_matrix > docs/access-control.md`."""

from __future__ import annotations

import sys

from clinvault.access_matrix.render import render_markdown


def main() -> None:
    sys.stdout.write(render_markdown())


if __name__ == "__main__":
    main()
