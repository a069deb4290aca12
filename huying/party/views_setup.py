"""Set-up pages (组织设置): a secretary founds and edits the organisations below their own (or imports
them from Excel/CSV), names their secretaries, keeps a joint committee's member units, the grid
instructors and the representatives' studios of their territory; an administrator versions the
star-rating rule sets.

Same shape as `views`: parse, call one service, render; a refusal goes next to its field. Every page
opens an organisation through `_managed_org` (the actor's own or one below it; an administrator any).
"""

from __future__ import annotations

import functools

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from huying.core.errors import DomainError
from huying.core.paging import paged

from . import access, selectors
from . import selectors_pages as pages
from . import selectors_setup as sel
from . import services as s
from .forms import ReasonForm
from .forms_setup import (
    InstructorEndForm,
    InstructorForm,
    JointMemberForm,
    OrgEditForm,
    OrgImportForm,
    RepresentativeForm,
    RuleItemFormSet,
    RuleSetForm,
    RuleVersionForm,
    SecretaryForm,
    StudioDutyForm,
    StudioOpenForm,
    SubOrgForm,
)
from .models import JOINT_TYPES, StarRuleSet
from .services import setup as su
from .services import studios as st
from .views import _import_upload, _managed_org, _refuse, _run


def _org_for(request):
    """The organisation a set-up page works on; an administrator who leads none first picks one."""
    actor = request.user
    if not request.GET.get("org") and access.is_admin(actor) and not pages.organisations_led(actor).exists():
        return render(request, "party/setup_pick.html", {"rows": paged(request, sel.root_organisations())})
    return _managed_org(request)


def _setup_page(view):
    """A set-up page works on the organisation `_org_for` finds: the view is called with (request, org, led)."""
    @functools.wraps(view)
    def page(request, *args, **kwargs):
        found = _org_for(request)
        if isinstance(found, HttpResponse):
            return found
        return view(request, *found, *args, **kwargs)
    return page


def _back(request, org):
    return redirect(f"{request.path}?org={org.pk}")


def _common(org, led, actor) -> dict:
    return {"org": org, "led": led, "is_joint": org.org_type in JOINT_TYPES,
            "has_territory": sel.territory_of(org) is not None, "is_admin": access.is_admin(actor)}


# -- the hub: sub-organisations -------------------------------------------------------------------
@login_required
@require_http_methods(["GET", "POST"])
@_setup_page
def setup_home(request, org, led):
    """组织设置: the organisations below this one, and the form to found one."""
    actor = request.user
    form, status = SubOrgForm(prefix="sub", initial={"size": 0}), 200
    if request.method == "POST":
        if request.POST.get("action") != "create":
            status = 400
        else:
            form = SubOrgForm(request.POST, prefix="sub")
            status = _run(request, form, lambda d: su.suborganisation_create(
                org, actor=actor, name=d["name"], org_type=d["org_type"], code=d["code"], division=d["division"],
                grid=d["grid"], building=d["building"], address=d["address"], size=d.get("size") or 0,
                secretary=d["secretary_user"]), success=_("已建立下级党组织。"))
        if status is None:
            return _back(request, org)
    rows = paged(request, sel.children(org, search=request.GET.get("q", "")))
    names = sel.secretary_names(list(rows))
    for o in rows:
        o.secretary_names = names.get(o.unit_id, [])
    return render(request, "party/setup_home.html", {
        **_common(org, led, actor), "form": form, "rows": rows, "q": request.GET.get("q", ""),
        "divisions": sel.divisions_under(org), "grids": sel.grids_under(org)}, status=status or 200)


@login_required
@require_http_methods(["GET", "POST"])
def setup_org(request, pk: int):
    """Edit one organisation the actor manages, and name its secretary."""
    actor = request.user
    org = pages.organisation_managed(actor, pk)
    if org is None:
        raise Http404(_("找不到该党组织，或您无权管理。"))
    parent = getattr(org.unit.parent, "party_org", None) if org.unit.parent_id else None
    managing = parent if parent is not None and access.can_manage_org(actor, parent) else None
    parents = sel.parent_choices(org, managing) if managing is not None else []
    initial = {"name": org.unit.name, "org_type": org.org_type, "address": org.address, "size": org.size,
               "division_code": org.division.code if org.division_id else ""}
    forms = {"edit": OrgEditForm(prefix="edit", org=org, parents=parents, initial=initial),
             "secretary": SecretaryForm(prefix="sec")}
    status = 200
    if request.method == "POST":
        action = request.POST.get("action")
        if action == "edit":
            forms["edit"] = form = OrgEditForm(request.POST, prefix="edit", org=org, parents=parents, initial=initial)
            status = _run(request, form, lambda d: su.organisation_update(
                org, actor=actor, name=d["name"], size=d["size"], address=d["address"], org_type=d["org_type"],
                parent=d.get("parent_org"), division=d["division"] if not org.is_territorial else org.division),
                success=_("已保存。"))
        elif action == "secretary":
            forms["secretary"] = form = SecretaryForm(request.POST, prefix="sec")
            status = _run(request, form, lambda d: su.organisation_secretary_set(
                org, user=d["username"], actor=actor, reason=d["reason"]), success=_("已指定书记。"))
        else:
            status = 400
        if status is None:
            return redirect(request.path)
    return render(request, "party/setup_org.html", {
        "org": org, "parent": parent, "managing": managing, "forms": forms, "secretaries": su.secretaries_of(org),
        "divisions": sel.divisions_under(managing) if managing else [],
        "children": sel.children(org)[:50]}, status=status or 200)


# -- organisation import --------------------------------------------------------------------------
@login_required
@require_http_methods(["GET", "POST"])
@_setup_page
def setup_import(request, org, led):
    """Load a list of organisations from Excel/CSV: all rows or none, each bad row named."""
    actor = request.user
    result, context, status = _import_upload(request, OrgImportForm, lambda upload: su.organisations_import(
        upload, organisation=org, actor=actor, filename=upload.name))
    if result is not None:
        messages.success(request, _("已导入 %(n)s 个党组织。") % {"n": result["created"]})
        return _back(request, org)
    return render(request, "party/setup_import.html", {
        **_common(org, led, actor), **context, "header": su.ORG_TEMPLATE_HEADER}, status=status)


@login_required
@require_GET
def setup_import_template(request):
    response = HttpResponse(su.organisations_template_bytes(),
                            content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    response["Content-Disposition"] = "attachment; filename*=UTF-8''organisation-import-template.xlsx"
    return response


# -- joint committee's member units (大党委成员单位) -----------------------------------------------
@login_required
@require_http_methods(["GET", "POST"])
@_setup_page
def setup_joint(request, org, led):
    actor = request.user
    forms = {"add": JointMemberForm(prefix="jm", initial={"joined_on": timezone.localdate()}),
             "remove": ReasonForm(prefix="rm")}
    status = 200
    if request.method == "POST":
        action = request.POST.get("action")
        if action == "add":
            forms["add"] = form = JointMemberForm(request.POST, prefix="jm")
            status = _run(request, form, lambda d: s.joint_body_member_add(
                org, unit=d["unit"], actor=actor, joined_on=d["joined_on"], position=d["position"]),
                success=_("已加入成员单位。"))
        elif action == "remove":
            row = selectors.joint_body_units(org).filter(pk=request.POST.get("target") or 0).first()
            if row is None:
                status = _refuse(request, DomainError("party.joint.already_removed", _("该成员单位已退出。"),
                                                      status=409))
            else:
                forms["remove"] = form = ReasonForm(request.POST, prefix="rm")
                status = _run(request, form, lambda d: s.joint_body_member_remove(row, actor=actor,
                                                                                   reason=d["reason"]),
                              success=_("成员单位已退出。"))
        else:
            status = 400
        if status is None:
            return _back(request, org)
    return render(request, "party/setup_joint.html", {
        **_common(org, led, actor), "forms": forms,
        "rows": paged(request, selectors.joint_body_units(org).order_by("unit__code"))}, status=status or 200)


# -- grid instructors (网格指导员) ------------------------------------------------------------------
@login_required
@require_http_methods(["GET", "POST"])
@_setup_page
def setup_instructors(request, org, led):
    actor = request.user
    allowed = sel.may_set_up_territory(actor, org)
    grids = sel.grids_under(org) if allowed else []
    members = sel.reported_members_under(org) if allowed else []
    forms = {"assign": InstructorForm(prefix="gi", grids=grids, members=members,
                                      initial={"started_on": timezone.localdate()}),
             "end": InstructorEndForm(prefix="end", initial={"ended_on": timezone.localdate()})}
    status = 200
    if request.method == "POST":
        action = request.POST.get("action")
        if not allowed:
            status = _refuse(request, DomainError("party.forbidden", _("只有本辖区的书记或负责人可以设置网格指导员。"),
                                                  status=403))
        elif action == "assign":
            forms["assign"] = form = InstructorForm(request.POST, prefix="gi", grids=grids, members=members)
            status = _run(request, form, lambda d: s.grid_instructor_assign(
                form.grids[d["grid"]], member=form.members[d["member"]], actor=actor, started_on=d["started_on"]),
                success=_("已任命网格指导员。"))
        elif action == "end":
            post = sel.instructors_under(org).filter(pk=request.POST.get("target") or 0).first()
            if post is None:
                status = _refuse(request, DomainError("party.instructor.ended", _("该任职已结束。"), status=409))
            else:
                forms["end"] = form = InstructorEndForm(request.POST, prefix="end")
                status = _run(request, form, lambda d: s.grid_instructor_end(post, actor=actor,
                                                                             ended_on=d["ended_on"]),
                              success=_("任职已结束。"))
        else:
            status = 400
        if status is None:
            return _back(request, org)
    rows = paged(request, sel.instructors_under(org)) if allowed else None
    return render(request, "party/setup_instructors.html", {
        **_common(org, led, actor), "allowed": allowed, "forms": forms, "rows": rows,
        "no_members": allowed and not members}, status=status or 200)


# -- studios and representatives (党代表工作室) -----------------------------------------------------
@login_required
@require_http_methods(["GET", "POST"])
@_setup_page
def setup_studios(request, org, led):
    actor = request.user
    allowed = sel.may_set_up_territory(actor, org)
    may_register = st.may_register_representatives(actor)
    communities = sel.communities_under(org) if allowed else []
    studios = list(sel.studios_under(org).filter(active=True)[:sel.CHOICES_LIMIT]) if allowed else []
    reps = list(sel.representatives()[:sel.CHOICES_LIMIT]) if allowed else []
    forms = {"studio": StudioOpenForm(prefix="so", communities=communities,
                                      initial={"opened_on": timezone.localdate()}),
             "rep": RepresentativeForm(prefix="rep"),
             "duty": StudioDutyForm(prefix="duty", studios=studios, representatives=reps)}
    status = 200
    if request.method == "POST":
        action = request.POST.get("action")
        if not allowed:
            status = _refuse(request, DomainError("party.forbidden", _("只有本辖区的书记或负责人可以设置工作室。"),
                                                  status=403))
        elif action == "studio":
            forms["studio"] = form = StudioOpenForm(request.POST, prefix="so", communities=communities)
            status = _run(request, form, lambda d: st.studio_create(
                community=form.communities[d["community"]], name=d["name"], actor=actor, opened_on=d["opened_on"],
                address=d["address"]), success=_("工作室已设立。"))
        elif action == "rep":
            forms["rep"] = form = RepresentativeForm(request.POST, prefix="rep")
            status = _run(request, form, lambda d: st.representative_register(
                d["username"], level=d["level"], actor=actor, term=d["term"], constituency=d["constituency"]),
                success=_("党代表已登记。"))
        elif action == "duty":
            forms["duty"] = form = StudioDutyForm(request.POST, prefix="duty", studios=studios, representatives=reps)
            by_pk = {r.pk: r for r in reps}
            status = _run(request, form, lambda d: st.studio_duty_schedule(
                form.studios[d["studio"]], representative=by_pk[d["representative"]], starts_at=d["starts_at"],
                ends_at=d["ends_at"], actor=actor), success=_("值班已安排。"))
        else:
            status = 400
        if status is None:
            return _back(request, org)
    return render(request, "party/setup_studios.html", {
        **_common(org, led, actor), "allowed": allowed, "may_register": may_register, "forms": forms,
        "studios": paged(request, sel.studios_under(org)) if allowed else None,
        "reps": paged(request, sel.representatives(search=request.GET.get("q", "")), param="rp")},
        status=status or 200)


# -- star-rating rule sets (评星规则) --------------------------------------------------------------
def _may_see_rules(actor) -> bool:
    return access.is_admin(actor) or bool(access.secretary_unit_ids(actor))


@login_required
@require_http_methods(["GET", "POST"])
def setup_rules(request):
    """The rule sets, which one is the default, which are drafts; an administrator makes new versions."""
    actor = request.user
    if not _may_see_rules(actor):
        return render(request, "party/org_none.html", status=403)
    form, status = RuleVersionForm(prefix="ver"), 200
    if request.method == "POST":
        action = request.POST.get("action")
        rs = StarRuleSet.objects.filter(pk=request.POST.get("target") or 0).first()
        if rs is None:
            status = 404
        elif action == "version":
            form = RuleVersionForm(request.POST, prefix="ver")
            created = {}
            status = _run(request, form, lambda d: created.setdefault(
                "rs", su.star_rule_set_version(rs, actor=actor, name=d["name"])), success=_("已建立新版本。"))
            if status is None:
                return redirect(reverse("party:setup_rule", args=[created["rs"].pk]))
        elif action == "default":
            try:
                su.star_rule_set_make_default(rs, actor=actor)
            except DomainError as exc:
                status = _refuse(request, exc)
            else:
                messages.success(request, _("已设为默认规则。"))
                return redirect(request.path)
        else:
            status = 400
    return render(request, "party/setup_rules.html", {
        "rows": paged(request, sel.rule_sets()), "form": form, "is_admin": access.is_admin(actor),
        "target": request.POST.get("target") if request.method == "POST" else ""}, status=status or 200)


@login_required
@require_http_methods(["GET", "POST"])
def setup_rule(request, pk: int):
    """One rule set: its items and thresholds; a draft is edited here by an administrator."""
    actor = request.user
    if not _may_see_rules(actor):
        return render(request, "party/org_none.html", status=403)
    rs = get_object_or_404(StarRuleSet, pk=pk)
    in_use = su.rule_set_in_use(rs)
    editable = access.is_admin(actor) and not in_use
    form = RuleSetForm(prefix="rs", initial=RuleSetForm.initial_of(rs))
    items = RuleItemFormSet(prefix="item", initial=[
        {**i, "cap": i.get("cap"), "negative": bool(i.get("negative"))} for i in rs.items])
    status = 200
    if request.method == "POST":
        form = RuleSetForm(request.POST, prefix="rs")
        items = RuleItemFormSet(request.POST, prefix="item")
        if not editable:
            status = _refuse(request, DomainError(
                "party.rules.in_use", _("该规则已用于评星，不能修改；请新建一个版本。") if in_use
                else _("只有管理员可以制定评星规则。"), status=409 if in_use else 403))
        elif not (form.is_valid() and items.is_valid()):
            status = 400
        else:
            d = form.cleaned_data
            try:
                su.star_rule_set_update(
                    rs, actor=actor, name=d["name"], period=d["period"], base=d["base"], max_total=d["max_total"],
                    items=[i for i in (f.as_item() for f in items.forms) if i is not None],
                    thresholds=[d["t5"], d["t4"], d["t3"], d["t2"]], report_required=d["report_required"])
            except DomainError as exc:
                form.add_domain_error(exc)
                status = exc.status
            else:
                messages.success(request, _("评星规则已保存。"))
                return redirect(request.path)
    return render(request, "party/setup_rule.html", {
        "rs": rs, "in_use": in_use, "editable": editable, "form": form, "items": items,
        "is_admin": access.is_admin(actor)}, status=status or 200)

