"""Loading the administrative divisions (行政区划) and their boundaries.

`divisions_import` takes the shape of the shipped `data/divisions.json`; `boundaries_import` a
GeoJSON FeatureCollection whose features carry a division `code`. Both validate the whole input
first and write in one transaction, so a bad file loads nothing.
"""

import json
import re
from collections.abc import Iterable

import shapely
from django.db import transaction
from django.db.models import ProtectedError, RestrictedError
from django.utils.translation import gettext as _

from huying.core.audit import audit_log
from huying.core.errors import DomainError

from ..models import Division, Level

STREET_KINDS = ("街道", "镇", "乡", "其他")
COMMUNITY_KINDS = ("社区", "村")
# Local community codes follow the statistical rule for the last three digits (see DOMAIN.md
# "Grid codes"): 001–199 residents' committees (社区), 2xx villagers' committees (村). 3xx is
# still unused by the statistics, so villages may spill into it here.
LOCAL_CODE_RANGES = {"社区": (1, 199), "村": (201, 399)}
BATCH = 500

_DIGITS = re.compile(r"^\d+$")
# Longest suffix first, so "社区居民委员会" wins over "居民委员会".
_COMMUNITY_SUFFIXES = (
    ("社区居民委员会", "社区"),
    ("社区居委会会", "社区"),  # a doubled 会 occurs in the source names
    ("社区居居委会", "社区"),
    ("社区居委会", "社区"),
    ("村民委员会", "村"),
    ("居民委员会", "社区"),
    ("村委会", "村"),
    ("居委会", "社区"),
)


def division_short_name(name: str, level: str) -> str:
    """The everyday name: 北京街道→北京街, 流水井社区居民委员会→流水井社区, 越秀区→越秀, 广州市→广州."""
    name = name.strip()
    if level == Level.COMMUNITY:
        for suffix, replacement in _COMMUNITY_SUFFIXES:
            if name.endswith(suffix) and len(name) > len(suffix):
                return name[: -len(suffix)] + replacement
        return name
    if level == Level.STREET:
        return name[:-1] if name.endswith("街道") and len(name) > 2 else name
    if level in (Level.DISTRICT, Level.CITY):
        # Two-character names (e.g. a district called 城区) keep their suffix, or nothing is left.
        return name[:-1] if name[-1:] in ("区", "市", "县") and len(name) > 2 else name
    return name


def _refuse(path: str, message: str, **details) -> DomainError:
    return DomainError("territory.divisions.invalid", f"{path}: {message}", field=path, **details)


def _text(value, path: str, what: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise _refuse(path, _("%(what)s不能为空") % {"what": what})
    return value.strip()


def _code(value, path: str, digits: int, prefix: str | None, prefix_what: str) -> str:
    code = str(value).strip() if isinstance(value, str | int) else ""
    if len(code) != digits or not _DIGITS.match(code):
        raise _refuse(path, _("代码 %(code)s 应为 %(n)d 位数字") % {"code": value, "n": digits})
    if prefix is not None and not code.startswith(prefix):
        raise _refuse(path, _("代码 %(code)s 不以%(what)s %(prefix)s 开头")
                      % {"code": code, "what": prefix_what, "prefix": prefix})
    return code


def divisions_validate(data: dict, *, known_local_codes: dict[str, dict[str, str]] | None = None) -> list[dict]:
    """Check a whole divisions file and return flat rows (code, name, level, kind, parent code,
    official_code, path) in parent-before-child order, with local codes given to communities.

    Pure: touches no database, so an import command can offer a dry run. `known_local_codes`
    maps a street code to {community name: code} for communities already stored, so a re-import
    keeps the local codes it gave before instead of renumbering. Raises DomainError naming the
    first bad row, e.g. `districts[3].streets[5]`.
    """
    existing_local = known_local_codes or {}
    if not isinstance(data, dict) or not isinstance(data.get("city"), dict):
        raise _refuse("city", _("缺少城市（city）"))
    city = data["city"]
    city_code = _code(city.get("code"), "city", 6, None, "")
    rows = [{"code": city_code, "name": _text(city.get("name"), "city", _("名称")), "level": Level.CITY,
             "kind": "市", "parent": None, "official_code": True, "path": "city"}]
    districts = data.get("districts")
    if not isinstance(districts, list) or not districts:
        raise _refuse("districts", _("区列表不能为空"))
    seen: dict[str, str] = {city_code: "city"}

    def _unique(code: str, path: str):
        if code in seen:
            raise _refuse(path, _("代码 %(code)s 与 %(other)s 重复") % {"code": code, "other": seen[code]},
                          duplicate_of=seen[code])
        seen[code] = path

    for i, district in enumerate(districts):
        dpath = f"districts[{i}]"
        if not isinstance(district, dict):
            raise _refuse(dpath, _("格式错误"))
        dcode = _code(district.get("code"), dpath, 6, city_code[:4], _("所属市代码"))
        _unique(dcode, dpath)
        rows.append({"code": dcode, "name": _text(district.get("name"), dpath, _("名称")),
                     "level": Level.DISTRICT, "kind": "区", "parent": city_code, "official_code": True,
                     "path": dpath})
        for j, street in enumerate(district.get("streets") or []):
            spath = f"{dpath}.streets[{j}]"
            if not isinstance(street, dict):
                raise _refuse(spath, _("格式错误"))
            scode = _code(street.get("code"), spath, 9, dcode, _("所属区代码"))
            _unique(scode, spath)
            kind = street.get("kind") or "街道"
            if kind not in STREET_KINDS:
                raise _refuse(spath, _("类别 %(kind)s 应为 %(kinds)s 之一")
                              % {"kind": kind, "kinds": "、".join(STREET_KINDS)})
            rows.append({"code": scode, "name": _text(street.get("name"), spath, _("名称")),
                         "level": Level.STREET, "kind": kind, "parent": dcode, "official_code": True,
                         "path": spath})
            rows.extend(_validate_communities(street.get("communities") or [], spath, scode,
                                              existing_local.get(scode, {}), _unique))
    return rows


def _validate_communities(communities: list, spath: str, scode: str, known: dict[str, str], unique) -> list[dict]:
    out: list[dict] = []
    names: dict[str, str] = {}
    pending: list[dict] = []  # rows still waiting for a local code
    for k, community in enumerate(communities):
        cpath = f"{spath}.communities[{k}]"
        if not isinstance(community, dict):
            raise _refuse(cpath, _("格式错误"))
        name = _text(community.get("name"), cpath, _("名称"))
        if name in names:
            raise _refuse(cpath, _("名称 %(name)s 与 %(other)s 重复") % {"name": name, "other": names[name]})
        names[name] = cpath
        kind = community.get("kind") or "社区"
        if kind not in COMMUNITY_KINDS:
            raise _refuse(cpath, _("类别 %(kind)s 应为 社区 或 村") % {"kind": kind})
        row = {"name": name, "level": Level.COMMUNITY, "kind": kind, "parent": scode, "path": cpath}
        if community.get("code") not in (None, ""):
            row["code"] = _code(community["code"], cpath, 12, scode, _("所属街道代码"))
            row["official_code"] = True
            unique(row["code"], cpath)
        else:
            row["official_code"] = False
            pending.append(row)
        out.append(row)
    # Reuse the code a community got last time (matched by name), then number the new ones
    # from the bottom of their kind's range in file order. A code a stored community holds is
    # never handed to a newcomer, even when that community has left the file: records that
    # point at the old community must not silently move to a different one.
    assigned = {row["code"] for row in out if "code" in row}
    for row in pending:
        code = known.get(row["name"])
        if code and code not in assigned and _local_kind_ok(code, row["kind"]):
            row["code"] = code
            assigned.add(code)
    reserved = assigned | set(known.values())
    for row in pending:
        if "code" in row:
            continue
        low, high = LOCAL_CODE_RANGES[row["kind"]]
        for seq in range(low, high + 1):
            code = f"{scode}{seq:03d}"
            if code not in reserved:
                break
        else:
            raise _refuse(row["path"], _("%(kind)s数量超出本地代码范围 %(low)03d–%(high)03d")
                          % {"kind": row["kind"], "low": low, "high": high})
        row["code"] = code
        reserved.add(code)
    for row in pending:
        unique(row["code"], row["path"])
    return out


def _local_kind_ok(code: str, kind: str) -> bool:
    low, high = LOCAL_CODE_RANGES[kind]
    return low <= int(code[-3:]) <= high


_FIELDS = ("name", "short_name", "level", "kind", "official_code")


@transaction.atomic
def divisions_import(data: dict, *, actor=None, replace: bool = False) -> dict:
    """Load a city's districts, streets/towns and communities/villages; returns counts.

    Matching is by code, so importing the same file twice changes nothing. A stored division
    whose name, kind or parent differs from the file is refused unless `replace`; with
    `replace` it is updated, and imported divisions of this city missing from the file are
    deleted. Divisions the generator made (`generated`) are left to the generator.
    """
    if not isinstance(data, dict) or not isinstance(data.get("city"), dict):
        raise _refuse("city", _("缺少城市（city）"))
    city_prefix = str(data["city"].get("code", ""))[:4]
    existing = {d.code: d for d in Division.objects.filter(code__startswith=city_prefix)} if len(city_prefix) == 4 else {}
    existing_local: dict[str, dict[str, str]] = {}
    for d in existing.values():
        # Generated communities are included so that their codes stay reserved: a real list for
        # a street never collides with what the generator made for it before.
        if d.level == Level.COMMUNITY and not d.official_code:
            existing_local.setdefault(d.code[:9], {})[d.name] = d.code
    rows = divisions_validate(data, known_local_codes=existing_local)
    for row in rows:
        row["short_name"] = division_short_name(row["name"], row["level"])

    counts = {"created": 0, "updated": 0, "unchanged": 0, "deleted": 0}
    for level in (Level.CITY, Level.DISTRICT, Level.STREET, Level.COMMUNITY):
        level_rows = [r for r in rows if r["level"] == level]
        parents = {d.code: d.pk for d in existing.values()}
        to_create, to_update = [], []
        for row in level_rows:
            parent_id = parents[row["parent"]] if row["parent"] else None
            current = existing.get(row["code"])
            if current is None:
                to_create.append(Division(code=row["code"], parent_id=parent_id,
                                          **{f: row[f] for f in _FIELDS}))
                continue
            changed = [f for f in _FIELDS if getattr(current, f) != row[f]]
            if current.parent_id != parent_id:
                changed.append("parent")
            if current.generated:
                changed.append("generated")
            if not changed:
                counts["unchanged"] += 1
                continue
            if not replace:
                raise DomainError(
                    "territory.divisions.conflict",
                    _("%(path)s: 代码 %(code)s 已存在且内容不同（%(fields)s）；如需覆盖请使用替换导入")
                    % {"path": row["path"], "code": row["code"], "fields": ", ".join(changed)},
                    field=row["path"], status=409, fields=changed,
                )
            for f in _FIELDS:
                setattr(current, f, row[f])
            current.parent_id = parent_id
            current.generated = False
            to_update.append(current)
        created = Division.objects.bulk_create(to_create, batch_size=BATCH)
        if any(d.pk is None for d in created):
            # Backends that cannot return ids from a bulk insert: read them back once.
            created = list(Division.objects.filter(code__in=[d.code for d in created]))
        existing.update({d.code: d for d in created})
        Division.objects.bulk_update(to_update, [*_FIELDS, "parent", "generated"], batch_size=BATCH)
        counts["created"] += len(created)
        counts["updated"] += len(to_update)

    if replace:
        counts["deleted"] = _delete_missing(existing.values(), {r["code"] for r in rows})

    for level in (Level.DISTRICT, Level.STREET, Level.COMMUNITY):
        counts[str(level)] = sum(1 for r in rows if r["level"] == level)
    counts["local_codes"] = sum(1 for r in rows if not r["official_code"])
    city = existing[rows[0]["code"]]
    audit_log(city, "territory.divisions.imported", actor=actor, data={**counts, "replace": replace})
    return counts


def _delete_missing(stored: Iterable[Division], keep: set[str]) -> int:
    doomed = [d for d in stored if d.code not in keep and not d.generated]
    # Deepest first, so no parent goes before its children.
    doomed.sort(key=lambda d: -len(d.code))
    try:
        for depth in sorted({len(d.code) for d in doomed}, reverse=True):
            Division.objects.filter(pk__in=[d.pk for d in doomed if len(d.code) == depth]).delete()
    except (ProtectedError, RestrictedError) as exc:
        blocking = getattr(exc, "protected_objects", None) or getattr(exc, "restricted_objects", None) or []
        raise DomainError("territory.divisions.in_use",
                          _("有区划仍被其他记录引用，无法删除：%(what)s")
                          % {"what": "、".join(sorted(str(o) for o in blocking)[:5])},
                          status=409) from exc
    return len(doomed)


@transaction.atomic
def boundaries_import(geojson: dict, *, actor=None) -> dict:
    """Set division boundaries from a GeoJSON FeatureCollection (WGS-84), matched by `properties.code`.

    Imported boundaries are official: the generator keeps them and partitions only the rest.
    """
    features = geojson.get("features") if isinstance(geojson, dict) else None
    if not isinstance(features, list) or not features:
        raise DomainError("territory.boundaries.invalid", _("GeoJSON 中没有要素（features）"), field="features")
    features = [f if isinstance(f, dict) else {} for f in features]
    codes = [str((f.get("properties") or {}).get("code", "")).strip() for f in features]
    known = {d.code: d for d in Division.objects.filter(code__in=[c for c in codes if c])}
    updates = []
    seen: dict[str, int] = {}
    for i, (feature, code) in enumerate(zip(features, codes, strict=True)):
        path = f"features[{i}]"
        if code not in known:
            raise DomainError("territory.boundaries.unknown_code",
                              _("%(path)s: 未知的区划代码 %(code)s") % {"path": path, "code": code or "（空）"},
                              field=path)
        if code in seen:
            raise DomainError("territory.boundaries.invalid",
                              _("%(path)s: 区划代码 %(code)s 与 features[%(other)d] 重复")
                              % {"path": path, "code": code, "other": seen[code]}, field=path)
        seen[code] = i
        geom = _parse_polygonal(feature.get("geometry"), path)
        division = known[code]
        point = geom.representative_point()
        division.geometry = shapely.to_geojson(geom)
        division.geometry_generated = False
        division.lng, division.lat = round(point.x, 7), round(point.y, 7)
        updates.append(division)
    Division.objects.bulk_update(updates, ["geometry", "geometry_generated", "lng", "lat"], batch_size=BATCH)
    counts = {"boundaries": len(updates)}
    for d in updates:
        counts[str(d.level)] = counts.get(str(d.level), 0) + 1
    target = Division.objects.filter(level=Level.CITY, code__startswith=updates[0].code[:4]).first() or updates[0]
    audit_log(target, "territory.boundaries.imported", actor=actor, data={**counts, "codes": sorted(seen)[:50]})
    return counts


def _parse_polygonal(geometry, path: str):
    def bad(why: str) -> DomainError:
        return DomainError("territory.boundaries.invalid_geometry",
                           _("%(path)s: 边界无效：%(why)s") % {"path": path, "why": why}, field=path)

    if not isinstance(geometry, dict) or geometry.get("type") not in ("Polygon", "MultiPolygon"):
        raise bad(_("应为 Polygon 或 MultiPolygon"))
    try:
        geom = shapely.from_geojson(json.dumps(geometry))
    except Exception as exc:  # GEOS reports malformed coordinates with several exception types
        raise bad(str(exc)[:200]) from exc
    if geom.is_empty or geom.area <= 0:
        raise bad(_("面积为零"))
    if not geom.is_valid:
        raise bad(shapely.is_valid_reason(geom))
    minx, miny, maxx, maxy = geom.bounds
    if minx < -180 or maxx > 180 or miny < -90 or maxy > 90:
        raise bad(_("坐标超出经纬度范围（应为 WGS-84 经度、纬度）"))
    return geom


# -- one division, as the administrator edits it ----------------------------------------------------
CODE_DIGITS = {Level.CITY: 6, Level.DISTRICT: 6, Level.STREET: 9, Level.COMMUNITY: 12}
PARENT_LEVEL = {Level.DISTRICT: Level.CITY, Level.STREET: Level.DISTRICT, Level.COMMUNITY: Level.STREET}
LEVEL_KINDS = {Level.CITY: ("市",), Level.DISTRICT: ("区", "县", "市"), Level.STREET: STREET_KINDS,
               Level.COMMUNITY: COMMUNITY_KINDS}
_EDITABLE = ("code", "name", "short_name", "level", "kind", "parent", "official_code", "generated", "geometry",
             "geometry_generated", "lng", "lat")


def _division_values(d: Division, names) -> dict:
    out = {}
    for name in names:
        value = getattr(d, Division._meta.get_field(name).attname)
        out[name] = value[:60] + "…" if name == "geometry" and value and len(value) > 60 else value
    return out


def _division_refuse(code: str, message: str, field: str) -> DomainError:
    return DomainError(f"territory.division.{code}", message, field=field)


def _division_check(values: dict, current: Division | None) -> dict:
    """Check the fields being set against the rest of the row; returns them cleaned."""
    values = {k: v for k, v in values.items() if k in _EDITABLE}

    def now(name):
        return values[name] if name in values else getattr(current, name, None)

    for name, limit in (("name", 100), ("short_name", 60), ("kind", 8)):
        if name in values:
            values[name] = (values[name] or "").strip()
            if len(values[name]) > limit:
                raise _division_refuse("too_long", _("不能超过 %(n)d 个字符。") % {"n": limit}, name)
    if current is None or "name" in values:
        if not (now("name") or "").strip():
            raise _division_refuse("name_required", _("请填写名称。"), "name")
    level = now("level")
    if level not in Level.values:
        raise _division_refuse("bad_level", _("层级无效。"), "level")
    parent = now("parent")
    code = (now("code") or "").strip()
    values["code"] = code
    placed = current is None or any(getattr(current, k) != values[k] for k in ("code", "level", "parent")
                                    if k in values)
    if placed:
        # digits, the level's length, under the parent's code, unique
        want_parent = PARENT_LEVEL.get(level)
        if want_parent is None and parent is not None:
            raise _division_refuse("bad_parent", _("市级区划没有上级。"), "parent")
        if want_parent is not None and (parent is None or parent.level != want_parent):
            raise _division_refuse("bad_parent", _("上级应为%(level)s级区划。")
                                   % {"level": Level(want_parent).label}, "parent")
        if current is not None and parent is not None and parent.pk == current.pk:
            raise _division_refuse("bad_parent", _("上级不能是本区划。"), "parent")
        digits = CODE_DIGITS[level]
        if len(code) != digits or not _DIGITS.match(code):
            raise _division_refuse("bad_code", _("%(level)s级区划代码应为 %(n)d 位数字。")
                                   % {"level": Level(level).label, "n": digits}, "code")
        if parent is not None:
            prefix = parent.code[:4] if level == Level.DISTRICT else parent.code
            if not code.startswith(prefix):
                raise _division_refuse("code_not_under_parent", _("区划代码应以上级代码 %(prefix)s 开头。")
                                       % {"prefix": prefix}, "code")
        if Division.objects.filter(code=code).exclude(pk=getattr(current, "pk", None)).exists():
            raise DomainError("territory.division.code_taken", _("区划代码 %(code)s 已被使用。") % {"code": code},
                              field="code", status=409)
        if current is not None and (code != current.code or level != current.level):
            # Children's and grids' codes begin with this one, and orders keep the codes as text.
            if current.children.exists() or current.grids.exists():
                raise DomainError("territory.division.has_children",
                                  _("该区划下还有下级区划或网格，其代码以本代码开头，不能修改代码或层级。"),
                                  field="code", status=409)
    if current is None or "kind" in values or "level" in values:
        kind = now("kind") or ""
        if kind not in LEVEL_KINDS[level]:
            raise _division_refuse("bad_kind", _("类别应为 %(kinds)s 之一。") % {"kinds": "、".join(LEVEL_KINDS[level])},
                                   "kind")
    for name, low, high in (("lng", -180, 180), ("lat", -90, 90)):
        value = values.get(name)
        if value is not None and not (low <= value <= high):
            raise _division_refuse("bad_point", _("应在 %(low)d 到 %(high)d 之间。") % {"low": low, "high": high}, name)
    if values.get("geometry") and (current is None or values["geometry"] != current.geometry):
        try:
            _parse_polygonal(json.loads(values["geometry"]), "geometry")
        except ValueError:
            raise _division_refuse("bad_geometry", _("边界应为 GeoJSON 格式。"), "geometry") from None
    return values


@transaction.atomic
def division_save(division: Division | None, *, values: dict, actor, reason: str = "") -> Division:
    """Create (None) or change one division (行政区划); a code must fit its level and sit under its parent's."""
    current = Division.objects.select_for_update().get(pk=division.pk) if division is not None else None
    values = _division_check(dict(values), current)
    obj = current or Division()
    names = list(values)
    old = _division_values(obj, names) if current is not None else None
    for name, value in values.items():
        setattr(obj, name, value)
    new = _division_values(obj, names)
    if current is not None:
        changed = [n for n in names if old[n] != new[n]]
        if not changed:
            return obj
        old, new = {n: old[n] for n in changed}, {n: new[n] for n in changed}
    obj.save()
    audit_log(obj, "territory.division.created" if current is None else "territory.division.changed", actor=actor,
              old=old, new=new, reason=(reason or "").strip())
    return obj


@transaction.atomic
def division_delete(division: Division, *, actor, reason: str = "") -> None:
    """Delete a division nothing refers to (children, grids and records protect it)."""
    division = Division.objects.select_for_update().get(pk=division.pk)
    audit_log(division, "territory.division.deleted", actor=actor,
              old=_division_values(division, ("code", "name", "level", "kind", "parent")), reason=(reason or "").strip())
    try:
        division.delete()
    except (ProtectedError, RestrictedError) as exc:
        raise DomainError("territory.divisions.in_use", _("该区划仍被其他记录引用，无法删除。"), status=409) from exc
