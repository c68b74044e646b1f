"""Links from the staff's answers to each workflow in the Temporal Web UI.

Every order, subscription and service request that staff read carries `workflow_id`; this adds
`workflow_url`: TEMPORAL_UI_URL + `/namespaces/{TEMPORAL_NAMESPACE}/workflows/{workflow id}`, the
page of its latest run. It is made here, at the edge, because the address is where this API's
operators reach the UI, not a fact of the domain.
"""

from __future__ import annotations

from typing import Annotated, TypeVar
from urllib.parse import quote

from fastapi import Depends
from pydantic import BaseModel

from api.deps import SettingsDep
from core.settings import Settings
from domain.types import Page

T = TypeVar("T", bound=BaseModel)  # a staff view with `workflow_id` and `workflow_url`


class WorkflowLinks:
    def __init__(self, settings: Settings) -> None:
        base = settings.temporal_ui_url.rstrip("/")
        self._prefix = f"{base}/namespaces/{quote(settings.temporal_namespace, safe='')}/workflows/"

    def url(self, workflow_id: str) -> str:
        # Our ids are `kind:uuid`; the colon is kept (valid in a path), anything else escaped.
        return self._prefix + quote(workflow_id, safe=":")

    def add(self, item: T) -> T:
        """The item with its `workflow_url`."""
        return item.model_copy(update={"workflow_url": self.url(item.workflow_id)})  # type: ignore[attr-defined]

    def all(self, items: list[T]) -> list[T]:
        return [self.add(item) for item in items]

    def page(self, page: Page[T]) -> Page[T]:
        return page.model_copy(update={"items": self.all(page.items)})


async def get_links(settings: SettingsDep) -> WorkflowLinks:
    return WorkflowLinks(settings)


LinksDep = Annotated[WorkflowLinks, Depends(get_links)]
