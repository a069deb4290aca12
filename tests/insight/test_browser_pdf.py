"""The monthly report page in a real browser: 下载 PDF downloads the server-made PDF of the same month."""

import io
from pathlib import Path

import pytest
from pypdf import PdfReader

pytestmark = pytest.mark.browser

SHOTS = Path(__file__).resolve().parents[2] / "var" / "screenshots"


@pytest.fixture
def live_district(transactional_db, live_server, django_user_model):
    """越秀区 with two weeks of simulated calls up to now, and a city leader."""
    from huying.insight.simulate import Options, simulate_year
    from huying.territory.testing import load_territory

    load_territory(districts=("440104",))
    simulate_year(Options(orders=200, days=14, seed=11, batch=200))
    django_user_model.objects.create_superuser("leader", password="leader-pass-2026")
    return "440104"


def test_download_the_monthly_report_pdf(page, login, live_district):
    from huying.insight import selectors

    today = selectors.today_local()
    month = f"{today.year:04d}-{today.month:02d}"
    login("leader", "leader-pass-2026")
    page.goto(f"/insight/report/?code={live_district}&month={month}")
    created = page.locator("[data-tile=created]").inner_text()
    page.select_option("select[name=figure]", "on_time")
    page.click("button:has-text('查看')")
    page.wait_for_load_state("networkidle")
    link = page.locator("#report-pdf")
    assert "figure=on_time" in link.get_attribute("href")
    with page.expect_download() as info:
        link.click()
    download = info.value
    assert download.suggested_filename == f"越秀区-{month}-月报.pdf"
    body = open(download.path(), "rb").read()
    SHOTS.mkdir(parents=True, exist_ok=True)
    (SHOTS / "insight-report.pdf").write_bytes(body)
    assert body.startswith(b"%PDF-")
    reader = PdfReader(io.BytesIO(body))
    assert reader.metadata.title == f"越秀区 {month} 月报"
    first = [" ".join(line.split()) for line in reader.pages[0].extract_text().splitlines() if line.strip()]
    # The first tile row, one line per cell: five labels, then their values, 受理量 first.
    at = first.index("受理量")
    assert first[at:at + 3] == ["受理量", "已结案", "未结"]
    assert first[at + 5] == created and int(created) > 0
    assert "地图：按期办结率（按下级区域）" in first
