"""Data at rest is private: `AGENT_HOME` is mode 0700 and every file in it 0600.

`secure_home` sets the process umask to 077 (so every file created afterwards — ledger, Chroma,
logs, adapters, run records — is private from birth) and fixes what an older version or another
tool left readable, where this user owns it. It returns what it fixed so callers can warn.
"""

from __future__ import annotations

import logging
import os
import stat
from pathlib import Path

log = logging.getLogger("hippo")


def _fix(path: Path, mode: int) -> bool:
    st = path.lstat()
    if stat.S_ISLNK(st.st_mode) or st.st_uid != os.getuid() or not st.st_mode & 0o077:
        return False
    os.chmod(path, mode)
    return True


def secure_home(home: str | Path) -> list[Path]:
    """Make `home` (created if missing) and everything under it private; returns what was fixed."""
    os.umask(0o077)
    home = Path(home)
    home.mkdir(parents=True, exist_ok=True, mode=0o700)
    fixed = [home] if _fix(home, 0o700) else []
    for root, dirs, files in os.walk(home):
        fixed += [Path(root, d) for d in dirs if _fix(Path(root, d), 0o700)]
        fixed += [Path(root, f) for f in files if _fix(Path(root, f), 0o600)]
    if fixed:
        log.warning("%s: %d file(s) were readable by other users; made them private (0600/0700)", home, len(fixed))
    return fixed
