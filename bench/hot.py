"""Benchmark: hot-issue grouping — quality on a hand-labelled part of hot.csv, and speed at scale.

    .venv/bin/python bench/hot.py [--csv …/citizen-messages/hot.csv] [--sizes 3000,30000] [--quality-only]
                                  [--grouping PATH]   # another grouping.py to compare (e.g. the old one)

Quality. hot.csv has no labels, so ISSUES below labels it by hand: about 40 issues found by reading
the top groups of the old and the new grouping, each a rule over the title and the opening of the
body (the same problem at the same place: 丽发新城 + 搅拌站; 凯乐国际城 street lights and its parking are
two issues). Messages no rule matches are "other", each its own issue. Printed (B-cubed, over the
labelled messages): precision — of the calls grouped with a labelled call, the share with its
label (an unlabelled call in its group counts against it); recall — of a labelled call's issue,
the share in its group (a stock-phrase title, STOCK, is an issue of its own);
the share in its group; and how many groups mix two labelled issues or a labelled issue with
unlabelled calls (loose groups).

Speed. The calls are hot.csv's rows repeated over `--places` streets (15-digit area codes under
440100: 11 districts × streets) and spread over 14 days, like the orders of a 14-day window at
full scale; also timed: the same rows without area codes (CSV mode: one block). One core.
"""

import argparse
import importlib.util
import os
import random
import re
import sys
import time
import zlib
from collections import Counter
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(var, "1")  # one core

from huying.dispatch.hot.csvio import read_calls  # noqa: E402
from huying.dispatch.hot.heat import rank  # noqa: E402

# The data folder beside the checkout (../shared/data/citizen-messages), as the issue names it.
DEFAULT_CSV = Path(__file__).resolve().parents[2] / "shared" / "data" / "citizen-messages" / "hot.csv"

# (label, pattern that must match, pattern that must not) over the title + the body's first 120 chars.
ISSUES = [
    ("伊景园滨河苑捆绑车位", r"伊景园|滨河[苑院]|广铁集团.{0,20}(车位|购房|商品房)|[广铁]{2}职工(住宅|定向|商品房)|武广新城.{0,10}车位|不想白扔12万", ""),
    ("丽发新城搅拌站", r"(丽发.{0,40}搅拌|搅拌.{0,40}丽发)", ""),
    ("58车贷", r"58车[贷货]", ""),
    ("月亮岛路高压线", r"月亮岛路.{0,10}(高压|电线)", ""),
    ("青青家园违规餐饮底商", r"(青青家园|青山新村|叫了只鸡|三妹早餐).{0,200}(烟道|油烟|住改商|底商|假证)", r"空调|水压|白色垃圾"),
    ("绿地海外滩高铁", r"绿地海外滩", ""),
    ("泉星公园", r"泉星公园", ""),
    ("辉煌国际城底商", r"辉煌国际城", ""),
    ("国家中心城市", r"国家中心城市", ""),
    ("四医院滨水院区", r"四医院滨水", ""),
    ("一圈二场三道", r"一圈二场三道", ""),
    ("体育强省", r"体育强省", ""),
    ("荣盛花语城噪音", r"荣盛花语城", ""),
    ("东六线以西规划", r"东六线以西", ""),
    ("东四线以西规划", r"东四线以西", ""),
    ("凯乐国际城路灯", r"(凯乐国际城|庆和里路|太平路).{0,30}路灯", ""),
    ("凯乐国际城停车", r"凯乐国际城.{0,20}(停|交通)", r"路灯"),
    ("凉塘路旧城改造", r"凉塘路.{0,10}旧城改造", ""),
    ("诺亚山林医院", r"诺亚山林", ""),
    ("松雅湖地铁站出入口", r"松雅.{0,12}(地铁|站|出入口|地下通道)", r"传销|公交"),
    ("润芳园油烟", r"润芳园", ""),
    ("魅力之城油烟夜宵", r"魅力之城", ""),
    ("国道107拆迁", r"国道107", ""),
    ("星沙中茂城退款", r"中[贸茂]城", ""),
    ("聚利人诈骗", r"聚利人|利聚人", ""),
    ("禧和路垃圾分拣中心", r"禧和路|垃圾分拣中心", ""),
    ("郝家坪小学扩建", r"郝家坪小学", ""),
    ("国王陵遗址公园周边", r"(国王陵|陵王公园).{0,20}(周边|整治|管理|环境)", ""),
    ("提升规划建设水平", r"提升.{0,6}规划建设水平", ""),
    ("汝金城虚假宣传", r"汝金城", ""),
    ("茶场村拆迁", r"茶场村", ""),
    ("山千制药欠薪", r"山千制药", ""),
    ("凯旋门幼儿园普惠", r"凯旋门.{0,30}幼儿园", ""),
    ("泱玺学区", r"泱玺", ""),
    ("新芙之都违建", r"(新A1区|新芙)之都", ""),
    ("柏家塘KTV", r"柏家塘", ""),
    ("人才购房补贴", r"购房补贴", ""),
    ("华广大厦购房合同", r"[华广][广花]大厦|华广实业", ""),
    ("泉塘地铁", r"泉塘.{0,20}地铁|地铁.{0,20}泉塘", ""),
    ("洪山公园", r"洪山公园", ""),
    ("绿地城际空间站质量", r"城际空间站", ""),
    ("梅溪湖中心车库", r"梅溪湖中心", ""),
    ("星城实验学校周边交通", r"星城实验学校", ""),
]
# Stock phrases: titles written on one pattern about unrelated things, each its own issue unless a rule
# above names it (请加快A市园博园建设力度 and 请A市加快轨道交通建设力度 are two issues).
STOCK = [r"加快.{0,24}(建设|力度|步伐|刻不容缓)", r"有何具体行动", r"刻不容缓"]
_RULES = [(label, re.compile(yes), re.compile(no) if no else None) for label, yes, no in ISSUES]
_STOCK = re.compile("|".join(STOCK))


def label_of(call) -> str | None:
    hits = []
    for text in (call.title, f"{call.title} {call.body[:120]}"):  # the title decides first
        hits = hits or [label for label, yes, no in _RULES if yes.search(text) and not (no and no.search(call.title))]
    if not hits and _STOCK.search(call.title):
        return f"stock:{call.id}"
    return hits[0] if len(hits) == 1 else None


def load_grouping(path: str | None):
    if not path:
        from huying.dispatch.hot import grouping
        return grouping
    spec = importlib.util.spec_from_file_location("grouping_alt", path)
    mod = importlib.util.module_from_spec(spec)
    sys.modules["grouping_alt"] = mod
    spec.loader.exec_module(mod)
    return mod


def quality(calls, groups) -> dict:
    labels = {c.id: label_of(c) for c in calls}
    size = Counter(v for v in labels.values() if v)
    stock = sum(1 for v in size if v.startswith("stock:"))
    group_of = {c.id: g for g in groups for c in g.calls}
    prec, rec = [], []
    for c in calls:
        lab = labels[c.id]
        if not lab:
            continue
        g = group_of.get(c.id)
        same = sum(labels[x.id] == lab for x in g.calls) if g else 1
        if g:
            prec.append(same / g.size)
        rec.append(same / size[lab])
    loose = mixed = 0
    touched = 0
    for g in groups:
        labs = [labels[c.id] for c in g.calls]
        named = {x for x in labs if x}
        if not named:
            continue
        touched += 1
        mixed += len(named) > 1
        loose += len(named) > 1 or None in labs
    return {"labelled": sum(size.values()), "issues": len(size), "stock": stock, "precision": sum(prec) / max(1, len(prec)),
            "recall": sum(rec) / max(1, len(rec)), "groups_with_labels": touched, "mixed": mixed, "loose": loose}


def synthesise(calls, n: int, *, places: int, seed: int = 1):
    """n calls: hot.csv's rows repeated, spread over 14 days and over `places` streets: rows naming the same
    place (their first place name, else the row alone) share a street, and each repetition of the
    file moves them all to other streets (another part of the city with the same troubles)."""
    from huying.dispatch.hot.grouping import place_names

    rng = random.Random(seed)
    key = {c.id: zlib.crc32(min(place_names(f"{c.title} {c.body[:120]}"), default=c.id).encode()) for c in calls}
    districts = [f"4401{d:02d}" for d in (3, 4, 5, 6, 11, 12, 13, 14, 15, 17, 18)]
    streets = [f"{rng.choice(districts)}{s:03d}" for s in range(1, places + 1)]
    start = min(c.at for c in calls)
    out = []
    for k in range(n):
        c = calls[k % len(calls)]
        street = streets[(k // len(calls) * 7919 + key[c.id]) % places]
        grid = key[c.id] % 30 + 1, key[c.id] // 30 % 40 + 1  # one place: one community and grid
        out.append(replace(c, id=f"{c.id}-{k}", area_code=f"{street}{grid[0]:03d}{grid[1]:03d}",
                           at=start + timedelta(seconds=rng.randint(0, 14 * 86400))))
    return out


def timed(fn):
    t = time.perf_counter()
    out = fn()
    return time.perf_counter() - t, out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--csv", default=str(DEFAULT_CSV))
    ap.add_argument("--sizes", default="3000,30000")
    ap.add_argument("--places", type=int, default=178, help="streets the synthetic calls spread over")
    ap.add_argument("--grouping", help="path of another grouping.py to measure instead")
    ap.add_argument("--quality-only", action="store_true")
    ap.add_argument("--no-csv-mode", action="store_true", help="skip the timings without area codes")
    args = ap.parse_args()
    G = load_grouping(args.grouping)
    calls = read_calls(args.csv)

    t, groups = timed(lambda: rank(G.group_calls(calls, window=timedelta(days=60))))
    q = quality(calls, groups)
    print(f"quality on {Path(args.csv).name} ({len(calls)} calls, {len(groups)} groups, {t:.1f} s): "
          f"{q['labelled']} labelled calls in {q['issues']} issues ({q['stock']} of them a stock-phrase title)")
    print(f"  B-cubed precision {q['precision']:.3f}  recall {q['recall']:.3f}  "
          f"groups holding labelled calls {q['groups_with_labels']}: mixing two issues {q['mixed']}, "
          f"with strays {q['loose']}")
    top = [g for g in groups[:30]]
    labels = {c.id: label_of(c) for c in calls}
    clean = sum(1 for g in top if len({labels[c.id] for c in g.calls}) == 1 and labels[g.calls[0].id])
    print(f"  top 30 groups: {clean} hold one labelled issue and nothing else")
    if args.quality_only:
        return
    for n in [int(x) for x in args.sizes.split(",") if x]:
        located = synthesise(calls, n, places=args.places)
        t, gs = timed(lambda located=located: G.group_calls(located, window=timedelta(days=14)))
        print(f"n={n:>6}  located ({args.places} streets, 14 days): {t:6.2f} s  groups={len(gs)}")
        if not args.no_csv_mode:
            bare = [replace(c, area_code="") for c in located]
            t, gs = timed(lambda bare=bare: G.group_calls(bare, window=timedelta(days=14)))
            print(f"n={n:>6}  no area codes (one block):     {t:6.2f} s  groups={len(gs)}")


if __name__ == "__main__":
    main()
