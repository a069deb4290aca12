"""The few calls dispatch makes into the spine (working time, locator, scope, masking), in one place.

Imported at call time so dispatch loads even while a spine module is being replaced, and so a
test can see exactly which spine functions dispatch relies on.
"""


def calendar():
    from huying.core.worktime import get_calendar

    return get_calendar()


def locate_point(lng: float, lat: float):
    from huying.territory.locator import locate_point as _locate

    return _locate(lng, lat, crs="wgs84")


def locate_address(text: str):
    from huying.territory.locator import locate_address as _locate

    return _locate(text)


def scope_for(user):
    from huying.people.scope import scope_for as _scope

    return _scope(user)


def mask_phone(value: str) -> str:
    from huying.people.masking import mask_phone as _mask

    return _mask(value)
