"""HEAD on the public catalog answers what GET does, without the body: the same status and the
same headers (ETag, Cache-Control, the length), a 304 for a matching If-None-Match; the catalog's
paths name HEAD among their methods. (A cache, a crawler or a link checker asks HEAD first.)"""

from __future__ import annotations

import httpx
from sqlalchemy.ext.asyncio import AsyncSession

from tests.support.catalog_helpers import add_active_plan, add_categories, make_admin

SAME = ("etag", "cache-control", "content-type", "content-length")


async def test_head_of_each_public_catalog_url_is_its_get_without_the_body(
    api: httpx.AsyncClient, db: AsyncSession
) -> None:
    admin = await make_admin(api, db)
    await add_categories(api, admin)
    plan = await add_active_plan(api, admin)
    for url in (
        "/catalog/categories",
        "/catalog/plans?category=plumbing&sort=price_asc",
        f"/catalog/plans/{plan['slug']}",
        f"/catalog/plans/{plan['id']}",
    ):
        got = await api.get(url)
        head = await api.head(url)
        assert got.status_code == head.status_code == 200, (url, head.text)
        assert {h: head.headers.get(h) for h in SAME} == {h: got.headers.get(h) for h in SAME}
        unchanged = await api.head(url, headers={"If-None-Match": got.headers["etag"]})
        assert unchanged.status_code == 304, url

    missing = await api.head("/catalog/plans/no-such-plan")
    assert missing.status_code == 404


async def test_the_catalogs_paths_name_head_among_their_methods(api: httpx.AsyncClient) -> None:
    for url in ("/catalog/categories", "/catalog/plans", "/catalog/plans/home-care"):
        refused = await api.delete(url)
        assert refused.status_code == 405, url
        assert refused.headers["allow"] == "GET, HEAD", url
