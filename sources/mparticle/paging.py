"""Paging of the runs listing: `currentPage` / `pageSize`, stopping on a short page.

The document does not say whether `currentPage` counts from 0 or 1. jobpulse asks for page 0
and always goes on to page 1, so an API counting from 1 (whose page 0 is empty, or a copy of
page 1) loses nothing; after that, the first page shorter than `pageSize` is the last. Runs seen
twice are merged on their key. A page that repeats the previous one ends the listing, so an API
that ignores `currentPage` cannot make it loop.
"""

from __future__ import annotations

from typing import Any

from dlt.sources.helpers.rest_client.paginators import PageNumberPaginator

PAGE_PARAM = "currentPage"
SIZE_PARAM = "pageSize"


class ShortPagePaginator(PageNumberPaginator):
    """dlt's page-number paginator, ending on a short (or repeated) page instead of a total."""

    def __init__(self, page_size: int, first_page: int = 0) -> None:
        super().__init__(base_page=0, page=first_page, page_param=PAGE_PARAM, total_path=None)
        self.page_size = page_size
        self._previous: list[Any] | None = None

    def _stop_after_this_page(self, data: list[Any] | None = None) -> bool:
        page = self.current_value  # the page just received: update_state has not moved on yet
        items = list(data or [])
        repeated = page >= 2 and items == self._previous
        self._previous = items
        if page == 0:
            return False  # page 0 may lie below an API's first page
        return len(items) < self.page_size or repeated
