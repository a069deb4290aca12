"""Service positions (党群服务阵地): street and community Party-mass service centres and stations in
crowded places, their opening hours (incl. staggered 错时 evening and weekend hours), and the
catalogue of service items each one handles (一门式、一站式)."""

from django.db import models
from django.utils.translation import gettext_lazy as _

from huying.people.models import Unit
from huying.territory.models import Building, Division, Grid


class PositionKind(models.TextChoices):
    STREET_CENTRE = "street_centre", _("街道党群服务中心")
    COMMUNITY_CENTRE = "community_centre", _("社区党群服务中心")
    STATION = "station", _("人流密集区服务站")


class ServicePosition(models.Model):
    """A service centre or station (服务阵地) run by a Unit, placed on the territory (WGS-84)."""

    kind = models.CharField(_("类别"), max_length=20, choices=PositionKind.choices, db_index=True)
    name = models.CharField(_("名称"), max_length=120, db_index=True)
    unit = models.ForeignKey(Unit, verbose_name=_("主办单位"), on_delete=models.PROTECT,
                             related_name="service_positions")
    division = models.ForeignKey(Division, verbose_name=_("所在区划"), on_delete=models.PROTECT,
                                 related_name="service_positions")
    grid = models.ForeignKey(Grid, verbose_name=_("所在网格"), null=True, blank=True, on_delete=models.PROTECT,
                             related_name="service_positions")
    building = models.ForeignKey(Building, verbose_name=_("所在楼栋"), null=True, blank=True,
                                 on_delete=models.PROTECT, related_name="service_positions")
    lng = models.FloatField(_("经度"))
    lat = models.FloatField(_("纬度"))
    address = models.CharField(_("地址"), max_length=255)
    phone = models.CharField(_("联系电话"), max_length=40, blank=True)
    open_on_holidays = models.BooleanField(
        _("法定节假日开放"), default=False,
        help_text=_("是：法定节假日按“节假日”时段开放，未设节假日时段则按当天星期的时段开放"))
    active = models.BooleanField(_("启用"), default=True)

    class Meta:
        verbose_name = _("服务阵地")
        verbose_name_plural = _("服务阵地")
        ordering = ["division__code", "kind", "name"]
        indexes = [models.Index(fields=["active", "kind"])]

    def __str__(self):
        return self.name


class Day(models.IntegerChoices):
    MONDAY = 0, _("星期一")
    TUESDAY = 1, _("星期二")
    WEDNESDAY = 2, _("星期三")
    THURSDAY = 3, _("星期四")
    FRIDAY = 4, _("星期五")
    SATURDAY = 5, _("星期六")
    SUNDAY = 6, _("星期日")
    HOLIDAY = 7, _("法定节假日")


class OpeningHours(models.Model):
    """One opening period of a position on a day of the week (or on statutory holidays)."""

    position = models.ForeignKey(ServicePosition, verbose_name=_("服务阵地"), on_delete=models.CASCADE,
                                 related_name="hours")
    day = models.PositiveSmallIntegerField(_("日"), choices=Day.choices)
    opens = models.TimeField(_("开始"))
    closes = models.TimeField(_("结束"))
    note = models.CharField(_("说明"), max_length=60, blank=True, help_text=_("例如：错时延时服务"))

    class Meta:
        verbose_name = _("开放时段")
        verbose_name_plural = _("开放时段")
        ordering = ["position", "day", "opens"]

    def __str__(self):
        return f"{self.get_day_display()} {self.opens:%H:%M}–{self.closes:%H:%M}"


class HandlingLevel(models.TextChoices):
    DISTRICT = "district", _("区级")
    STREET = "street", _("街道（镇）级")
    COMMUNITY = "community", _("社区（村）级")


class ServiceItem(models.Model):
    """A service item (服务事项) of the catalogue: what a resident can get done, where, with what."""

    code = models.CharField(_("事项编码"), max_length=40, unique=True)
    name = models.CharField(_("事项名称"), max_length=120, db_index=True)
    category = models.CharField(_("类别"), max_length=40, blank=True, db_index=True)
    level = models.CharField(_("办理层级"), max_length=12, choices=HandlingLevel.choices, db_index=True)
    documents = models.JSONField(_("所需材料"), default=list, blank=True)
    time_limit_days = models.PositiveSmallIntegerField(_("法定办结时限（工作日）"), null=True, blank=True,
                                                       help_text=_("空：即办件"))
    fee = models.CharField(_("收费"), max_length=60, blank=True, help_text=_("空：不收费"))
    legal_basis = models.CharField(_("设定依据"), max_length=255, blank=True)
    departments = models.ManyToManyField(Unit, verbose_name=_("职能部门"), blank=True,
                                         related_name="service_items")
    positions = models.ManyToManyField(ServicePosition, verbose_name=_("办理地点"), blank=True,
                                       related_name="items")
    active = models.BooleanField(_("启用"), default=True)

    class Meta:
        verbose_name = _("服务事项")
        verbose_name_plural = _("服务事项")
        ordering = ["code"]

    def __str__(self):
        return self.name
