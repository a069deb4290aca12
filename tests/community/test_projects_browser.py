"""An owner votes on a lift project at 390 px, and the manager's page shows the updated art. 278 figures."""

import pytest

from tests.browsing import phone_context, sign_in, signed_in

from .projects_setup import lift_with_owners, pc  # noqa: F401

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_owner_votes_at_phone_width_and_manager_sees_figures(browser, live_server, pc):  # noqa: F811
    from huying.community import projects as svc

    project = lift_with_owners(pc, [70, 70, 80, 80, 90, 110])
    owners = list(project.owners.order_by("floor"))
    for o in owners[:3]:
        svc.lift_vote(o, vote="agree", actor=o.user)
    svc.lift_vote(owners[4], vote="abstain", actor=owners[4].user)
    # before: 4 of 6 owners (2/3) and 320 of 500 m² (64%) take part → participation by area fails
    with phone_context(browser, live_server.url) as pg:
        sign_in(pg, "owner4")
        pg.goto("/community/projects/")
        pg.click("#my-lifts >> text=流水井12号加装电梯")
        pg.wait_for_selector(f"#vote-{owners[3].pk}")
        assert pg.evaluate("document.documentElement.scrollWidth") <= 390
        pg.check(f"#vote-{owners[3].pk} input[value=agree]")
        pg.click(f"#vote-{owners[3].pk} button[type=submit]")
        pg.wait_for_selector(".msg-success")
        assert "同意" in pg.inner_text(f"#vote-{owners[3].pk}")
    with signed_in(browser, live_server.url, "lsj_worker") as pg:
        pg.goto(f"/community/projects/manage/lift/{project.pk}/")
        rows = pg.locator("#lift-figures tbody tr").all_inner_texts()
        # after: 5 of 6 and 390 of 500 m² take part; 4 of 5 and 300 of 390 m² agree
        assert "78.00%" in rows[0] and "(39/50)" in rows[0]
        assert "83.33%" in rows[1] and "80.00%" in rows[3] and "76.92%" in rows[2]
        assert all("未达到" not in r for r in rows)
        assert "表决通过" in pg.inner_text("#lift-result")
        assert pg.inner_text(f"#owner-{owners[3].pk} .owner-vote") == "同意"
