"""Set-up in a real browser: a community secretary goes from their home page to the set-up, founds a
sub-organisation and names a grid instructor.

Screenshots go to $HUYING_SCREENSHOTS when it is set, for people to look at.
"""

import pytest
from playwright.sync_api import expect

from huying.party.models import GridInstructor, PartyOrganisation
from huying.party.services import member_report_confirm, member_report_submit

from .test_browser_pages import shot

pytestmark = pytest.mark.browser


def test_secretary_sets_up_a_sub_organisation_and_a_grid_instructor(page, login, city, members):
    org = city.org["party-440104003001"]
    report = member_report_submit(members.alice, actor=city.user.alice)  # 张丽 lives in 流水井
    member_report_confirm(report, actor=city.user.lsj_secretary)

    login("lsj_secretary", "x")
    page.goto("/")
    page.get_by_role("link", name="党组织工作台").first.click()
    expect(page.locator("#org-card h1")).to_have_text(str(org))
    page.click("#org-setup-link")
    expect(page.locator("#setup-children h1")).to_contain_text(str(org))

    page.fill("#id_sub-name", "文德路商户联合党支部")
    page.select_option("#id_sub-org_type", "new_economy")
    page.fill("#id_sub-address", "广州市越秀区流水井社区文德路12号")
    page.fill("#id_sub-size", "6")
    page.fill("#id_sub-secretary", "nobody")
    page.click("#suborg-submit")  # refused, next to the field
    expect(page.locator("#field-sub-secretary .field-error")).to_contain_text("找不到用户")
    page.fill("#id_sub-secretary", "lsj_director")
    page.click("#suborg-submit")
    expect(page.locator(".msg-success")).to_contain_text("已建立下级党组织")
    row = page.locator("#children-table tr", has_text="文德路商户联合党支部")
    expect(row).to_contain_text("居委会主任")
    shot(page, "party-setup")
    sub = PartyOrganisation.objects.get(unit__name="文德路商户联合党支部")
    assert sub.unit.parent_id == org.unit_id and sub.size == 6

    page.click("#tab-instructors")
    page.select_option("#id_gi-grid", label="流水井社区第2网格（440104003001002）")
    page.select_option("#id_gi-member", value=str(members.alice.pk))
    page.click("#instructor-submit")
    expect(page.locator(".msg-success")).to_contain_text("已任命网格指导员")
    expect(page.locator("#instructor-table")).to_contain_text("张丽")
    shot(page, "party-setup-instructors")
    post = GridInstructor.objects.get()
    assert post.grid == city.grid["440104003001002"] and post.member == members.alice and post.ended_on is None
