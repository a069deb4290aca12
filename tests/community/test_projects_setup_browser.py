"""In Chromium: the community worker opens a lift project from the manage page (search the building, name
it, give the cost) and registers an owner; a bad area is refused beside the field with the rest kept."""

import pytest

from huying.community.models import LiftProject
from tests.browsing import signed_in

from .projects_setup import pc  # noqa: F401

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_manager_creates_lift_project_and_adds_owner(browser, live_server, pc):  # noqa: F811
    with signed_in(browser, live_server.url, "lsj_worker") as pg:
        pg.goto("/community/projects/manage/")
        pg.click("#setup-lift-new")
        pg.fill("#building-search input[name=q]", "流水井")
        pg.click("#building-search button[type=submit]")
        pg.check("#lift-form input[name=building]")
        pg.fill("#lift-form input[name=title]", "流水井12号加装电梯")
        pg.fill("#lift-form input[name=total_cost]", "360000")
        pg.click("#lift-create")
        pg.wait_for_selector("#owner-form")
        assert "加装电梯项目已建立" in pg.inner_text(".messages")
        form = pg.locator("#owner-form")
        form.locator("input[name=flat]").fill("3-301")
        form.locator("input[name=floor]").fill("3")
        form.locator("input[name=area_m2]").fill("-80")
        form.locator("input[name=name]").fill("张三")
        form.locator("input[name=phone]").fill("13712345678")
        pg.click("#owner-submit")
        pg.wait_for_selector("#field-area_m2 .field-error")
        assert "面积须为大于 0" in pg.inner_text("#field-area_m2")
        assert pg.input_value("#owner-form input[name=name]") == "张三"   # nothing typed lost
        pg.fill("#owner-form input[name=area_m2]", "80.5")
        pg.click("#owner-submit")
        pg.wait_for_selector(".msg-success")
        row = pg.inner_text("#owners tbody tr")
        assert "3-301" in row and "80.50" in row and "137****5678" in row and "13712345678" not in row
        project = LiftProject.objects.get()
        assert project.building == pc.building and project.owners.get().name == "张三"
        pg.click("#to-lift-manage")
        pg.wait_for_selector("#lift-owners")
        assert "13712345678" in pg.inner_text("#lift-owners")
