"""In Chromium: the convener opens a vote on their hall page, a resident votes on a 390 px phone,
the convener closes it and the result shows on both pages."""

import pytest

from huying.community import halls
from tests.browsing import phone_context, sign_in, signed_in

from . import halls_setup

hc = halls_setup.hc  # the shared fixture

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_open_vote_cast_on_phone_close(browser, live_server, hc):
    u = hc.user
    m = halls.matter_raise(hc.hall, title="加装电梯", actor=u.cat)
    with signed_in(browser, live_server.url, "convener") as pg:
        pg.goto("/")
        pg.click("#shortcuts >> text=主持议事厅")
        pg.wait_for_selector("#open-vote")
        pg.select_option("#open-vote select[name=matter]", str(m.pk))
        pg.fill("#open-vote input[name=question]", "是否同意加装电梯")
        pg.click("#open-vote button[type=submit]")
        pg.wait_for_selector("text=表决已开始")
        vote = m.votes.get()
        with phone_context(browser, live_server.url) as phone:
            sign_in(phone, "amy")
            phone.goto("/")
            phone.click("#shortcuts >> text=社区议事厅")
            card = phone.locator(f"#vote-{vote.pk}")
            card.locator("label", has_text="赞成").click()
            card.locator("button[type=submit]").click()
            phone.wait_for_selector("text=您的票已投出")
            assert phone.evaluate("document.documentElement.scrollWidth") <= 390
            halls.ballot_cast(vote, choice="yes", actor=u.cat)
            pg.reload()
            pg.locator(f"#vote-{vote.pk} .close-vote").click()
            pg.wait_for_selector("text=表决已结束")
            result = pg.locator(f"#vote-{vote.pk} .hl-result")
            assert result.get_attribute("data-passed") == "1" and "通过" in result.inner_text()
            phone.reload()
            assert phone.locator(f"#vote-{vote.pk} .hl-result").get_attribute("data-passed") == "1"
            assert "赞成 2" in phone.inner_text(f"#vote-{vote.pk}")
