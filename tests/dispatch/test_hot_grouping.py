"""Hot-issue grouping (pure): one problem in one place, not a stock phrase; candidate pairs by blocks."""

import csv
import random
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import numpy as np
import pytest

from huying.dispatch.hot import grouping
from huying.dispatch.hot.csvio import read_calls
from huying.dispatch.hot.grouping import Call, group_calls, place_names, places_agree

from .conftest import at

FIXTURES = Path(__file__).parent / "fixtures"
T0 = at(2019, 3, 2, 10, 0)


def _calls(titles, *, hours=5, area=""):
    return [Call(id=str(i), title=t, body="", at=T0 + timedelta(hours=hours * i), area_code=area)
            for i, t in enumerate(titles)]


def test_stock_phrase_messages_from_different_places_are_not_grouped():
    # Written on one pattern, about unrelated things at unrelated places (as in hot.csv).
    titles = ["请加快A市四医院滨水星城院区建设力度", "请加快A市汉王陵考古遗址公园建设力度", "请加快A市园博园建设力度",
              "请加快A市师大附中星城实验学校周边交通安全设施建设力度", "请加快A6区桃花井社区配套功能建设力度",
              "A3区青青家园小区楼下烧烤店油烟扰民，请相关部门尽快处理", "A3区金茂小区楼下烧烤店油烟扰民，请相关部门尽快处理",
              "A3区枫林绿洲小区楼下烧烤店油烟扰民，请相关部门尽快处理", "A3区梅溪湖看云路楼下烧烤店油烟扰民，请相关部门尽快处理"]
    groups = group_calls(_calls(titles))
    assert groups == [], [[c.title for c in g.calls] for g in groups]
    # The same complaint about one of those places, twice, is a group.
    twice = group_calls(_calls(titles + ["A3区金茂小区楼下烧烤店油烟扰民到深夜"]))
    assert [sorted(c.title for c in g.calls) for g in twice] == [
        ["A3区金茂小区楼下烧烤店油烟扰民到深夜", "A3区金茂小区楼下烧烤店油烟扰民，请相关部门尽快处理"]]


def test_same_place_same_problem_in_other_words_is_one_group():
    calls = read_calls(FIXTURES / "hot_sample.csv")
    issue = {c.id for c in calls if "伊景园" in c.title and c.at < at(2019, 9, 1)}
    groups = group_calls(calls)
    best = max(groups, key=lambda g: len(issue & {c.id for c in g.calls}))
    ids = {c.id for c in best.calls}
    assert len(issue & ids) >= len(issue) - 1, sorted(c.title for c in best.calls)
    assert all("伊景园" in c.title + c.body for c in best.calls)


def test_a_place_names_inside_its_community_joins_it_and_a_different_estate_does_not():
    community = "西地省A市A3区天顶街道青山新村社区青青家园小区，"
    calls = _calls(["A3区青青家园小区公共通道破墙架设油烟管道", "A3区青山新村社区公共消防通道被人装了油烟管道",
                    "A3区青青园小区公共通道破墙架设油烟管道"])
    calls[0].body = community + "违规餐饮底商在公共通道里擅自破墙架设油烟管道"
    calls[1].body = "我是西地省A市A3区天顶街道青山新村社区居民，违规餐饮底商私自破坏墙体装油烟管道"
    calls[2].body = "A3区青青园小区，违规餐饮底商在公共通道里擅自破墙架设油烟管道"
    assert [sorted(c.id for c in g.calls) for g in group_calls(calls)] == [["0", "1"]]


def test_place_names():
    assert place_names("A市万家丽南路丽发新城居民区附近搅拌站扰民") >= {"万家丽南路", "丽发新城"}
    assert {"青山新村", "青青家园"} <= place_names("西地省A市A3区天顶街道青山新村社区青青家园小区，违规住改商")
    assert place_names("请还小区宁静，某小区严重影响小区居民") == frozenset()
    assert places_agree(frozenset({"伊景园滨河苑"}), frozenset({"滨河苑"}))
    assert places_agree(frozenset({"伊景园滨河苑"}), frozenset({"伊景园滨河院"}))  # a typo
    assert not places_agree(frozenset({"青青家园"}), frozenset({"青山新村"}))
    assert places_agree(frozenset(), frozenset({"青山新村"}))  # naming none contradicts none


def test_stock_discount_learns_phrases_spread_over_places():
    places = ["金茂小区", "青青家园", "丽发新城", "月亮岛路", "魅力之城", "枫林绿洲", "泉星公园", "凯乐国际城"]
    texts = [f"请加快A市{p}配套设施建设力度" for p in places] + ["伊景园滨河苑捆绑销售车位"] * 8
    names = [place_names(t) for t in texts]
    counts, vocab = grouping.char_ngram_counts(texts)
    factor = grouping.stock_discount(counts, names).ravel()

    def weight(gram):
        key = 0
        for ch in gram:
            key = (key << 21) | ord(ch)
        return factor[int(np.searchsorted(vocab, key))]

    assert weight("力度") <= 0.3 and weight("建设力") <= 0.3
    assert weight("伊景园") == 1.0 and weight("金茂") == 1.0


def test_char_ngram_counts():
    counts, vocab = grouping.char_ngram_counts(["仓边路井盖缺失", "", "井盖 缺失"])
    assert counts.shape == (3, len(vocab))
    assert counts[0].sum() == 6 + 5 and counts[1].sum() == 0 and counts[2].sum() == 2  # no n-gram over a space


@pytest.mark.parametrize("chunk", [3, 17, 1024])
def test_candidate_pairs_are_those_of_the_full_product(monkeypatch, chunk):
    """Blocks and time windows drop no pair the full n² product would keep."""
    monkeypatch.setattr(grouping, "CHUNK", chunk)
    rng = random.Random(5)
    calls = read_calls(FIXTURES / "hot_sample.csv")
    codes = ["440104001001001", "440104001002003", "440104002001001", "4401040", ""]
    calls = [replace(c, area_code=rng.choice(codes)) for c in calls] * 2
    calls = [replace(c, id=str(k)) for k, c in enumerate(calls)]
    X = grouping.vectorize([grouping._text(c) for c in calls])
    times = np.array([c.at.timestamp() for c in calls])
    districts = [grouping._districts(c) for c in calls]
    span = timedelta(days=30).total_seconds()
    pi, pj, ps = grouping.candidate_pairs(calls, X, times, threshold=0.22, span=span, place_prefix=9,
                                          districts=districts)
    got = {(min(i, j), max(i, j)) for i, j in zip(pi.tolist(), pj.tolist(), strict=True)}
    assert len(got) == len(pi)  # each pair once
    S = (X @ X.T).toarray()
    want = set()
    for i in range(len(calls)):
        for j in range(i + 1, len(calls)):
            a, b = calls[i], calls[j]
            if S[i, j] < 0.22 or abs(times[i] - times[j]) > span:
                continue
            if a.area_code and b.area_code and not grouping._places_agree(a.area_code, b.area_code, 9):
                continue
            if not (a.area_code and b.area_code) and districts[i] and districts[j] and districts[i] != districts[j]:
                continue
            want.add((i, j))
    assert want <= got
    assert want, "the sample has similar pairs"


def test_a_call_without_a_code_joins_located_calls():
    t = "仓边路井盖缺失，行人容易跌落"
    calls = _calls([t, t, t, t + "，已多次反映"], area="440104001001001")
    calls[2].area_code = ""
    calls[3].area_code = "440104002001001"
    assert [sorted(c.id for c in g.calls) for g in group_calls(calls)] == [["0", "1", "2"]]


def test_fixture_rows_about_neither_issue_stay_alone():
    with open(FIXTURES / "hot_sample.csv", encoding="utf-8") as fh:
        unrelated = {r["id"] for r in csv.DictReader(fh) if not any(w in r["title"] for w in ("伊景园", "丽发", "搅拌"))}
    grouped = [c for g in group_calls(read_calls(FIXTURES / "hot_sample.csv")) for c in g.calls if c.id in unrelated]
    assert len(grouped) <= 2


@pytest.mark.parametrize("odd", ["\x00", "\ud800", "\x00\x00\udfff"])
def test_any_text_groups_nul_and_lone_surrogates_included(odd):
    # NUL was the separator of the texts, so one inside a title shifted every later row out of the
    # matrix (IndexError: /hot/ answered 500); a lone surrogate could not be encoded at all.
    counts, _vocab = grouping.char_ngram_counts(["路灯" + odd + "不亮", "", odd, "井盖缺失"])
    assert counts.shape[0] == 4
    titles = ["仓边路井盖缺失" + odd, "仓边路井盖缺失，很危险", "仓边路口井盖" + odd + "缺失", "A3区金茂小区烧烤油烟扰民"]
    groups = group_calls(_calls(titles))
    assert len(groups) == 1 and "仓边路井盖缺失，很危险" in [c.title for c in groups[0].calls]
