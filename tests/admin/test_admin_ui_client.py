"""The web apps' typed client is generated from the API as it is: the committed OpenAPI document
(web_common/openapi.json) is what the app builds now, and the committed TypeScript
(web_common/src/schema.d.ts, which the admin panel and the customer app share) is what
openapi-typescript makes of that document. Either one stale fails here; `make openapi` writes
both."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from api.openapi_document import render
from tests.conftest import ROOT

UI = ROOT / "admin_ui"
COMMON = ROOT / "web_common"
GENERATOR = UI / "node_modules" / ".bin" / "openapi-typescript"


def test_the_committed_openapi_document_is_the_apps() -> None:
    committed = (COMMON / "openapi.json").read_text(encoding="utf-8")
    assert committed == render(), (
        "web_common/openapi.json is stale: the API changed. Run `make openapi` and commit "
        "web_common/openapi.json and web_common/src/schema.d.ts."
    )


def test_the_committed_client_types_are_generated_from_that_document(tmp_path: Path) -> None:
    if not GENERATOR.exists() or shutil.which("node") is None:
        message = "admin_ui/node_modules is missing (run `make ui`): cannot regenerate the client"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    out = tmp_path / "schema.d.ts"
    # The same arguments as `npm run gen:api` (admin_ui/package.json).
    subprocess.run(
        [
            str(GENERATOR),
            str(COMMON / "openapi.json"),
            *("--default-non-nullable", "false", "-o", str(out)),
        ],
        cwd=UI,
        check=True,
        capture_output=True,
        timeout=120,
    )
    committed = (COMMON / "src" / "schema.d.ts").read_text(encoding="utf-8")
    assert out.read_text(encoding="utf-8") == committed, (
        "web_common/src/schema.d.ts is not what openapi-typescript makes of openapi.json: "
        "run `make openapi` (or `cd admin_ui && npm run gen:api`) and commit it."
    )
