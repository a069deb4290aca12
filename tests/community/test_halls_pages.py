"""Hall pages: a resident sees their own community's hall and casts a ballot there; another
community's convener gets 404 on this hall's page and cannot act on it."""

import pytest

from huying.community import halls
from huying.community.models import Ballot

from . import halls_setup

hc = halls_setup.hc  # the shared fixture

pytestmark = pytest.mark.django_db


def test_resident_page_and_cast(client, hc):
    u = hc.user
    m = halls.matter_raise(hc.hall, title="加装电梯", actor=u.cat)
    v = halls.vote_open(m, question="是否同意加装电梯", actor=u.convener)
    client.force_login(u.amy)
    page = client.get("/community/halls/").content.decode()
    assert "流水井社区居民委员会议事厅" in page and "是否同意加装电梯" in page and 'name="choice"' in page
    assert u.cat.phone not in page  # the raiser's phone is masked for residents
    client.post(f"/community/halls/vote/{v.pk}/", {"choice": "yes"})
    assert Ballot.objects.get(vote=v).voter == u.amy
    client.force_login(u.outsider)  # 龙藏's resident: their own hall; a post here is refused
    assert "是否同意加装电梯" not in client.get("/community/halls/").content.decode()
    assert client.post(f"/community/halls/vote/{v.pk}/", {"choice": "yes"}).status_code == 404
    assert Ballot.objects.filter(vote=v).count() == 1


def test_manage_scope(client, hc):
    u = hc.user
    m = halls.matter_raise(hc.hall, title="议题", actor=u.amy)
    client.force_login(u.lc_convener)
    assert client.get(f"/community/halls/manage/{hc.hall.pk}/").status_code == 404
    assert client.post(f"/community/halls/manage/{hc.hall.pk}/open_vote/", {"matter": m.pk}).status_code == 404
    assert not m.votes.exists()
    client.force_login(u.convener)
    assert client.get("/community/halls/manage/").url == f"/community/halls/manage/{hc.hall.pk}/"
    page = client.get(f"/community/halls/manage/{hc.hall.pk}/").content.decode()
    assert "议题" in page and u.amy.phone in page
    client.post(f"/community/halls/manage/{hc.hall.pk}/open_vote/", {"matter": m.pk, "question": "是否同意"})
    assert m.votes.get().question == "是否同意"
    home = client.get("/").content.decode()
    assert "主持议事厅" in home
