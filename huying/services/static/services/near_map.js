/* 附近的服务阵地: a phone-width map drawn from our own division outlines (no tile server). A tap sets
 * the point: it fills the location form's lat/lng and reloads the list for that point (the address
 * and 用我的位置 paths stay as they are). The listed positions are drawn with their list numbers.
 * Before a search the map shows the city's districts; after one, the streets of the district around
 * the point, zoomed in. window.huyingNearMap exposes {chart, pixelOf, state} for browser tests. */
(function () {
  "use strict";
  const box = document.getElementById("near-map-box");
  const el = document.getElementById("near-map");
  const form = document.getElementById("sv-point");
  if (!box || !el || !form || typeof echarts === "undefined") return;
  const T = box.dataset;
  const status = document.getElementById("near-map-status");
  let chart = null;
  let features = [];
  let busy = false;

  const say = (text) => { status.textContent = text; };
  const num = (text) => (text === "" || text === undefined || !isFinite(Number(text)) ? null : Number(text));

  async function shapes(code) {
    const r = await fetch(T.shapes.replace("CODE", encodeURIComponent(code)),
                          {credentials: "same-origin", headers: {Accept: "application/geo+json"}});
    if (!r.ok) throw new Error(r.statusText);
    return (await r.json()).features;
  }

  // Point in a GeoJSON Polygon / MultiPolygon (even-odd rule over every ring, holes included).
  function inRing(x, y, ring) {
    let inside = false;
    for (let i = 0, j = ring.length - 1; i < ring.length; j = i++) {
      const [xi, yi] = ring[i];
      const [xj, yj] = ring[j];
      if ((yi > y) !== (yj > y) && x < ((xj - xi) * (y - yi)) / (yj - yi) + xi) inside = !inside;
    }
    return inside;
  }
  function contains(geometry, x, y) {
    const polygons = geometry.type === "MultiPolygon" ? geometry.coordinates : [geometry.coordinates];
    return polygons.some((rings) => rings.reduce((acc, ring) => acc !== inRing(x, y, ring), false));
  }
  const regionAt = (list, lng, lat) => list.find((f) => f.geometry && contains(f.geometry, lng, lat)) || null;

  function bounds(list) {
    let x0 = Infinity, y0 = Infinity, x1 = -Infinity, y1 = -Infinity;
    const walk = (c) => {
      if (typeof c[0] === "number") {
        x0 = Math.min(x0, c[0]); x1 = Math.max(x1, c[0]); y0 = Math.min(y0, c[1]); y1 = Math.max(y1, c[1]);
      } else c.forEach(walk);
    };
    list.forEach((f) => walk(f.geometry.coordinates));
    return {x0, y0, x1, y1};
  }

  const listed = Array.from(document.querySelectorAll("#sv-results .sv-result[data-lng]")).map((li) => ({
    num: li.dataset.num, name: li.dataset.name, open: li.dataset.open === "1",
    value: [num(li.dataset.lng), num(li.dataset.lat)],
  })).filter((p) => p.value[0] !== null && p.value[1] !== null);
  const lat0 = num(form.elements.lat.value);
  const lng0 = num(form.elements.lng.value);
  const point = lat0 !== null && lng0 !== null ? [lng0, lat0] : null;

  function draw(code, list, focus) {
    const name = "huying-near-" + code;
    echarts.registerMap(name, {type: "FeatureCollection", features: list});
    const b = bounds(list);
    const geo = {
      map: name, nameProperty: "code", roam: true, selectedMode: false, silent: true,
      // layoutCenter/layoutSize keep true proportions; a degree of longitude is cos(latitude) of one of latitude.
      layoutCenter: ["50%", "50%"], layoutSize: "96%", scaleLimit: {min: 1, max: 200},
      aspectScale: Math.cos((((b.y0 + b.y1) / 2) * Math.PI) / 180),
      label: {show: false}, itemStyle: {areaColor: "#e6f0f7", borderColor: "#5b87ad", borderWidth: 1},
    };
    if (focus) {
      // Zoom so that about 6 km around the point fill the map (never out beyond the whole region).
      const spanKm = Math.max((b.x1 - b.x0) * 102, (b.y1 - b.y0) * 111);
      geo.center = focus;
      geo.zoom = Math.max(1, Math.min(40, spanKm / 6));
    }
    chart.setOption({
      animation: false,
      geo: geo,
      series: [
        {type: "scatter", coordinateSystem: "geo", geoIndex: 0, z: 5, symbol: "pin", symbolSize: 30, silent: true,
         label: {show: true, formatter: (p) => p.data.num, color: "#fff", fontSize: 12, fontWeight: "bold", offset: [0, -3]},
         data: listed.map((p) => ({value: p.value, num: p.num,
                                   itemStyle: {color: p.open ? "#1f5f8b" : "#8c969f"}}))},
        {type: "scatter", coordinateSystem: "geo", geoIndex: 0, z: 6, symbolSize: 14, silent: true,
         itemStyle: {color: "#c0392b", borderColor: "#fff", borderWidth: 2},
         data: point ? [{value: point, name: T.point}] : []},
      ],
    }, true);
  }

  async function start() {
    el.dataset.state = "loading";
    try {
      const city = await shapes(T.root);
      if (!city.length) {  // no outlines loaded: the address and location paths remain
        el.dataset.state = "empty";
        return;
      }
      box.hidden = false;
      chart = echarts.init(el, null, {renderer: "canvas"});
      if (window.ResizeObserver) new ResizeObserver(() => window.requestAnimationFrame(() => chart.resize())).observe(el);
      const focus = point || (listed.length ? listed[0].value : null);
      const district = focus ? regionAt(city, focus[0], focus[1]) : null;
      let code = "city";
      features = city;
      if (district) {
        const streets = await shapes(district.properties.code).catch(() => []);
        features = streets.length ? streets : [district];
        code = district.properties.code;
      }
      draw(code, features, district ? focus : null);
      chart.getZr().on("click", tapped);
      el.dataset.code = code;
      el.dataset.state = "ready";
      say(T.hint);
    } catch (err) {
      el.dataset.state = "error";
      box.hidden = true;
    }
  }

  function tapped(e) {
    if (busy || el.dataset.state !== "ready") return;
    const [lng, lat] = chart.convertFromPixel({geoIndex: 0}, [e.offsetX, e.offsetY]);
    if (!regionAt(features, lng, lat)) {
      say(T.outside);
      return;
    }
    busy = true;
    form.elements.lat.value = lat.toFixed(6);
    form.elements.lng.value = lng.toFixed(6);
    chart.setOption({series: [{}, {data: [{value: [lng, lat], name: T.point}]}]});
    el.dataset.state = "submitting";
    say(T.loading);
    form.submit();
  }

  window.huyingNearMap = {
    get chart() { return chart; },
    state: () => ({...el.dataset}),
    /* Page pixel of a point, for tapping it like a person would. */
    pixelOf: (lng, lat) => {
      const [x, y] = chart.convertToPixel({geoIndex: 0}, [lng, lat]);
      const rect = el.getBoundingClientRect();
      return {x: rect.left + x, y: rect.top + y};
    },
  };
  start();
})();
