"""The photo stores: files under a folder, and an S3-compatible bucket through the real boto3
against a real local S3 server (moto's, over HTTP). Both keep bytes exactly, refuse keys that
could leave their place, and say when a key holds nothing."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from domain.storage import InvalidKey, ObjectMissing, PhotoStore, check_key
from providers.storage import LocalStore, photo_store, uploads_root
from providers.storage.local import ROOT
from providers.storage.s3 import S3Store
from tests.conftest import make_settings
from tests.support.s3_server import LocalS3, local_s3

KEY = (
    "service-requests/0b8c2f4e-7d1a-4c7e-9f55-3f7f3c1b2a10/5d0c9e51-8f0b-4b0b-a5b8-0c2d9e6f1a22.jpg"
)
DATA = b"\xff\xd8\xff\xe0" + os.urandom(70_000)

CLIMBING = [
    "",
    "/etc/passwd",
    "../outside.jpg",
    "a/../../outside.jpg",
    "a/./b.jpg",
    "a//b.jpg",
    "a/b/",
    "a\\..\\b.jpg",
    "A/B.jpg",  # ours are lower case: anything else did not come from us
    "a/b.jpg\x00",
    "a/" + "b" * 300,
]


@pytest.fixture(scope="module")
def s3() -> Iterator[LocalS3]:
    with local_s3() as server:
        yield server


@pytest.fixture(params=["local", "s3"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> PhotoStore:
    if request.param == "local":
        return photo_store(make_settings(uploads_dir=str(tmp_path / "uploads")))
    s3: LocalS3 = request.getfixturevalue("s3")
    return photo_store(s3.settings(make_settings()))


async def test_bytes_come_back_exactly_and_go_away_when_deleted(store: PhotoStore) -> None:
    await store.put(KEY, DATA, "image/jpeg")
    assert await store.get(KEY) == DATA
    await store.put(KEY, b"\x89PNG\r\n\x1a\nsecond", "image/png")  # replaced, whole
    assert await store.get(KEY) == b"\x89PNG\r\n\x1a\nsecond"
    await store.delete(KEY)
    with pytest.raises(ObjectMissing):
        await store.get(KEY)
    await store.delete(KEY)  # already gone: nothing happens


@pytest.mark.parametrize("key", CLIMBING)
async def test_a_key_that_is_not_ours_is_refused_by_every_call(store: PhotoStore, key: str) -> None:
    with pytest.raises(InvalidKey):
        await store.put(key, DATA, "image/jpeg")
    with pytest.raises(InvalidKey):
        await store.get(key)
    with pytest.raises(InvalidKey):
        await store.delete(key)


def test_our_keys_pass() -> None:
    assert check_key(KEY) == KEY


async def test_local_files_are_under_the_folder_created_as_needed(tmp_path: Path) -> None:
    store = LocalStore(tmp_path / "uploads")
    await store.put(KEY, DATA, "image/jpeg")
    assert (tmp_path / "uploads" / KEY).read_bytes() == DATA
    # Nothing but the photo is left (the temporary file it was written through is renamed).
    assert [p.name for p in (tmp_path / "uploads" / KEY).parent.iterdir()] == [Path(KEY).name]


async def test_a_symlink_inside_the_folder_cannot_send_a_write_outside(tmp_path: Path) -> None:
    root, outside = tmp_path / "uploads", tmp_path / "outside"
    root.mkdir()
    outside.mkdir()
    (root / "service-requests").symlink_to(outside)
    with pytest.raises(InvalidKey):
        await LocalStore(root).put(KEY, DATA, "image/jpeg")
    assert list(outside.iterdir()) == []


def test_a_relative_uploads_dir_is_under_the_project_whatever_the_working_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    assert uploads_root(".data/uploads") == (ROOT / ".data" / "uploads").resolve()
    assert (ROOT / "pyproject.toml").exists()
    assert uploads_root(str(tmp_path / "elsewhere")) == (tmp_path / "elsewhere").resolve()


def test_settings_choose_the_store(s3: LocalS3) -> None:
    assert isinstance(photo_store(make_settings()), LocalStore)
    assert isinstance(photo_store(s3.settings(make_settings())), S3Store)


async def test_s3_objects_carry_the_content_type_and_our_key(s3: LocalS3) -> None:
    store = photo_store(s3.settings(make_settings()))
    await store.put(KEY, DATA, "image/jpeg")
    head = s3.client().head_object(Bucket=s3.bucket, Key=KEY)
    assert head["ContentType"] == "image/jpeg"
    assert head["ContentLength"] == len(DATA)
    listed = s3.client().list_objects_v2(Bucket=s3.bucket)["Contents"]
    assert KEY in [item["Key"] for item in listed]
    await store.delete(KEY)
