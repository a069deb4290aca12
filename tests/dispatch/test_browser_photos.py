"""Order photos in a real browser: the handler sees the image load on the order page; an anonymous
visitor and another territory's staff get a 404 on the same URL."""

import pytest
from playwright.sync_api import expect

from huying.dispatch.models import Attachment
from huying.dispatch.services import work_order_dispatch

from .conftest import PASSWORD
from .test_photos import jpeg_with_gps

pytestmark = pytest.mark.browser


def test_the_handler_sees_the_photo_and_others_get_404(browser, live_server, page, login, world, report):
    order = report(photos=[("scene.jpg", jpeg_with_gps((120, 80)))])
    order = work_order_dispatch(order, actor=world.users["dispatcher"], unit=world.units["community_a"].pk,
                                reason="属地社区办理", version=order.version)
    att = Attachment.objects.get(order=order)
    url = f"{live_server.url}/orders/photos/{att.pk}/"

    login(world.users["comm_a"].username, PASSWORD)
    page.goto(f"/orders/{order.pk}/")
    img = page.locator("ul.photos img").first
    expect(img).to_have_attribute("src", f"/orders/photos/{att.pk}/")
    img.scroll_into_view_if_needed()
    page.wait_for_function("img => img.complete && img.naturalWidth > 0", arg=img.element_handle())
    # Upright (EXIF orientation 6 applied at intake): the 120x80 sensor image is 80 wide.
    assert img.evaluate("img => [img.naturalWidth, img.naturalHeight]") == [80, 120]
    answer = page.request.get(url)
    assert answer.status == 200 and answer.headers["content-type"] == "image/jpeg"
    assert "private" in answer.headers["cache-control"] and answer.headers["x-content-type-options"] == "nosniff"

    for who in (None, "comm_b"):
        context = browser.new_context(base_url=live_server.url)
        other = context.new_page()
        if who:
            other.goto("/login/")
            other.fill("input[name=username]", world.users[who].username)
            other.fill("input[name=password]", PASSWORD)
            other.click("button[type=submit]")
            other.wait_for_load_state("networkidle")
        assert other.request.get(url).status == 404, who
        assert other.goto(url).status == 404, who
        context.close()
