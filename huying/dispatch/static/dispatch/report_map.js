/* The resident report page's map picker, drawn from our own division outlines (no tile server):
 * the city's districts first; a tap on a district opens its streets; a tap inside the district then
 * fills in the longitude and latitude fields. A resident may instead type only an address. The order
 * page's 定位核实 form uses the same picker, opened at the order's district.
 * window.huyingReportMap exposes {chart, pixelOf, state} so browser tests can tap a point. */
(function () {
  "use strict";
  const box = document.getElementById("map-picker");
  const el = document.getElementById("report-map");
  if (!box || !el || typeof echarts === "undefined") return;
  const form = el.closest("form");
  const lngInput = form.querySelector("[name=lng]");
  const latInput = form.querySelector("[name=lat]");
  const status = document.getElementById("map-status");
  const back = document.getElementById("map-back");
  const T = box.dataset;
  const chart = echarts.init(el, null, {renderer: "canvas"});
  const cityFeatures = [];
  let view = {level: "", code: "", features: []};
  let picked = null;
  let seq = 0;

  window.addEventListener("resize", () => chart.resize());

  function say(text) { status.textContent = text; }

  async function shapes(code) {
    const r = await fetch(T.shapes.replace("CODE", encodeURIComponent(code)),
                          {credentials: "same-origin", headers: {Accept: "application/geo+json"}});
    if (!r.ok) throw new Error(r.statusText);
    return r.json();
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
  function regionAt(lng, lat) {
    return view.features.find((f) => f.geometry && contains(f.geometry, lng, lat)) || null;
  }

  function draw() {
    const name = "huying-report-" + view.code;
    echarts.registerMap(name, {type: "FeatureCollection", features: view.features});
    const titles = {};
    for (const f of view.features) titles[f.properties.code] = f.properties.name;
    chart.setOption({
      geo: {
        map: name, nameProperty: "code", roam: true, selectedMode: false,
        label: {show: view.features.length <= 40, fontSize: 10, color: "#1d2a36",
                formatter: (p) => titles[p.name] || ""},
        itemStyle: {areaColor: "#e6f0f7", borderColor: "#5b87ad", borderWidth: 1},
        emphasis: {label: {show: true, formatter: (p) => titles[p.name] || ""}, itemStyle: {areaColor: "#f3c969"}},
      },
      series: [{type: "scatter", coordinateSystem: "geo", geoIndex: 0, symbolSize: 16, z: 10,
                itemStyle: {color: "#c0392b", borderColor: "#fff", borderWidth: 2},
                data: picked ? [[picked.lng, picked.lat]] : []}],
    }, true);
  }

  async function showLevel(code, level, fallback) {
    const mine = ++seq;
    el.dataset.state = "loading";
    try {
      const fc = await shapes(code);
      if (mine !== seq) return;
      // A district whose streets have no outlines yet is picked on its own outline.
      const features = fc.features.length ? fc.features : (fallback ? [fallback] : []);
      if (!features.length && level !== "city" && !fallback) {
        showLevel(box.dataset.root, "city", null);  // a start district without outlines: from the city
        return;
      }
      if (!features.length) {
        el.dataset.state = "empty";
        box.hidden = true;
        return;
      }
      if (level === "city") cityFeatures.splice(0, cityFeatures.length, ...features);
      view = {level: level, code: code, features: features};
      draw();
      back.hidden = level === "city";
      el.dataset.level = level;
      el.dataset.code = code;
      el.dataset.state = "ready";
      if (!picked) say(level === "city" ? T.pickDistrict : T.pickPoint);
    } catch (err) {
      if (mine !== seq) return;
      el.dataset.state = "error";
      say(T.failed);
    }
  }

  function setPoint(lng, lat, region) {
    picked = {lng: Math.round(lng * 1e6) / 1e6, lat: Math.round(lat * 1e6) / 1e6};
    lngInput.value = picked.lng.toFixed(6);
    latInput.value = picked.lat.toFixed(6);
    chart.setOption({series: [{data: [[picked.lng, picked.lat]]}]});
    el.dataset.picked = region.properties.code;
    say(T.picked.replace("%(place)s", region.properties.name));
  }

  chart.getZr().on("click", (e) => {
    if (el.dataset.state !== "ready") return;
    const [lng, lat] = chart.convertFromPixel({geoIndex: 0}, [e.offsetX, e.offsetY]);
    const region = regionAt(lng, lat);
    if (!region) {
      say(T.outside);
      return;
    }
    if (view.level === "city") {
      showLevel(region.properties.code, "district", region);
    } else {
      setPoint(lng, lat, region);
    }
  });

  back.addEventListener("click", () => {
    const root = {code: box.dataset.root, level: "city"};
    showLevel(root.code, root.level, null);
  });

  window.huyingReportMap = {
    chart: chart,
    state: () => ({...el.dataset}),
    /* Page pixel of a point, for tapping it like a person would. */
    pixelOf: (lng, lat) => {
      const [x, y] = chart.convertToPixel({geoIndex: 0}, [lng, lat]);
      const rect = el.getBoundingClientRect();
      return {x: rect.left + x, y: rect.top + y};
    },
  };

  // data-start (a district's code) opens the picker at that district's streets (the order page).
  if (box.dataset.start) showLevel(box.dataset.start, "district", null);
  else showLevel(box.dataset.root, "city", null);
})();
