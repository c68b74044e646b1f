"""The API's OpenAPI document as the admin UI's typed client is generated from it:

    python -m api.openapi_document web_common/openapi.json   (what `make openapi` runs)

Built from the app itself (no server, no database), with development settings that read no `.env`,
so every machine writes the same bytes; tests/admin/test_admin_ui_client.py fails when the
committed file is not what this writes.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from api.main import create_app
from core.settings import Settings


def document() -> dict[str, Any]:
    return create_app(Settings(_env_file=None, environment="development")).openapi()


def render() -> str:
    return json.dumps(document(), indent=2, ensure_ascii=False) + "\n"


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print("usage: python -m api.openapi_document OUT.json", file=sys.stderr)
        return 2
    Path(argv[0]).write_text(render(), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
