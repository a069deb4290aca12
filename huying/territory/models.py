"""The territory: city → district → street/town → community/village (Division), Grid, Building.

Codes are hierarchical prefixes: a district's 6-digit code starts every street code (9 digits),
which starts every community code (12), which starts every grid code (15). So "this division and
everything below it" is a prefix match on the code, one indexed query at any depth.
Geometry is GeoJSON text in WGS-84 (lng, lat); shapely works on it in process, no GDAL needed.
"""

from django.db import models
from django.utils.translation import gettext_lazy as _

UNIFIED_LAYER = "unified"


class Level(models.TextChoices):
    CITY = "city", _("市")
    DISTRICT = "district", _("区")
    STREET = "street", _("街道/镇")
    COMMUNITY = "community", _("社区/村")


LEVEL_DEPTH = {Level.CITY: 0, Level.DISTRICT: 1, Level.STREET: 2, Level.COMMUNITY: 3}


class Division(models.Model):
    """A territorial level (行政区划): city, district, street/town or community/village."""

    code = models.CharField(_("区划代码"), max_length=12, unique=True)
    name = models.CharField(_("名称"), max_length=100, db_index=True)
    short_name = models.CharField(_("简称"), max_length=60, blank=True, db_index=True,
                                  help_text=_("例如：北京街、流水井社区"))
    level = models.CharField(_("层级"), max_length=12, choices=Level.choices, db_index=True)
    kind = models.CharField(_("类别"), max_length=8, help_text=_("市、区、街道、镇、其他、社区、村"))
    parent = models.ForeignKey("self", verbose_name=_("上级"), null=True, blank=True,
                               on_delete=models.PROTECT, related_name="children")
    official_code = models.BooleanField(_("官方代码"), default=True,
                                        help_text=_("否：本地按统计编码规则生成的代码"))
    generated = models.BooleanField(_("系统生成"), default=False,
                                    help_text=_("是：无官方名单，由系统生成的区划"))
    geometry = models.TextField(_("边界(GeoJSON)"), blank=True)
    # The generator redraws only boundaries it drew itself; imported (surveyed) ones are kept.
    geometry_generated = models.BooleanField(_("边界系统生成"), default=False,
                                             help_text=_("是：边界由系统划分生成，重新生成时会被替换"))
    lng = models.FloatField(_("中心经度"), null=True, blank=True)
    lat = models.FloatField(_("中心纬度"), null=True, blank=True)

    class Meta:
        verbose_name = _("行政区划")
        verbose_name_plural = _("行政区划")
        ordering = ["code"]
        indexes = [models.Index(fields=["parent", "code"])]

    def __str__(self):
        return f"{self.name}（{self.code}）"

    @property
    def depth(self) -> int:
        return LEVEL_DEPTH[self.level]

    def subtree_q(self, field: str = "code") -> models.Q:
        """Q for records whose `field` (a division code) lies at or below this division."""
        if self.level == Level.CITY:
            return models.Q()
        return models.Q(**{f"{field}__startswith": self.code})


class Grid(models.Model):
    """A grid (网格): the smallest territorial cell. Layer `unified` is the one grid after 多网合一;
    imported source layers (党建, 综治, 城管 …) are kept beside it with their own layer name."""

    code = models.CharField(_("网格编码"), max_length=20)
    name = models.CharField(_("名称"), max_length=100)
    layer = models.CharField(_("图层"), max_length=32, default=UNIFIED_LAYER, db_index=True)
    community = models.ForeignKey(Division, verbose_name=_("所属社区/村"), on_delete=models.PROTECT,
                                  related_name="grids")
    geometry = models.TextField(_("边界(GeoJSON)"))
    lng = models.FloatField(_("中心经度"))
    lat = models.FloatField(_("中心纬度"))
    area_m2 = models.FloatField(_("面积(平方米)"), default=0)
    generated = models.BooleanField(_("系统生成"), default=False)

    class Meta:
        verbose_name = _("网格")
        verbose_name_plural = _("网格")
        ordering = ["layer", "code"]
        constraints = [models.UniqueConstraint(fields=["layer", "code"], name="grid_layer_code_unique")]
        indexes = [models.Index(fields=["layer", "community"])]

    def __str__(self):
        return f"{self.name}（{self.code}）"


class Building(models.Model):
    """A building (楼栋) inside a grid, with its households."""

    code = models.CharField(_("楼栋编码"), max_length=24, unique=True)
    grid = models.ForeignKey(Grid, verbose_name=_("所属网格"), on_delete=models.PROTECT, related_name="buildings")
    address = models.CharField(_("地址"), max_length=255, db_index=True)
    lng = models.FloatField(_("经度"))
    lat = models.FloatField(_("纬度"))
    households = models.PositiveIntegerField(_("户数"), default=0)
    generated = models.BooleanField(_("系统生成"), default=False)

    class Meta:
        verbose_name = _("楼栋")
        verbose_name_plural = _("楼栋")
        ordering = ["code"]

    def __str__(self):
        return self.address


class GridCrosswalk(models.Model):
    """多网合一 crosswalk: a source-layer grid → a unified grid it overlaps, with the overlap share."""

    source = models.ForeignKey(Grid, verbose_name=_("原网格"), on_delete=models.CASCADE, related_name="crosswalk_out")
    target = models.ForeignKey(Grid, verbose_name=_("统一网格"), on_delete=models.CASCADE, related_name="crosswalk_in")
    share = models.FloatField(_("重叠占比"), help_text=_("原网格面积中落入统一网格的比例，0–1"))
    created_at = models.DateTimeField(_("生成时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("网格对照")
        verbose_name_plural = _("网格对照")
        constraints = [models.UniqueConstraint(fields=["source", "target"], name="crosswalk_pair_unique")]

    def __str__(self):
        return f"{self.source_id} → {self.target_id} ({self.share:.0%})"
