"""Shared reads of the co-governance projects (共治项目): who manages a community's projects, which
communities a resident lives in, the projects there and nearby, an owner's flats.

Managers are the community workers (RoleCode.COMMUNITY_WORKER) of the community's residents'
committee (the territorial unit whose division is the community). Residents see their own
community's projects and those of the other communities of their street, with owners' and diners'
names and phones masked; only the managers see them whole.
"""

from __future__ import annotations

from django.db.models import Avg, Count, Q, QuerySet

from huying.core.text import clean_text
from huying.people.masking import mask_name, mask_phone
from huying.people.models import Membership, RoleCode, Unit, UnitKind
from huying.territory.models import Building, Division, Level

from .models import Canteen, LiftOwner, LiftProject, Renovation

MANAGER_ROLE = RoleCode.COMMUNITY_WORKER


def _signed_in(user) -> bool:
    return user is not None and getattr(user, "is_authenticated", False) and user.is_active


def managed_communities(user) -> QuerySet[Division]:
    """Communities whose committee `user` serves as a community worker."""
    if not _signed_in(user):
        return Division.objects.none()
    ids = Membership.objects.filter(user_id=user.pk, active=True, unit__active=True, role__code=MANAGER_ROLE,
                                    unit__kind=UnitKind.TERRITORIAL, unit__division__level=Level.COMMUNITY,
                                    ).values("unit__division_id")
    return Division.objects.filter(pk__in=ids).order_by("code")


def is_manager(user, community: Division) -> bool:
    return managed_communities(user).filter(pk=community.pk).exists()


def home_communities(user) -> QuerySet[Division]:
    """Communities where `user` is registered as a resident (or works: a worker sees their own too)."""
    if not _signed_in(user):
        return Division.objects.none()
    ids = Membership.objects.filter(user_id=user.pk, active=True, unit__active=True,
                                    role__code__in=(RoleCode.RESIDENT, MANAGER_ROLE),
                                    unit__division__level=Level.COMMUNITY).values("unit__division_id")
    return Division.objects.filter(pk__in=ids).order_by("code")


def may_view(user, community: Division) -> bool:
    """Residents of the community or of its street, and its managers."""
    if is_manager(user, community):
        return True
    parents = set(home_communities(user).values_list("parent_id", flat=True))
    return community.parent_id in parents


def projects_near(user) -> dict:
    """{community: [...], nearby: [...]} lifts, canteens and renovations: the resident's own community first,
    then the other communities of the same street."""
    homes = list(home_communities(user))
    home_ids = [d.pk for d in homes]
    street_ids = {d.parent_id for d in homes}

    def rows(filter_kw):
        return {
            "lifts": list(LiftProject.objects.filter(**filter_kw).select_related("building", "community")[:50]),
            "canteens": list(Canteen.objects.filter(**filter_kw).select_related("community")
                             .annotate(stars=Avg("ratings__stars"), diners=Count("enrolments", distinct=True))[:50]),
            "renovations": list(Renovation.objects.filter(**filter_kw).select_related("community")
                                .prefetch_related("contributions__unit")[:50]),
        }

    mine = rows({"community_id__in": home_ids})
    near = {"lifts": [], "canteens": [], "renovations": []}
    if street_ids:
        near = {k: [x for x in v if x.community_id not in home_ids]
                for k, v in rows({"community__parent_id__in": street_ids}).items()}
    return {"homes": homes, "mine": mine, "near": near}


def my_flats(user) -> QuerySet[LiftOwner]:
    if not _signed_in(user):
        return LiftOwner.objects.none()
    return LiftOwner.objects.filter(user_id=user.pk).select_related("project__building", "project__community")


def shown_owner(owner, *, manager: bool) -> dict:
    """An owner's name and phone: whole for the project's managers, masked for everyone else."""
    if manager:
        return {"name": owner.name, "phone": owner.phone}
    return {"name": mask_name(owner.name), "phone": mask_phone(owner.phone)}


# -- dashboard tiles -------------------------------------------------------------------------------

def lifts_tile(*, prefix: str, now):
    """Lift retrofits in the territory: built or being built (施工、竣工验收), of all projects."""
    from django.utils.translation import gettext as _

    from huying.core import tiles

    from .models import LiftState

    qs = LiftProject.objects.all()
    if prefix:
        qs = qs.filter(community__code__startswith=prefix)
    from django.db.models import Count, Q

    row = qs.aggregate(total=Count("pk"), built=Count("pk", filter=Q(state__in=(LiftState.WORKS,
                                                                                 LiftState.ACCEPTANCE))))
    total, built = row["total"], row["built"]
    if not total:
        return None
    return tiles.TileValue(value=f"{built} / {total}", note=_("施工及竣工 / 全部项目"))


def canteens_tile(*, prefix: str, now):
    """Elderly canteens in the territory and the meals they served yesterday."""
    from datetime import timedelta

    from django.utils import timezone
    from django.utils.translation import gettext as _

    from huying.core import tiles

    from .models import CanteenMeal

    qs = Canteen.objects.all()
    if prefix:
        qs = qs.filter(community__code__startswith=prefix)
    n = qs.count()
    if not n:
        return None
    yesterday = timezone.localdate(now) - timedelta(days=1)
    meals = CanteenMeal.objects.filter(canteen__in=qs, served_on=yesterday).count()
    return tiles.TileValue(value=str(n), note=_("昨日助餐 %(n)s 人次") % {"n": meals})


def register_tiles() -> None:
    from django.utils.translation import gettext_lazy as _lazy

    from huying.core import tiles

    tiles.register("community_lifts", title=_lazy("加装电梯"), fn=lifts_tile, order=170)
    tiles.register("community_canteens", title=_lazy("长者饭堂"), fn=canteens_tile, order=171)


# -- the set-up pages' searches ------------------------------------------------------------------

# Units that may join a project as partners or run a canteen (企事业单位、社会服务机构).
PARTNER_KINDS = (UnitKind.ENTERPRISE, UnitKind.AGENCY)


def buildings_for_setup(actor, q: str, *, limit: int = 20):
    """Buildings of the communities `actor` manages whose address or code holds `q` (nothing for no `q`)."""
    q = clean_text(q, field="q", max_length=60)
    if not q:
        return Building.objects.none()
    communities = managed_communities(actor)
    return (Building.objects.filter(grid__community__in=communities)
            .filter(Q(address__icontains=q) | Q(code__iexact=q))
            .select_related("grid__community").order_by("address", "code")[:limit])


def partner_units(q: str, *, limit: int = 20):
    """Active enterprises and agencies (企事业单位、社会服务机构) whose name or code holds `q`."""
    q = clean_text(q, field="q", max_length=60)
    if not q:
        return Unit.objects.none()
    return (Unit.objects.filter(active=True, kind__in=PARTNER_KINDS)
            .filter(Q(name__icontains=q) | Q(code__iexact=q)).order_by("name", "code")[:limit])
