"""定位核实: an operator places an address-only order (community, street or district precision) at its
point; the locator runs again and, while the order still waits to be dispatched, so does routing."""

from django.db import transaction
from django.utils.translation import gettext as _

from huying.core.errors import DomainError
from huying.core.text import clean_text
from huying.people.models import RoleCode
from huying.people.scope import scope_for

from ..models import COARSE_PRECISIONS, LocationPrecision, State, WorkOrder
from ..signals import order_changed, send_on_commit
from ..triage.intake import ROUTE_REASON
from ..workflow import TERMINAL
from . import intake
from .common import lock_order, now_or, record, require_dispatcher, save
from .routing import community_code_of, route_for_order

# Who refines a place: the seats that take calls and dispatch them.
RELOCATE_ROLES = (RoleCode.OPERATOR, RoleCode.DISPATCHER)
REASON_MAX = 500
PLACE_FIELDS = ("lng", "lat", "grid_id", "community_id", "district_code", "street_code", "area_code", "area_label",
                "location_precision", "address")
# The code an order's known division has at each coarse precision (the deepest the address reached).
KNOWN_CODE = {LocationPrecision.COMMUNITY: "community_code", LocationPrecision.STREET: "street_code",
              LocationPrecision.DISTRICT: "district_code"}


def can_relocate(order: WorkOrder, *, actor) -> bool:
    """Would `work_order_relocate` let `actor` place this order now (pages show the form only then)?"""
    if order.location_precision not in COARSE_PRECISIONS or order.state in TERMINAL:
        return False
    try:
        require_dispatcher(actor, order, *RELOCATE_ROLES)
    except DomainError:
        return False
    return True


def _place_of(order: WorkOrder, community_code: str) -> dict:
    return {"lng": order.lng, "lat": order.lat, "grid_id": order.grid_id, "community_id": order.community_id,
            "community_code": community_code, "district_code": order.district_code,
            "street_code": order.street_code, "area_code": order.area_code, "area_label": order.area_label,
            "location_precision": order.location_precision, "address": order.address}


def _new_area(*, lng, lat, address: str) -> dict:
    """The located place of a point (precise even in a gap between grids), or of an address that the
    locator places in a grid (a building's address); an address that reaches only a division is refused."""
    if intake.parse_point(lng, lat) is not None:
        area = intake.locate(lng=lng, lat=lat)
        area["location_precision"] = LocationPrecision.GRID
        return area
    if not address:
        raise DomainError("dispatch.no_location", _("请在地图上选点，或填写能定位到楼栋的详细地址。"), field="location")
    area = intake.locate(address=address)
    if area["location_precision"] in COARSE_PRECISIONS:
        raise DomainError("dispatch.address_too_coarse",
                          _("该地址只能定位到%(level)s（%(place)s），无法确定具体位置，请在地图上选点。")
                          % {"level": LocationPrecision(area["location_precision"]).label,
                             "place": area["area_label"] or area["area_code"]}, field="address")
    return area


def _check_known_division(order: WorkOrder, old: dict, area: dict, *, outside_ok: bool) -> bool:
    """Is the new place inside the division the address had reached? Outside is refused unless the
    operator says the problem really lies elsewhere (地点不在原区域)."""
    key = KNOWN_CODE[order.location_precision]
    known = old[key]
    if not known or area.get(key) == known:
        return False
    if not outside_ok:
        raise DomainError(
            "dispatch.outside_division",
            _("所选位置（%(new)s）不在工单原定位的“%(old)s”内。请核对位置；如确认问题地点不在原区域，"
              "请勾选“地点不在原区域”并填写说明。") % {"new": area["area_label"] or area["area_code"],
                                                "old": order.area_label or known},
            field="location", status=422)
    return True


@transaction.atomic
def work_order_relocate(order, *, actor, lng=None, lat=None, address: str = "", outside_division: bool = False,
                        reason: str = "", version: int | None = None, now=None) -> WorkOrder:
    """Set the point of an order placed only by its address (定位核实): grid, community, street, district
    and area are located again and the precision becomes a point. A submitted order is routed again
    (a new proposed unit); a dispatched one only records its place — the handling unit stays."""
    now = now_or(now)
    address = clean_text(address, field="address", max_length=intake.ADDRESS_MAX)
    reason = clean_text(reason, field="reason", max_length=REASON_MAX, multiline=True)
    order = lock_order(order, version=version)
    require_dispatcher(actor, order, *RELOCATE_ROLES)
    if order.state in TERMINAL:
        raise DomainError("dispatch.finished", _("已结束的工单不能修改位置。"), status=409)
    if order.location_precision not in COARSE_PRECISIONS:
        raise DomainError("dispatch.already_placed", _("该工单已定位到具体位置，无需再核实。"), status=409)
    area = _new_area(lng=lng, lat=lat, address=address)
    old = _place_of(order, community_code_of(order))
    outside = _check_known_division(order, old, area, outside_ok=bool(outside_division))
    if outside and not reason:
        raise DomainError("dispatch.required", _("地点不在原区域时，请填写说明。"), field="reason")
    if not (getattr(actor, "is_superuser", False) or scope_for(actor).covers(area["area_code"])):
        raise DomainError("dispatch.outside_territory", _("新位置“%(place)s”不在您的管辖范围内。")
                          % {"place": area["area_label"] or area["area_code"]}, field="location", status=403)

    for name in PLACE_FIELDS:
        if name == "address":
            if address:
                order.address = address
        else:
            setattr(order, name, area[name])
    fields = list(PLACE_FIELDS)
    new = _place_of(order, area.get("community_code", ""))
    data = {"old": old, "new": new, "outside_division": outside, "rerouted": False}
    if order.state == State.SUBMITTED:
        data.update(rerouted=True, old_proposed_unit_id=order.proposed_unit_id)
        if not _label_department(order):
            proposal = route_for_order(order, now=now)
            order.proposed_unit_id, order.routing = proposal.unit_id, proposal.as_dict()
            fields += ["proposed_unit", "routing"]
        data.update(proposed_unit_id=order.proposed_unit_id, routing=order.routing)
    save(order, now, fields)
    summary = f"{old['area_label'] or old['area_code']} → {new['area_label'] or new['area_code']}"
    record(order, action="relocated", from_state=order.state, actor=actor, now=now,
           note=f"{summary}\n{reason}" if reason else summary, data=data, unit_id=order.lead_unit_id)
    send_on_commit(order_changed, order_id=order.pk, action="relocated")
    return order


def _label_department(order: WorkOrder) -> bool:
    """The classifier's mapping sent the order to a department whatever its place: keep that proposal."""
    return (order.routing or {}).get("reason") == ROUTE_REASON and order.proposed_unit_id is not None

