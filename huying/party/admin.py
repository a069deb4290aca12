"""Admin for every Party model: the administrator's tool for corrections.

Every save and delete here is audited (`AuditedModelAdmin`: admin.object.created/changed/deleted with
the changed fields' old and new values). Phone numbers are masked in the log; foreign keys to the big
tables (people, territory, members) are raw ids or autocompletes so a page never lists 20,000 grids.
A rule set that has rated someone is shown read-only: it is history (make a new version instead).
"""

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from huying.core.adminkit import AuditedModelAdmin
from huying.people.masking import mask_phone

from . import models as m


class _Admin(AuditedModelAdmin):
    show_full_result_count = False
    list_per_page = 50


@admin.register(m.PartyOrganisation)
class PartyOrganisationAdmin(_Admin):
    list_display = ("unit", "org_type", "size", "street", "division", "grid", "rule_set")
    list_filter = ("org_type", "rule_set")
    search_fields = ("unit__code", "unit__name", "address")
    list_select_related = ("unit", "street", "division", "grid", "rule_set")
    autocomplete_fields = ("unit", "division", "street", "grid")
    raw_id_fields = ("building",)


@admin.register(m.JointBodyMember)
class JointBodyMemberAdmin(_Admin):
    list_display = ("body", "unit", "position", "joined_on", "active")
    list_filter = ("active",)
    search_fields = ("body__unit__name", "unit__code", "unit__name")
    list_select_related = ("body__unit", "unit")
    raw_id_fields = ("body",)
    autocomplete_fields = ("unit",)


@admin.register(m.Member)
class MemberAdmin(_Admin):
    list_display = ("user", "organisation", "status", "in_service", "home_community", "joined_on")
    list_filter = ("status", "in_service")
    search_fields = ("user__username", "user__display_name", "organisation__unit__name")
    list_select_related = ("user", "organisation__unit", "home_community")
    raw_id_fields = ("user", "organisation", "home_community", "home_grid")


@admin.register(m.UnitReport)
class UnitReportAdmin(_Admin):
    list_display = ("organisation", "street", "status", "reported_at", "decided_at")
    list_filter = ("status",)
    search_fields = ("organisation__unit__name", "street__name")
    list_select_related = ("organisation__unit", "street")
    raw_id_fields = ("organisation", "street", "decided_by")


@admin.register(m.MemberReport)
class MemberReportAdmin(_Admin):
    list_display = ("member", "community", "status", "reported_at", "decided_at")
    list_filter = ("status",)
    search_fields = ("member__user__display_name", "member__user__username", "community__name")
    list_select_related = ("member__user", "community")
    raw_id_fields = ("member", "community", "decided_by")


@admin.register(m.ServiceTeam)
class ServiceTeamAdmin(_Admin):
    list_display = ("unit", "community", "speciality", "created_at")
    search_fields = ("unit__name", "community__name", "speciality")
    list_select_related = ("unit", "community")
    raw_id_fields = ("unit", "community")


@admin.register(m.ServiceTeamMember)
class ServiceTeamMemberAdmin(_Admin):
    list_display = ("team", "member", "joined_at")
    search_fields = ("team__unit__name", "member__user__display_name")
    list_select_related = ("team__unit", "member__user")
    raw_id_fields = ("team", "member")


@admin.register(m.GridInstructor)
class GridInstructorAdmin(_Admin):
    list_display = ("grid", "member", "started_on", "ended_on")
    list_filter = (("ended_on", admin.EmptyFieldListFilter),)
    search_fields = ("grid__code", "grid__name", "member__user__display_name")
    list_select_related = ("grid", "member__user")
    raw_id_fields = ("grid", "member")


@admin.register(m.Need)
class NeedAdmin(_Admin):
    list_display = ("title", "kind", "community", "status", "posted_at")
    list_filter = ("kind", "status")
    search_fields = ("title", "community__name")
    list_select_related = ("community",)
    raw_id_fields = ("community", "posted_by", "claimed_by_member", "claimed_by_org")


@admin.register(m.ServiceRecord)
class ServiceRecordAdmin(_Admin):
    list_display = ("served_on", "member", "organisation", "community", "kind", "hours", "confirmed")
    list_filter = ("kind", "confirmed")
    search_fields = ("member__user__display_name", "organisation__unit__name", "community__name")
    list_select_related = ("member__user", "organisation__unit", "community")
    raw_id_fields = ("member", "organisation", "community", "need", "team", "recorded_by")


@admin.register(m.HalfYearReturn)
class HalfYearReturnAdmin(_Admin):
    list_display = ("member", "period", "community", "organisation", "services", "hours", "sent_at")
    list_filter = ("period",)
    search_fields = ("member__user__display_name", "community__name")
    list_select_related = ("member__user", "community", "organisation__unit")
    raw_id_fields = ("member", "community", "organisation", "sent_by")


@admin.register(m.JointActivity)
class JointActivityAdmin(_Admin):
    list_display = ("title", "activity_type", "community", "planned_at", "status")
    list_filter = ("activity_type", "status")
    search_fields = ("title", "community__name")
    list_select_related = ("community",)
    raw_id_fields = ("community", "planners", "pairing", "created_by")
    date_hierarchy = "planned_at"


@admin.register(m.Attendance)
class AttendanceAdmin(_Admin):
    list_display = ("activity", "member", "status")
    list_filter = ("status",)
    search_fields = ("activity__title", "member__user__display_name")
    list_select_related = ("activity", "member__user")
    raw_id_fields = ("activity", "member")


_RULE_CONTENT = ("name", "period", "base", "max_total", "items", "thresholds", "report_required")


@admin.register(m.StarRuleSet)
class StarRuleSetAdmin(_Admin):
    list_display = ("name", "period", "is_default", "created_at")
    list_filter = ("period", "is_default")
    search_fields = ("name",)

    def get_readonly_fields(self, request, obj=None):
        if obj is not None and m.StarRating.objects.filter(rule_set=obj).exists():
            return _RULE_CONTENT  # it rated someone: history, succeeded only by a new version
        return ()


@admin.register(m.StarRating)
class StarRatingAdmin(_Admin):
    list_display = ("member", "year", "stars", "grade", "score", "rule_set", "reviewed_at")
    list_filter = ("year", "stars", "grade")
    search_fields = ("member__user__display_name", "member__user__username")
    list_select_related = ("member__user", "rule_set")
    raw_id_fields = ("member", "rule_set", "reviewed_by")


@admin.register(m.CoBuildingPairing)
class CoBuildingPairingAdmin(_Admin):
    list_display = ("name", "kind", "lead", "division", "started_on", "active")
    list_filter = ("kind", "active")
    search_fields = ("name", "lead__name")
    list_select_related = ("lead", "division")
    raw_id_fields = ("lead", "joint_committee", "division")


@admin.register(m.CoBuildingPartner)
class CoBuildingPartnerAdmin(_Admin):
    list_display = ("pairing", "unit", "tier", "joined_on")
    list_filter = ("tier",)
    search_fields = ("pairing__name", "unit__name")
    list_select_related = ("pairing", "unit")
    raw_id_fields = ("pairing", "unit")


@admin.register(m.CoBuildingAgreement)
class CoBuildingAgreementAdmin(_Admin):
    list_display = ("title", "pairing", "signed_on")
    search_fields = ("title", "pairing__name")
    list_select_related = ("pairing",)
    raw_id_fields = ("pairing", "created_by")


@admin.register(m.Commitment)
class CommitmentAdmin(_Admin):
    list_display = ("description", "agreement", "unit", "due_on", "progress", "status")
    list_filter = ("status",)
    search_fields = ("description", "unit__name")
    list_select_related = ("agreement", "unit")
    raw_id_fields = ("agreement", "unit")


@admin.register(m.CommitmentUpdate)
class CommitmentUpdateAdmin(_Admin):
    list_display = ("commitment", "progress", "status", "at", "by")
    list_filter = ("status",)
    search_fields = ("commitment__description", "note")
    list_select_related = ("commitment", "by")
    raw_id_fields = ("commitment", "by")


@admin.register(m.CoBuildingProblem)
class CoBuildingProblemAdmin(_Admin):
    list_display = ("title", "pairing", "status", "work_order_code", "raised_at")
    list_filter = ("status",)
    search_fields = ("title", "work_order_code", "pairing__name")
    list_select_related = ("pairing",)
    raw_id_fields = ("pairing", "raised_by")


@admin.register(m.Representative)
class RepresentativeAdmin(_Admin):
    list_display = ("user", "level", "term", "constituency", "active")
    list_filter = ("level", "active")
    search_fields = ("user__username", "user__display_name", "constituency")
    list_select_related = ("user",)
    raw_id_fields = ("user",)


@admin.register(m.Studio)
class StudioAdmin(_Admin):
    list_display = ("name", "community", "host", "opened_on", "active")
    list_filter = ("active",)
    search_fields = ("name", "community__name", "community__code")
    list_select_related = ("community", "host__unit")
    raw_id_fields = ("community", "host")


@admin.register(m.StudioDuty)
class StudioDutyAdmin(_Admin):
    list_display = ("studio", "representative", "starts_at", "ends_at", "cancelled")
    list_filter = ("cancelled",)
    search_fields = ("studio__name", "representative__user__display_name")
    list_select_related = ("studio", "representative__user")
    raw_id_fields = ("studio", "representative", "scheduled_by")


@admin.register(m.StudioVisit)
class StudioVisitAdmin(_Admin):
    list_display = ("topic", "studio", "status", "masked_phone", "received_at", "work_order_code")
    list_filter = ("status",)
    search_fields = ("topic", "studio__name", "work_order_code")
    list_select_related = ("studio",)
    raw_id_fields = ("studio", "duty", "representative", "recorded_by")
    audit_masked = {"visitor_phone": mask_phone}

    @admin.display(description=_("联系电话"))
    def masked_phone(self, obj):
        return mask_phone(obj.visitor_phone) if obj.visitor_phone else "—"


# -- the Party-building work system -------------------------------------------------------------
@admin.register(m.WorkPlan)
class WorkPlanAdmin(_Admin):
    list_display = ("title", "year", "organisation", "division")
    list_filter = ("year",)
    search_fields = ("title", "organisation__unit__name", "division__name")
    list_select_related = ("organisation__unit", "division")
    raw_id_fields = ("organisation", "division", "created_by")


@admin.register(m.WorkMeasure)
class WorkMeasureAdmin(_Admin):
    list_display = ("item", "plan", "owner_unit", "due_on", "progress", "status")
    list_filter = ("status",)
    search_fields = ("item", "owner_name", "plan__title")
    list_select_related = ("plan", "owner_unit")
    raw_id_fields = ("plan", "owner_unit")


@admin.register(m.DemonstrationSite)
class DemonstrationSiteAdmin(_Admin):
    list_display = ("name", "plan", "theme", "rating", "designated_on")
    search_fields = ("name", "theme")
    list_select_related = ("plan",)
    raw_id_fields = ("plan", "division", "organisation")


@admin.register(m.KeyProject)
class KeyProjectAdmin(_Admin):
    list_display = ("name", "plan", "owner_unit", "progress", "status", "budget")
    list_filter = ("status",)
    search_fields = ("name", "owner_name")
    list_select_related = ("plan", "owner_unit")
    raw_id_fields = ("plan", "owner_unit")


@admin.register(m.Milestone)
class MilestoneAdmin(_Admin):
    list_display = ("title", "measure", "project", "due_on", "done_on")
    search_fields = ("title",)
    list_select_related = ("measure", "project")
    raw_id_fields = ("measure", "project")


@admin.register(m.WorkProgress)
class WorkProgressAdmin(_Admin):
    list_display = ("measure", "project", "progress", "status", "at", "by")
    list_filter = ("status",)
    list_select_related = ("measure", "project", "by")
    raw_id_fields = ("measure", "project", "by")


@admin.register(m.ContactPoint)
class ContactPointAdmin(_Admin):
    list_display = ("leader", "division", "post", "since", "active")
    list_filter = ("active",)
    search_fields = ("leader__username", "leader__display_name", "division__name")
    list_select_related = ("leader", "division")
    raw_id_fields = ("leader", "division")


@admin.register(m.ContactVisit)
class ContactVisitAdmin(_Admin):
    list_display = ("point", "visited_on", "visitors", "work_order_code")
    search_fields = ("visitors", "findings", "work_order_code")
    list_select_related = ("point__leader", "point__division")
    raw_id_fields = ("point", "recorded_by")


@admin.register(m.JointMeeting)
class JointMeetingAdmin(_Admin):
    list_display = ("title", "district", "held_on")
    search_fields = ("title", "district__name")
    list_select_related = ("district",)
    raw_id_fields = ("district", "created_by")


@admin.register(m.MeetingAttendance)
class MeetingAttendanceAdmin(_Admin):
    list_display = ("meeting", "unit", "present")
    list_filter = ("present",)
    list_select_related = ("meeting", "unit")
    raw_id_fields = ("meeting", "unit")


@admin.register(m.MeetingDecision)
class MeetingDecisionAdmin(_Admin):
    list_display = ("text", "meeting", "owner_unit", "due_on", "status", "done_on")
    list_filter = ("status",)
    search_fields = ("text", "owner_unit__name")
    list_select_related = ("meeting", "owner_unit")
    raw_id_fields = ("meeting", "owner_unit", "done_by")
