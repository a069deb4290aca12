"""Party pages take any query string without a 500 (a studio's week far in the past or future)."""

from datetime import date

import pytest


@pytest.mark.parametrize("week", ["0001-01-01", "9999-12-31", "2026-02-30", "x"])
def test_studio_week_outside_1900_2100_shows_this_week(client, city, week):
    from django.utils import timezone

    from huying.party.services.studios import studio_create

    studio = studio_create(community=city.div["440104003001"], name="党代表工作室", actor=city.user.root,
                           opened_on=date(2024, 1, 1))
    client.force_login(city.user.root)
    resp = client.get(f"/party/studios/{studio.pk}/", {"week": week})
    assert resp.status_code == 200
    today = timezone.localdate()
    assert str(today.year) in resp.content.decode()
