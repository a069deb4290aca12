"""Pages of a list whose links keep the page's other query parameters (several lists may share a page)."""

from __future__ import annotations

from django.core.paginator import Page, Paginator


def paged(request, items, *, param: str = "page", size: int = 20) -> Page:
    """A page of `items` (the `param` query parameter picks it) with `prev_url` and `next_url` set."""
    page = Paginator(items, size).get_page(request.GET.get(param))
    query = request.GET.copy()

    def link(n):
        query[param] = n
        return "?" + query.urlencode()

    page.prev_url = link(page.previous_page_number()) if page.has_previous() else ""
    page.next_url = link(page.next_page_number()) if page.has_next() else ""
    return page
