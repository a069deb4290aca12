"""Deprecated: dispatch imports the spine modules directly now; nothing in dispatch's services or
selectors uses this module. It stays only while `views.py` and `templatetags/dispatch_pages.py`
still import `spine.scope_for`; switch those to `huying.people.scope.scope_for` and delete it.
"""

from huying.core.worktime import get_calendar as calendar
from huying.people.masking import mask_phone
from huying.people.scope import scope_for
from huying.territory.locator import locate_address, locate_point

__all__ = ["calendar", "locate_address", "locate_point", "mask_phone", "scope_for"]
