"""The one write path of the Party app. Import services from here: `from huying.party.services import …`."""

from .activities import joint_activity_cancel, joint_activity_plan, joint_activity_record
from .cobuilding import (
    agreement_sign,
    commitment_progress,
    pairing_create,
    pairing_partner_add,
    problem_raise,
    problem_solve,
    problem_to_work_order,
)
from .imports import members_import
from .members import member_move_home, member_register, member_set_status
from .organisations import (
    joint_body_member_add,
    joint_body_member_remove,
    organisation_create,
    organisations_mirror_territory,
    party_unit_code,
)
from .rating import (
    member_facts,
    rule_set_for,
    star_rating_adjust,
    star_rating_compute,
    star_ratings_compute,
    star_rule_set_create,
    star_rule_set_default,
    star_rule_set_thresholds_set,
)
from .reporting import (
    grid_instructor_assign,
    grid_instructor_end,
    half_year_bounds,
    half_year_returns_send,
    member_report_confirm,
    member_report_reject,
    member_report_submit,
    need_cancel,
    need_claim,
    need_complete,
    need_post,
    service_record_add,
    service_record_confirm,
    service_team_create,
    service_team_join,
    unit_report_confirm,
    unit_report_reject,
    unit_report_submit,
)
from .worksystem import (
    contact_point_create,
    contact_visit_record,
    contact_visit_to_work_order,
    demonstration_site_add,
    joint_meeting_record,
    key_project_add,
    meeting_decision_add,
    meeting_decision_done,
    milestone_add,
    milestone_done,
    work_measure_add,
    work_plan_create,
    work_plan_update,
    work_progress_report,
)

__all__ = [
    "agreement_sign", "commitment_progress", "grid_instructor_assign", "grid_instructor_end", "half_year_bounds",
    "half_year_returns_send", "joint_activity_cancel", "joint_activity_plan", "joint_activity_record",
    "joint_body_member_add", "joint_body_member_remove", "member_facts", "member_move_home", "member_register",
    "member_report_confirm", "member_report_reject", "member_report_submit", "member_set_status", "members_import",
    "need_cancel",
    "need_claim", "need_complete", "need_post", "organisation_create", "organisations_mirror_territory",
    "pairing_create", "pairing_partner_add", "party_unit_code", "problem_raise", "problem_solve",
    "problem_to_work_order", "rule_set_for", "service_record_add", "service_record_confirm", "service_team_create",
    "service_team_join", "star_rating_adjust", "star_rating_compute", "star_ratings_compute", "star_rule_set_create",
    "star_rule_set_default", "star_rule_set_thresholds_set", "unit_report_confirm", "unit_report_reject",
    "unit_report_submit",
    # the Party-building work system
    "contact_point_create", "contact_visit_record", "contact_visit_to_work_order", "demonstration_site_add",
    "joint_meeting_record", "key_project_add", "meeting_decision_add", "meeting_decision_done", "milestone_add",
    "milestone_done", "work_measure_add", "work_plan_create", "work_plan_update", "work_progress_report",
]
