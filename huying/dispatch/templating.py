"""Templates kept inside a dispatch sub-package (hot/, triage/): those folders are not apps, so
Django's app loader does not find them; each is compiled once by the project's engine instead.

    render = package_renderer(__file__)
    return render(request, "dispatch/hot/groups.html", {...})
"""

from functools import cache
from pathlib import Path

from django.http import HttpResponse
from django.template import engines


def package_renderer(package_file: str):
    """A `render(request, name, context, status=200)` for templates under `<package>/templates/`."""
    folder = Path(package_file).resolve().parent / "templates"

    @cache
    def template(name: str):
        return engines["django"].from_string((folder / name).read_text(encoding="utf-8"))

    def render(request, name: str, context: dict, status: int = 200) -> HttpResponse:
        return HttpResponse(template(name).render(context, request), status=status)

    render.template = template
    return render
