"""Exit 0 when every `name==version` pin of a requirements file is installed, else 1 (names the first miss)."""
import re
import sys
from importlib import metadata

for line in open(sys.argv[1], encoding="utf-8"):
    line = line.split("#", 1)[0].strip()
    if not line:
        continue
    match = re.fullmatch(r"([A-Za-z0-9_.-]+)(\[[^\]]*\])?==([^\s;]+)", line)
    if not match:
        print(f"check-pins: not a pin: {line}", file=sys.stderr)
        sys.exit(1)
    name, _, version = match.groups()
    try:
        installed = metadata.version(name)
    except metadata.PackageNotFoundError:
        installed = None
    if installed != version:
        print(f"{name}: {installed or 'missing'}, pinned {version}")
        sys.exit(1)
sys.exit(0)
