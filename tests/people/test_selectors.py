import pytest
from django.core.paginator import Paginator

from huying.people.selectors import people_in_scope, units_in_scope, users_in_scope

pytestmark = pytest.mark.django_db


def unit_codes(actor):
    return set(units_in_scope(actor=actor).values_list("code", flat=True))


def usernames(actor):
    return {row.username for row in people_in_scope(actor=actor)}


def test_street_staff_see_their_street_only(org):
    seen = unit_codes(org.user.bj_dispatcher)
    assert seen == {"gov-440104003", "gov-440104003001", "grid-440104003001001", "party-440104003"}
    assert "gov-440104004" not in seen and "grid-440104004001001" not in seen
    assert usernames(org.user.bj_dispatcher) == {"bj_dispatcher", "gridworker", "resident_bj", "member", "secretary"}
    lr = usernames(org.user.lr_handler)
    assert lr == {"lr_handler", "resident_lr"}
    assert "resident_bj" not in lr


def test_grid_worker_sees_their_grid_only(org):
    assert unit_codes(org.user.gridworker) == {"grid-440104003001001"}
    assert usernames(org.user.gridworker) == {"gridworker"}


def test_district_staff_see_the_district(org):
    seen = unit_codes(org.user.yx_leader)
    assert {"gov-440104", "gov-440104003", "gov-440104004", "grid-440104004001001", "dept-cgzf-440104"} <= seen
    assert "gov-440114100" not in seen and "dept-cgzf" not in seen
    assert {"resident_bj", "resident_lr", "cgyx_handler"} <= usernames(org.user.yx_leader)
    assert "cg_handler" not in usernames(org.user.yx_leader)


def test_a_department_sees_its_own_only(org):
    assert unit_codes(org.user.cg_handler) == {"dept-cgzf", "dept-cgzf-440104"}
    assert usernames(org.user.cg_handler) == {"cg_handler", "cgyx_handler"}
    assert unit_codes(org.user.water_handler) == {"dept-swj"}
    assert usernames(org.user.water_handler) == {"water_handler"}


def test_a_resident_sees_only_themself(org):
    resident = org.user.resident_bj
    assert unit_codes(resident) == set()
    rows = list(people_in_scope(actor=resident))
    assert [r.username for r in rows] == ["resident_bj"]
    assert rows[0].phone == resident.phone and rows[0].id_number == resident.id_number
    assert rows[0].name == "吴芳" and not rows[0].masked
    assert list(users_in_scope(actor=resident)) == [resident]
    assert users_in_scope(actor=None).count() == 0


def test_city_wide_staff_see_all(org):
    from huying.people.models import Unit, User

    assert units_in_scope(actor=org.user.leader).count() == Unit.objects.count()
    assert len(people_in_scope(actor=org.user.operator)) == User.objects.count()


def test_listing_masks_personal_data(org):
    rows = {r.username: r for r in people_in_scope(actor=org.user.bj_dispatcher)}
    resident = org.user.resident_bj
    assert rows["resident_bj"].phone == resident.phone[:3] + "****" + resident.phone[-4:]
    assert rows["resident_bj"].id_number == resident.id_number[:3] + "*" * 11 + resident.id_number[-4:]
    assert rows["resident_bj"].name == "吴*" and rows["resident_bj"].masked
    assert rows["gridworker"].name == "陈静"  # staff names are shown
    assert rows["gridworker"].phone != org.user.gridworker.phone
    assert rows["bj_dispatcher"].phone == org.user.bj_dispatcher.phone  # their own
    admin_rows = {r.username: r for r in people_in_scope(actor=org.user.root)}
    assert admin_rows["resident_bj"].phone == resident.phone and not admin_rows["resident_bj"].masked
    leader_rows = {r.username: r for r in people_in_scope(actor=org.user.leader)}
    assert leader_rows["resident_bj"].masked  # seeing everyone is not seeing everything


def test_listing_paginates_and_does_not_search_masked_names(org):
    people = people_in_scope(actor=org.user.leader)
    page = Paginator(people, 4).page(2)
    assert len(page.object_list) == 4
    assert [r.username for r in page.object_list] == sorted(u.username for u in people)[4:8]
    assert [r.username for r in people_in_scope(actor=org.user.leader, search="王强")] == ["bj_dispatcher"]
    assert list(people_in_scope(actor=org.user.leader, search="吴芳")) == []
    assert [r.username for r in people_in_scope(actor=org.user.leader, search="resident_b")] == ["resident_bj"]
