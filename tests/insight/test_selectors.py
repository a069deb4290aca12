"""`selectors.below`: a code prefix as LIKE and, for digit codes, as an index range — the two must agree."""

from datetime import date

import pytest

from huying.insight import selectors
from huying.insight.models import AreaDay, Level

CODES = ["440110999999999", "440111", "440111000000001", "440111999999999", "4401119", "440112000000000",
         "440119", "440119000000000", "440119999999999", "4401199", "440120000000000", "44012", "999", "9990",
         "99999", "440111113007002", "440111113007003", "44011111300700"]


@pytest.mark.django_db
@pytest.mark.parametrize("prefix", ["440111", "440119", "4401", "44011", "999", "99", "9", "440111113007002",
                                    "44011111300700", "440111113007", "1"])
def test_below_finds_exactly_the_codes_that_start_with_the_prefix(prefix):
    AreaDay.objects.bulk_create([AreaDay(day=date(2026, 3, 2), code=c, subject="Q01", level=Level.GRID, parent="")
                                 for c in CODES])
    found = set(selectors.below(AreaDay.objects.all(), prefix).values_list("code", flat=True))
    assert found == {c for c in CODES if c.startswith(prefix)}


def test_the_range_is_added_only_where_it_is_safe():
    sql = str(selectors.below(AreaDay.objects.all(), "440119").query)
    assert "440120" in sql  # the next code, carried over the 9
    for code in ("999", "44A1"):  # all nines has no next code of its length; letters are left to LIKE
        sql = str(selectors.below(AreaDay.objects.all(), code).query)
        assert ">=" not in sql and "<" not in sql.replace("<>", "")
