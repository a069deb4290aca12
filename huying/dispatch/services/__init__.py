"""The one write path of dispatch. Import services from here: `from huying.dispatch.services import …`."""

from .checks import (
    work_order_check_fail,
    work_order_check_pass,
    work_order_review_approve,
    work_order_review_return,
    work_order_set_onsite_check,
)
from .duplicates import report_duplicates, work_order_follow, work_order_merge
from .intake import locate, work_order_create, work_orders_create_many
from .lifecycle import (
    work_order_accept,
    work_order_callback,
    work_order_dispatch,
    work_order_redispatch,
    work_order_reject,
    work_order_resolve,
    work_order_resume,
    work_order_return,
    work_order_suspend,
)
from .photos import photos_check
from .rating import work_order_rate_by_resident
from .relocate import work_order_relocate
from .split import work_order_split
from .timing import deadline_sweep, extension_decide, extension_request, work_order_change_subject

__all__ = [
    "reference",
    "deadline_sweep",
    "extension_decide",
    "extension_request",
    "locate",
    "photos_check",
    "report_duplicates",
    "work_order_accept",
    "work_order_callback",
    "work_order_change_subject",
    "work_order_check_fail",
    "work_order_check_pass",
    "work_order_create",
    "work_order_dispatch",
    "work_order_follow",
    "work_order_merge",
    "work_order_rate_by_resident",
    "work_order_redispatch",
    "work_order_relocate",
    "work_order_reject",
    "work_order_resolve",
    "work_order_resume",
    "work_order_return",
    "work_order_review_approve",
    "work_order_review_return",
    "work_order_set_onsite_check",
    "work_order_split",
    "work_order_suspend",
    "work_orders_create_many",
]
