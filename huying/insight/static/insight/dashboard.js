/* 驾驶舱: choropleth of the child areas (ECharts, shapes from the territory API, figures from the
 * insight rollup API), drill-down by click with a breadcrumb back up, and the side charts.
 * The tiles are an htmx partial polled every 30 s; after each swap the charts are fetched again,
 * so the whole screen stays current without a reload.
 * window.huyingDash exposes {chart, go, pixelOf, state} so browser tests can click like a person. */
(function () {
  "use strict";
  const cfg = JSON.parse(document.getElementById("dash-config").textContent);
  const L = cfg.labels;
  const el = document.getElementById("dash-map");
  const note = document.getElementById("dash-map-note");
  const crumbsEl = document.getElementById("dash-crumbs");
  const tilesEl = document.getElementById("tiles");
  const chart = echarts.init(el, null, {renderer: "canvas"});
  const trendChart = echarts.init(document.getElementById("dash-trend"));
  const mixChart = echarts.init(document.getElementById("dash-mix"));
  const geoCache = {};
  const state = {code: cfg.code, metric: "open", children: {}, cp: {}, mapCode: null};
  let crumbs = Array.from(crumbsEl.querySelectorAll("[data-code]")).map((n) => ({code: n.dataset.code, name: n.textContent}));
  let seq = 0;

  // Charts follow their boxes' width (a phone turned, the window resized, a scroll bar come or gone).
  const resize = () => { chart.resize(); trendChart.resize(); mixChart.resize(); };
  if (window.ResizeObserver) {
    const ro = new ResizeObserver(() => window.requestAnimationFrame(resize));
    for (const box of [el, trendChart.getDom(), mixChart.getDom()]) ro.observe(box);
  } else {
    window.addEventListener("resize", resize);
  }

  const {h, getJSON} = window.huyingDom;  // web/dom.js

  const api = (name, code, extra) => cfg.api[name] + "?code=" + encodeURIComponent(code) + (extra || "");
  const isGrid = (code) => code.length >= 15;
  const pct = (x) => (x === null || x === undefined ? "—" : (x * 100).toFixed(1) + "%");

  function renderCrumbs() {
    crumbsEl.replaceChildren();
    crumbs.forEach((c, i) => {
      if (i === crumbs.length - 1) {
        crumbsEl.append(h("strong", {"aria-current": "location", "data-code": c.code}, c.name));
        return;
      }
      const a = h("a", {href: "?code=" + c.code, "data-code": c.code}, c.name);
      a.addEventListener("click", (ev) => { ev.preventDefault(); go(c.code); });
      crumbsEl.append(a, h("span", {class: "sep"}, "›"));
    });
  }

  function metricValue(c) {
    if (!c) return null;
    if (state.metric === "satisfaction") return c.satisfaction === null ? null : Math.round(c.satisfaction * 1000) / 10;
    return c[state.metric];
  }

  function drawMap(fc) {
    if (!fc.features.length) {
      chart.clear();
      note.textContent = L.noData;
      note.hidden = false;
      return;
    }
    note.hidden = true;
    const mapName = "dash-" + state.mapCode;
    echarts.registerMap(mapName, fc);
    state.cp = {};
    for (const f of fc.features) state.cp[f.properties.code] = f.properties.cp;
    const data = fc.features.map((f) => {
      const c = state.children[f.properties.code];
      const v = metricValue(c);
      return {name: f.properties.code, value: v === null ? "-" : v, title: (c && c.name) || f.properties.name};
    });
    const values = data.map((d) => d.value).filter((v) => v !== "-");
    const sat = state.metric === "satisfaction";
    chart.setOption({
      tooltip: {
        trigger: "item",
        formatter: (p) => {
          const c = state.children[p.name] || {};
          const name = (p.data && p.data.title) || p.name;
          return "<b>" + echarts.format.encodeHTML(name) + "</b><br>" + L.metrics.open + " " + (c.open || 0) +
            " · " + L.metrics.overdue + " " + (c.overdue || 0) + " · " + L.metrics.satisfaction + " " + pct(c.satisfaction);
        },
      },
      visualMap: {
        type: "continuous", min: sat ? Math.min(80, ...values) : 0, max: sat ? 100 : Math.max(1, ...values),
        left: 8, bottom: 8, itemHeight: 90, calculable: false, text: [L.metrics[state.metric], ""],
        inRange: {color: sat ? ["#d9534f", "#f3c969", "#3c9a5f"] : ["#fdf1e4", "#f0a060", "#b8322a"]},
      },
      series: [{
        type: "map", map: mapName, nameProperty: "code", roam: true, selectedMode: "single", data: data,
        labelLayout: {hideOverlap: true},
        label: {show: data.length <= 40, fontSize: 11, color: "#1d2a36", formatter: (p) => (p.data && p.data.title) || ""},
        emphasis: {label: {show: true}, itemStyle: {areaColor: "#8fb8d8"}},
        select: {label: {show: true}, itemStyle: {areaColor: "#2c6aa0"}},
        itemStyle: {borderColor: "#ffffff", borderWidth: 1},
      }],
    }, true);
    if (isGrid(state.code)) chart.dispatchAction({type: "select", seriesIndex: 0, name: state.code});
  }

  async function loadMap(mine) {
    const mapCode = isGrid(state.code) ? state.code.slice(0, 12) : state.code;
    let fc = geoCache[mapCode];
    const [kids, geo] = await Promise.all([
      getJSON(api("children", mapCode)).catch(() => ({children: []})),
      fc ? Promise.resolve(fc) : getJSON(cfg.geo + encodeURIComponent(mapCode) + "/children.geojson"),
    ]);
    if (mine !== seq) return;
    geoCache[mapCode] = fc = geo;
    state.mapCode = mapCode;
    state.children = {};
    for (const c of kids.children) state.children[c.code] = c;
    for (const f of fc.features) {
      if (!state.children[f.properties.code]) state.children[f.properties.code] = {code: f.properties.code, name: f.properties.name, open: 0, overdue: 0, satisfaction: null};
    }
    drawMap(fc);
  }

  function drawTrend(t) {
    trendChart.setOption({
      tooltip: {trigger: "axis"}, legend: {data: [L.created, L.closes], top: 0},
      grid: {left: 40, right: 12, top: 30, bottom: 24},
      xAxis: {type: "category", data: t.days.map((d) => d.day.slice(5))},
      yAxis: {type: "value", minInterval: 1},
      series: [
        {name: L.created, type: "line", smooth: true, data: t.days.map((d) => d.created), areaStyle: {opacity: 0.15}},
        {name: L.closes, type: "line", smooth: true, data: t.days.map((d) => d.closes)},
      ],
    }, true);
  }

  function drawMix(m) {
    mixChart.setOption({
      tooltip: {trigger: "item", formatter: "{b}: {c} ({d}%)"},
      series: [{type: "pie", radius: ["35%", "65%"], avoidLabelOverlap: true,
        label: {formatter: "{b}", fontSize: 11},
        data: m.subjects.slice(0, 10).map((s) => ({name: s.name, value: s.created}))}],
    }, true);
  }

  function drawHotspots(hs) {
    const ol = document.getElementById("dash-hotspots");
    ol.replaceChildren();
    // The worker's list says when it was computed; a community's or grid's is counted now.
    const asOf = document.getElementById("dash-hotspots-asof");
    asOf.dataset.live = String(hs.live);
    asOf.textContent = hs.live ? L.hotspotsLive : L.hotspotsAsOf.replace("%(at)s", hs.as_of_time);
    if (!hs.spots.length) { ol.append(h("li", {class: "muted"}, L.noData)); return; }
    for (const s of hs.spots) {
      const li = h("li", {"data-code": s.code});
      const a = h("a", {href: "?code=" + s.code}, s.name);
      a.addEventListener("click", (ev) => { ev.preventDefault(); jump(s.code, s.name); });
      li.append(a, h("span", {class: "muted"}, " " + s.created + " " + L.orders + " · " + L.openNow + " " + s.open));
      ol.append(li);
    }
  }

  function drawUnits(u) {
    const tbody = document.querySelector("#dash-units tbody");
    tbody.replaceChildren();
    if (!u.units.length) {
      const tr = h("tr");
      tr.append(h("td", {colspan: "8", class: "muted"}, L.noData));
      tbody.append(tr);
      return;
    }
    // Each cell carries its column's name, shown beside the figure when a phone stacks the rows into cards.
    const heads = Array.from(document.querySelectorAll("#dash-units thead th")).map((th) => th.textContent.trim());
    const classes = ["rank", "name"];
    for (const r of u.units) {
      const tr = h("tr", {"data-unit": String(r.unit_id)});
      [r.rank, r.name, pct(r.score), pct(r.response), pct(r.resolution), pct(r.satisfaction), pct(r.on_time),
        r.dispatches].forEach((v, i) => tr.append(h("td", {"data-label": heads[i] || "", class: classes[i] || ""}, String(v))));
      tbody.append(tr);
    }
  }

  async function loadPanels(mine) {
    const code = state.code;
    const [t, m, hs, u] = await Promise.all([
      getJSON(api("trend", code)), getJSON(api("mix", code)), getJSON(api("hotspots", code, "&days=7")),
      getJSON(api("units", code)),
    ]);
    if (mine !== seq) return;
    drawTrend(t);
    drawMix(m);
    drawHotspots(hs);
    drawUnits(u);
  }

  async function refresh() {
    const mine = ++seq;
    el.dataset.state = "loading";
    try {
      await Promise.all([loadMap(mine), loadPanels(mine)]);
      if (mine !== seq) return;
      el.dataset.code = state.code;
      el.dataset.state = "ready";
    } catch (err) {
      if (mine !== seq) return;
      note.textContent = L.failed + err.message;
      note.hidden = false;
      el.dataset.state = "error";
    }
  }

  function refreshTiles() {
    const url = cfg.tiles + "?code=" + encodeURIComponent(state.code);
    tilesEl.setAttribute("hx-get", url);
    if (window.htmx) window.htmx.ajax("GET", url, {target: tilesEl, swap: "innerHTML"});
  }

  /* Move to `code`, which is in the breadcrumb (up) or a child of the current map (down). */
  function go(code) {
    const i = crumbs.findIndex((c) => c.code === code);
    if (i >= 0) {
      crumbs = crumbs.slice(0, i + 1);
    } else {
      const c = state.children[code];
      if (!c) return;
      if (isGrid(state.code)) crumbs.pop();  // from one grid to its sibling
      crumbs.push({code: code, name: c.name});
    }
    state.code = code;
    renderCrumbs();
    history.replaceState(null, "", cfg.base + "?code=" + encodeURIComponent(code));
    // The tiles' swap (htmx:afterSwap below) redraws the charts for the new code.
    if (window.htmx) refreshTiles(); else refresh();
  }

  /* A hot spot anywhere below: a full page load builds its breadcrumb on the server. */
  function jump(code) { window.location.href = cfg.base + "?code=" + encodeURIComponent(code); }

  chart.on("click", (p) => { if (p.name && p.name !== state.code) go(p.name); });

  for (const b of document.querySelectorAll(".dash-switch [data-metric]")) {
    b.addEventListener("click", () => {
      state.metric = b.dataset.metric;
      for (const o of document.querySelectorAll(".dash-switch [data-metric]")) o.setAttribute("aria-pressed", String(o === b));
      if (state.mapCode && geoCache[state.mapCode]) drawMap(geoCache[state.mapCode]);
      el.dataset.metric = state.metric;
    });
  }

  document.body.addEventListener("htmx:afterSwap", (ev) => { if (ev.detail.target === tilesEl) refresh(); });

  window.huyingDash = {
    chart: chart, go: go, state: state,
    pixelOf: (code) => {
      const cp = state.cp[code];
      if (!cp) return null;
      const [x, y] = chart.convertToPixel({seriesIndex: 0}, cp);
      const box = el.getBoundingClientRect();
      return {x: box.left + x, y: box.top + y};
    },
  };

  refresh();
})();
