"""Print a fenced ``sh`` block of README.md's "## Quick start" section.

Usage: python3 .ci/quickstart.py run|test  (the first block runs the catalog, the second tests)
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

README = Path(__file__).resolve().parent.parent / "README.md"


def quickstart_blocks(text: str) -> list[str]:
    """Return the bodies of the fenced sh blocks in the Quick start section."""
    section = text.split("\n## Quick start\n", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"^```sh\n(.*?)^```$", section, flags=re.MULTILINE | re.DOTALL)


def main() -> None:
    """Print the requested block."""
    blocks = quickstart_blocks(README.read_text(encoding="utf-8"))
    if len(blocks) != 2:  # noqa: PLR2004 - the README promises exactly two
        sys.exit(f"README.md's Quick start has {len(blocks)} sh blocks, expected 2")
    sys.stdout.write(blocks[{"run": 0, "test": 1}[sys.argv[1]]])


if __name__ == "__main__":
    main()
