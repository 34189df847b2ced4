"""The API keys of this process, re-read when the keys file changes (no restart to revoke)."""

from __future__ import annotations

from pathlib import Path

from api.auth import KeyRing, load_ring


class KeyStore:
    def __init__(self, path: Path) -> None:
        self._path = path
        self._stamp: tuple[float, int] | None = None
        self._ring = KeyRing()

    def ring(self) -> KeyRing:
        """The current keys; a stat per call, a re-read only when the file changed."""
        try:
            stat = self._path.stat()
            stamp = (stat.st_mtime, stat.st_size)
        except FileNotFoundError:
            return KeyRing()
        if stamp != self._stamp:
            self._ring = load_ring(self._path)
            self._stamp = stamp
        return self._ring
