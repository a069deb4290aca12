"""Admin for every community model (halls, projects, volunteers): the administrator's tool for corrections.

Every save and delete is audited (`AuditedModelAdmin`: admin.object.created/changed/deleted with the
changed fields' old and new values), phone numbers masked in the lists and in the log; foreign keys
to the big tables (people, territory, buildings, the larger community tables) are raw ids so a page
never lists 20,000 grids or users.
"""

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from huying.core.adminkit import AuditedModelAdmin
from huying.people.masking import mask_phone

from . import models as m


class _Admin(AuditedModelAdmin):
    show_full_result_count = False
    list_per_page = 50


class _PhoneAdmin(_Admin):
    """A model with a `phone_field`: shown masked in the list, logged masked."""

    phone_field = "phone"

    @admin.display(description=_("联系电话"))
    def masked_phone(self, obj):
        value = getattr(obj, self.phone_field)
        return mask_phone(value) if value else "—"


# -- projects --
@admin.register(m.LiftProject)
class LiftProjectAdmin(_Admin):
    list_display = ("title", "community", "building", "state", "total_cost", "created_at")
    list_filter = ("state",)
    search_fields = ("title", "building__code", "building__address", "community__name")
    list_select_related = ("community", "building")
    raw_id_fields = ("building", "community", "created_by")


@admin.register(m.LiftOwner)
class LiftOwnerAdmin(_PhoneAdmin):
    list_display = ("project", "flat", "floor", "area_m2", "name", "masked_phone", "vote")
    list_filter = ("vote",)
    search_fields = ("project__title", "flat", "name")
    list_select_related = ("project",)
    raw_id_fields = ("project", "user")
    audit_masked = {"phone": mask_phone}


@admin.register(m.Canteen)
class CanteenAdmin(_Admin):
    list_display = ("name", "community", "operator", "meal_price")
    search_fields = ("name", "address", "community__name")
    list_select_related = ("community", "operator")
    raw_id_fields = ("community", "operator")


@admin.register(m.CanteenEnrolment)
class CanteenEnrolmentAdmin(_PhoneAdmin):
    list_display = ("canteen", "name", "masked_phone", "age", "household_type", "enrolled_on")
    list_filter = ("household_type",)
    search_fields = ("canteen__name", "name")
    list_select_related = ("canteen",)
    raw_id_fields = ("canteen", "user")
    audit_masked = {"phone": mask_phone}


@admin.register(m.CanteenMeal)
class CanteenMealAdmin(_Admin):
    list_display = ("served_on", "canteen", "enrolment", "price", "subsidy")
    search_fields = ("canteen__name",)
    list_select_related = ("canteen", "enrolment")
    raw_id_fields = ("canteen", "enrolment")
    date_hierarchy = "served_on"


@admin.register(m.CanteenRating)
class CanteenRatingAdmin(_Admin):
    list_display = ("canteen", "enrolment", "stars", "created_at")
    list_filter = ("stars",)
    search_fields = ("canteen__name", "comment")
    list_select_related = ("canteen", "enrolment")
    raw_id_fields = ("canteen", "enrolment")


@admin.register(m.Renovation)
class RenovationAdmin(_Admin):
    list_display = ("title", "community", "stage", "progress", "created_at")
    list_filter = ("stage",)
    search_fields = ("title", "community__name")
    list_select_related = ("community",)
    raw_id_fields = ("community",)


@admin.register(m.RenovationContribution)
class RenovationContributionAdmin(_Admin):
    list_display = ("renovation", "unit", "what", "amount")
    search_fields = ("renovation__title", "unit__name", "what")
    list_select_related = ("renovation", "unit")
    raw_id_fields = ("renovation", "unit")


# -- volunteers --
@admin.register(m.VolunteerTeam)
class VolunteerTeamAdmin(_Admin):
    list_display = ("unit", "team_type", "leader")
    list_filter = ("team_type",)
    search_fields = ("unit__code", "unit__name")
    list_select_related = ("unit", "leader")
    raw_id_fields = ("unit", "leader")


@admin.register(m.VolunteerProfile)
class VolunteerProfileAdmin(_Admin):
    list_display = ("user", "skills", "availability", "registered_by", "created_at")
    search_fields = ("user__username", "user__display_name", "skills")
    list_select_related = ("user", "registered_by")
    raw_id_fields = ("user", "registered_by")


@admin.register(m.VolunteerActivity)
class VolunteerActivityAdmin(_Admin):
    list_display = ("title", "team", "starts_at", "ends_at", "capacity")
    search_fields = ("title", "place", "team__unit__name")
    list_select_related = ("team__unit",)
    raw_id_fields = ("team", "created_by")
    date_hierarchy = "starts_at"


@admin.register(m.ActivitySignup)
class ActivitySignupAdmin(_Admin):
    list_display = ("activity", "user", "signed_up_at", "checked_in_at", "checked_out_at", "hours")
    search_fields = ("activity__title", "user__username", "user__display_name")
    list_select_related = ("activity", "user")
    raw_id_fields = ("activity", "user")


@admin.register(m.RiverStretch)
class RiverStretchAdmin(_Admin):
    list_display = ("name", "community")
    search_fields = ("name", "community__name")
    list_select_related = ("community",)
    raw_id_fields = ("community", "grids")


@admin.register(m.Patrol)
class PatrolAdmin(_Admin):
    list_display = ("patrolled_at", "kind", "team", "patroller", "stretch", "grid")
    list_filter = ("kind",)
    search_fields = ("team__unit__name", "patroller__display_name", "stretch__name", "grid__code")
    list_select_related = ("team__unit", "patroller", "stretch", "grid")
    raw_id_fields = ("team", "patroller", "stretch", "grid")
    date_hierarchy = "patrolled_at"


@admin.register(m.PatrolFinding)
class PatrolFindingAdmin(_Admin):
    list_display = ("description", "patrol", "is_problem", "subject_code", "work_order_code")
    list_filter = ("is_problem",)
    search_fields = ("description", "work_order_code")
    list_select_related = ("patrol",)
    raw_id_fields = ("patrol",)


# -- halls --
@admin.register(m.Hall)
class HallAdmin(_Admin):
    list_display = ("name", "division", "convener_unit", "secret", "per_household")
    search_fields = ("name", "division__name", "division__code")
    list_select_related = ("division", "convener_unit")
    raw_id_fields = ("division", "convener_unit")


@admin.register(m.HallVoter)
class HallVoterAdmin(_Admin):
    list_display = ("hall", "user", "household", "added_at")
    search_fields = ("hall__name", "user__username", "user__display_name", "household")
    list_select_related = ("hall", "user")
    raw_id_fields = ("hall", "user")


@admin.register(m.Matter)
class MatterAdmin(_PhoneAdmin):
    list_display = ("title", "hall", "raiser_kind", "masked_phone", "status", "work_order_code", "created_at")
    list_filter = ("status", "raiser_kind")
    search_fields = ("title", "hall__name", "work_order_code")
    list_select_related = ("hall",)
    raw_id_fields = ("hall", "raiser", "raiser_unit")
    phone_field = "raiser_phone"
    audit_masked = {"raiser_phone": mask_phone}


@admin.register(m.Meeting)
class MeetingAdmin(_Admin):
    list_display = ("title", "hall", "starts_at", "held")
    list_filter = ("held",)
    search_fields = ("title", "hall__name")
    list_select_related = ("hall",)
    raw_id_fields = ("hall", "matters")


@admin.register(m.Attendance)
class AttendanceAdmin(_Admin):
    list_display = ("meeting", "user", "household")
    search_fields = ("meeting__title", "household")
    list_select_related = ("meeting", "user")
    raw_id_fields = ("meeting", "user")


@admin.register(m.Vote)
class VoteAdmin(_Admin):
    list_display = ("question", "hall", "is_open", "yes", "no", "abstain", "passed", "opened_at")
    list_filter = ("is_open", "passed")
    search_fields = ("question", "hall__name")
    list_select_related = ("hall",)
    raw_id_fields = ("hall", "matter", "meeting")


@admin.register(m.Ballot)
class BallotAdmin(_Admin):
    list_display = ("vote", "household", "choice", "cast_at")
    list_filter = ("choice",)
    search_fields = ("vote__question", "household")
    list_select_related = ("vote",)
    raw_id_fields = ("vote", "voter")


@admin.register(m.Resolution)
class ResolutionAdmin(_Admin):
    list_display = ("__str__", "hall", "done", "created_at")
    list_filter = ("done",)
    search_fields = ("text", "hall__name")
    list_select_related = ("hall",)
    raw_id_fields = ("hall", "matter", "vote")


@admin.register(m.ResolutionTask)
class ResolutionTaskAdmin(_Admin):
    list_display = ("title", "resolution", "owner_unit", "progress", "done_at")
    search_fields = ("title", "owner_name")
    list_select_related = ("resolution", "owner_unit")
    raw_id_fields = ("resolution", "owner_unit")


@admin.register(m.Dispute)
class DisputeAdmin(_Admin):
    list_display = ("title", "hall", "status", "opened_at", "closed_at")
    list_filter = ("status",)
    search_fields = ("title", "hall__name")
    list_select_related = ("hall",)
    raw_id_fields = ("hall",)
