"""Photos as files under a folder (UPLOADS_DIR, by default `.data/uploads` in the project)."""

from __future__ import annotations

import asyncio
import os
import tempfile
from pathlib import Path

from domain.storage import InvalidKey, ObjectMissing, check_key

# The project's root: a relative UPLOADS_DIR is under it, as `.data` is for `make run`, whatever
# folder a process was started from.
ROOT = Path(__file__).resolve().parents[2]


def uploads_root(uploads_dir: str) -> Path:
    path = Path(uploads_dir)
    return (path if path.is_absolute() else ROOT / path).resolve()


class LocalStore:
    name = "local"

    def __init__(self, root: Path) -> None:
        self.root = root.resolve()

    def path_of(self, key: str) -> Path:
        path = (self.root / check_key(key)).resolve()
        # check_key already refuses anything that climbs; this also stops a symlink planted
        # inside the folder from sending a write elsewhere.
        if not path.is_relative_to(self.root):
            raise InvalidKey(f"not a storage key: {key!r}")
        return path

    async def put(self, key: str, data: bytes, content_type: str) -> None:
        await asyncio.to_thread(self._put, self.path_of(key), data)

    async def get(self, key: str) -> bytes:
        return await asyncio.to_thread(self._get, self.path_of(key))

    async def delete(self, key: str) -> None:
        await asyncio.to_thread(self.path_of(key).unlink, missing_ok=True)

    @staticmethod
    def _put(path: Path, data: bytes) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        # Written beside and renamed into place: a crash mid-write leaves a stray temporary file,
        # never a truncated photo under the key.
        fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=".upload-")
        try:
            with os.fdopen(fd, "wb") as out:
                out.write(data)
                out.flush()
                os.fsync(out.fileno())
            os.replace(temporary, path)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise

    @staticmethod
    def _get(path: Path) -> bytes:
        try:
            return path.read_bytes()
        except FileNotFoundError as exc:
            raise ObjectMissing(str(path.name)) from exc
