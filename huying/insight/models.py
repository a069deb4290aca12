"""Rollups the dashboard reads, and each order's stored contribution to them.

`OrderFact`/`OrderUnitFact` hold what every order last contributed (see `facts`); `AreaDay`,
`AreaDayTotal`, `AreaNow` and `UnitDay` are sums of those contributions, so no dashboard request reads the order
table. Rows are keyed by codes, not foreign keys: the rollups are derived data that
`huying insight rebuild` recomputes from scratch at any time.
"""

from django.db import models
from django.utils.translation import gettext_lazy as _

from .metrics import COUNTERS


def _counters(cls_name: str, bases=(models.Model,)):
    """An abstract model with one integer column per counter (names from `metrics.COUNTERS`)."""
    attrs = {"__module__": __name__, "Meta": type("Meta", (), {"abstract": True})}
    for name in COUNTERS:
        attrs[name] = models.IntegerField(default=0)
    return type(cls_name, bases, attrs)


Counters = _counters("Counters")


class Level(models.IntegerChoices):
    CITY = 0, _("市")
    DISTRICT = 1, _("区")
    STREET = 2, _("街道/镇")
    COMMUNITY = 3, _("社区/村")
    GRID = 4, _("网格")


# Code length at each level below the city (territory codes are prefixes of their children's).
CODE_LENGTH = {Level.DISTRICT: 6, Level.STREET: 9, Level.COMMUNITY: 12, Level.GRID: 15}
# The levels `AreaDay` (per day and subject) keeps. Below a street a territory's (day, subject)
# rows are about as many as its orders — on a Guangzhou year 6.2 M community and 7.5 M grid rows
# for 8.17 M orders, three fifths of the rollups' rows — so there the subject mix and the
# forecast sum the orders' facts (`OrderFact` by leaf and day) instead: the same sums, from as
# many rows as AreaDay would have read (D84).
SUBJECT_LEVELS = frozenset({Level.CITY, Level.DISTRICT, Level.STREET})


class OrderFact(Counters):
    """One order's last contribution to the area rollups, and what it was computed from."""

    order_id = models.BigIntegerField(primary_key=True)
    day = models.DateField(_("受理日期"))
    leaf = models.CharField(_("区域代码"), max_length=20)
    subject = models.CharField(_("一级分类"), max_length=8)
    lead_unit_id = models.BigIntegerField(null=True)
    signature = models.CharField(max_length=120, blank=True)
    simulated = models.BooleanField(default=False)

    class Meta:
        verbose_name = _("工单统计事实")
        verbose_name_plural = _("工单统计事实")
        # A community's or grid's orders over some days, by subject (`SUBJECT_LEVELS`): a range of
        # leaves (`selectors.below`), then the days.
        indexes = [models.Index(fields=["leaf", "day"], name="insight_fact_leaf_day")]


class OrderUnitFact(Counters):
    """One order's last contribution to one unit's rollup."""

    order_id = models.BigIntegerField()  # the unique (order_id, unit_id) serves order_id = X
    unit_id = models.BigIntegerField()
    day = models.DateField(_("受理日期"))

    class Meta:
        verbose_name = _("工单单位统计事实")
        verbose_name_plural = _("工单单位统计事实")
        constraints = [models.UniqueConstraint(fields=["order_id", "unit_id"], name="insight_unitfact_unique")]


class AreaDayCounters(Counters):
    """The counters of one day taken in and one territory (every level, grids included), with the
    territory's level and parent (its children are read by parent)."""

    day = models.DateField(_("日期"))
    code = models.CharField(_("区域代码"), max_length=20)
    level = models.PositiveSmallIntegerField(_("层级"), choices=Level.choices)
    parent = models.CharField(_("上级代码"), max_length=20, blank=True)

    class Meta:
        abstract = True


class AreaDay(AreaDayCounters):
    """Per day taken in, territory and level-1 subject, for the city, districts and streets only
    (`SUBJECT_LEVELS`; below them the subjects are summed from `OrderFact`)."""

    subject = models.CharField(_("一级分类"), max_length=8)

    class Meta:
        verbose_name = _("区域日汇总")
        verbose_name_plural = _("区域日汇总")
        # Code first: the key also serves "this area, these days" (tiles, trend, mix).
        constraints = [models.UniqueConstraint(fields=["code", "day", "subject"], name="insight_areaday_key")]
        indexes = [models.Index(fields=["parent", "day"], name="insight_areaday_parent_day")]


class AreaDayTotal(AreaDayCounters):
    """`AreaDay` with its subjects added together: per day taken in and territory. Everything that
    reads whole areas (tiles, trend, children, units, rankings, the monthly report, hot spots) reads
    this; only the subject mix and the forecast need `AreaDay`. A district's children over 30 days
    are ~600 rows here against ~19,600 there (streets × days × subjects; D80)."""

    class Meta:
        verbose_name = _("区域日合计")
        verbose_name_plural = _("区域日合计")
        constraints = [models.UniqueConstraint(fields=["code", "day"], name="insight_areadaytotal_key")]
        indexes = [
            models.Index(fields=["parent", "day"], name="insight_areatotal_parent_day"),
            # Covering (PostgreSQL): a live hot-spot list reads only this index.
            models.Index(fields=["level", "day", "code"], include=["created", "open"],
                         name="insight_areatotal_level_day"),
        ]


class HotspotList(models.Model):
    """The busiest grids below one city, district or street over the last `days` days, as the
    worker's `hotspots` job last computed them (`hotspots.refresh`): at a national scale the city's
    list sums ~140 k grid rows per week, too many for a page (D80). Communities and grids are
    counted live. Derived data, replaced whole at every run; the panel shows `computed_at`."""

    code = models.CharField(_("区域代码"), max_length=20)
    days = models.PositiveSmallIntegerField(_("天数"))
    ends_on = models.DateField(_("截止日期"))
    computed_at = models.DateTimeField(_("计算时间"))
    spots = models.JSONField(_("热点"), default=list)  # [{"code", "created", "open"}], busiest first

    class Meta:
        verbose_name = _("热点网格榜")
        verbose_name_plural = _("热点网格榜")
        constraints = [models.UniqueConstraint(fields=["code", "days"], name="insight_hotspotlist_key")]

    def __str__(self):
        return f"{self.code} {self.days}d @ {self.computed_at:%Y-%m-%d %H:%M}"


class AreaNow(Counters):
    """Per territory, all days together: the stocks (open, overdue …) as they are now."""

    code = models.CharField(_("区域代码"), max_length=20, unique=True)
    level = models.PositiveSmallIntegerField(_("层级"), choices=Level.choices)
    parent = models.CharField(_("上级代码"), max_length=20, blank=True, db_index=True)

    class Meta:
        verbose_name = _("区域现状")
        verbose_name_plural = _("区域现状")


class UnitDay(Counters):
    """Per day taken in and unit: what the unit did with those orders (for rankings, 三率 per unit)."""

    day = models.DateField(_("日期"))
    unit_id = models.BigIntegerField(_("单位"))

    class Meta:
        verbose_name = _("单位日汇总")
        verbose_name_plural = _("单位日汇总")
        constraints = [models.UniqueConstraint(fields=["day", "unit_id"], name="insight_unitday_key")]
        indexes = [models.Index(fields=["unit_id", "day"], name="insight_unitday_unit_day")]


class CallForecast(models.Model):
    """The fitted call-volume forecast of one territory and level-1 subject ("" = all), refreshed
    daily by the worker job "forecast" (see `forecast`); derived data, replaced whole."""

    code = models.CharField(_("区域代码"), max_length=20)
    subject = models.CharField(_("一级分类"), max_length=8, blank=True)
    made_on = models.DateField(_("预测起始日"))
    computed_at = models.DateTimeField(_("计算时间"))
    method = models.CharField(_("方法"), max_length=16)
    history_days = models.PositiveIntegerField(_("历史天数"), default=0)
    values = models.JSONField(_("预测值"), default=dict)

    class Meta:
        verbose_name = _("来电量预测")
        verbose_name_plural = _("来电量预测")
        constraints = [models.UniqueConstraint(fields=["code", "subject"], name="insight_callforecast_key")]

    def __str__(self):
        return f"{self.code} {self.subject or '*'} {self.made_on}"


class RefreshQueue(models.Model):
    """An order whose contribution to the rollups may have changed, noted inside the transaction of
    the change (so a crash after the commit cannot lose it) and drained in batches by the worker's
    `rollups` job (`rollups.drain`): the queue row is deleted in the transaction that applies the
    refresh, so every noted change is applied exactly once. An order noted twice is refreshed once
    per batch (the refresh is idempotent: it recomputes the order's fact from its committed rows)."""

    id = models.BigAutoField(primary_key=True)
    order_id = models.BigIntegerField()
    noted_at = models.DateTimeField()

    class Meta:
        verbose_name = _("待汇总工单")
        verbose_name_plural = _("待汇总工单")

    def __str__(self):
        return f"{self.order_id} @ {self.noted_at:%Y-%m-%d %H:%M:%S}"
