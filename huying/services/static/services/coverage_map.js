/* 15分钟服务圈 on the coverage page, drawn with ECharts from our own outlines (no tile server):
 * the community and its grids, positions open (solid) or closed (hollow) at the chosen hour with the
 * 15-minute straight-line radius around each open one, covered buildings small and grey, uncovered
 * ones red, and the ranked candidate sites. Labels come from the box's data- attributes.
 * window.huyingCoverageMap exposes {chart, data, state} for browser tests. */
(function () {
  "use strict";
  const box = document.getElementById("coverage-map-box");
  const el = document.getElementById("coverage-map");
  if (!box || !el || typeof echarts === "undefined") return;
  const T = box.dataset;
  const status = document.getElementById("coverage-map-status");
  const chart = echarts.init(el, null, {renderer: "canvas"});
  if (window.ResizeObserver) new ResizeObserver(() => window.requestAnimationFrame(() => chart.resize())).observe(el);
  else window.addEventListener("resize", () => chart.resize());

  // A circle of `metres` around [lng, lat] as a ring of points (local equirectangular approximation).
  function circle(lnglat, metres, steps) {
    const [lng, lat] = lnglat;
    const dLat = metres / 111320;
    const dLng = metres / (111320 * Math.cos((lat * Math.PI) / 180));
    const ring = [];
    for (let i = 0; i <= steps; i++) {
      const a = (2 * Math.PI * i) / steps;
      ring.push([lng + dLng * Math.cos(a), lat + dLat * Math.sin(a)]);
    }
    return ring;
  }

  // Degrees of longitude are shorter than degrees of latitude by cos(latitude).
  function aspect(features) {
    let sum = 0, n = 0;
    const walk = (c) => { if (typeof c[0] === "number") { sum += c[1]; n += 1; } else c.forEach(walk); };
    features.forEach((f) => walk(f.geometry.coordinates));
    return n ? Math.cos(((sum / n) * Math.PI) / 180) : 0.75;
  }

  function escape(text) {
    return String(text).replace(/[&<>"']/g, (c) => ({"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;"})[c]);
  }

  function draw(data) {
    const name = "huying-coverage-" + data.community.code;
    echarts.registerMap(name, data.shapes);
    const kinds = {};
    for (const f of data.shapes.features) kinds[f.properties.code] = f.properties.kind;
    const regions = data.shapes.features.map((f) => (f.properties.kind === "community"
      ? {name: f.properties.code, itemStyle: {areaColor: "rgba(0,0,0,0)", borderColor: "#1f5f8b", borderWidth: 2.5}, z: 3}
      : {name: f.properties.code, itemStyle: {areaColor: "#eef4f8", borderColor: "#9bb3c7", borderWidth: 1, borderType: "dashed"}}));
    const open = data.positions.filter((p) => p.open);
    const closed = data.positions.filter((p) => !p.open);
    const circles = open.map((p) => ({name: p.name, ring: circle(p.lnglat, data.radius_m, 72)}));
    chart.setOption({
      animation: false,
      tooltip: {trigger: "item", confine: true, formatter: (p) => (p.data && p.data.tip ? p.data.tip : "")},
      // A plain legend wraps onto a second or third line at phone width.
      legend: {bottom: 4, left: 4, right: 4, itemWidth: 14, itemHeight: 10, itemGap: 8, textStyle: {fontSize: 11},
               data: [T.open, T.closed, T.circle, T.covered, T.uncovered, T.candidates]},
      // layoutCenter/layoutSize keep the shape's true proportions (top/left/right/bottom would stretch it).
      geo: {map: name, nameProperty: "code", roam: true, selectedMode: false, silent: true,
            layoutCenter: ["50%", "40%"], layoutSize: "72%", aspectScale: aspect(data.shapes.features),
            label: {show: false}, regions: regions,
            itemStyle: {areaColor: "#eef4f8", borderColor: "#9bb3c7"}},
      series: [
        {name: T.circle, type: "custom", coordinateSystem: "geo", geoIndex: 0, z: 4, silent: true,
         data: circles.map((c, i) => ({value: i, tip: escape(c.name)})),
         itemStyle: {color: "rgba(46,139,87,0.12)"},
         renderItem: (params, api) => ({
           type: "polygon",
           shape: {points: circles[params.dataIndex].ring.map((pt) => api.coord(pt))},
           style: {fill: "rgba(46,139,87,0.10)", stroke: "rgba(46,139,87,0.6)", lineWidth: 1, lineDash: [4, 3]},
         })},
        {name: T.covered, type: "scatter", coordinateSystem: "geo", geoIndex: 0, z: 5, symbol: "circle", symbolSize: 5,
         itemStyle: {color: "#9aa3ab"}, silent: true, data: data.covered.map((xy) => ({value: xy}))},
        {name: T.uncovered, type: "scatter", coordinateSystem: "geo", geoIndex: 0, z: 6, symbol: "circle", symbolSize: 9,
         itemStyle: {color: "#d0312d", borderColor: "#fff", borderWidth: 1},
         data: data.uncovered.map((b) => ({value: b.lnglat,
           tip: escape(b.address) + "<br>" + escape(b.grid) + " · " + b.households + " " + escape(T.households)}))},
        {name: T.open, type: "scatter", coordinateSystem: "geo", geoIndex: 0, z: 8, symbol: "diamond", symbolSize: 16,
         itemStyle: {color: "#2e8b57", borderColor: "#fff", borderWidth: 1.5},
         data: open.map((p) => ({value: p.lnglat, tip: escape(p.name) + "<br>" + escape(p.kind)}))},
        {name: T.closed, type: "scatter", coordinateSystem: "geo", geoIndex: 0, z: 7, symbol: "emptyDiamond", symbolSize: 14,
         itemStyle: {color: "#5f6b75", borderWidth: 2},
         data: closed.map((p) => ({value: p.lnglat, tip: escape(p.name) + "<br>" + escape(p.kind)}))},
        {name: T.candidates, type: "scatter", coordinateSystem: "geo", geoIndex: 0, z: 9, symbol: "pin", symbolSize: 26,
         itemStyle: {color: "#e08a00"},
         label: {show: true, formatter: (p) => String(p.data.rank), color: "#fff", fontSize: 11, fontWeight: "bold"},
         data: data.candidates.map((s) => ({value: s.lnglat, rank: s.rank,
           tip: s.rank + ". " + escape(s.label) + "<br>+" + s.households + " " + escape(T.households)}))},
      ],
    }, true);
  }

  async function load() {
    el.dataset.state = "loading";
    try {
      const r = await fetch(T.src, {credentials: "same-origin", headers: {Accept: "application/json"}});
      if (!r.ok) throw new Error(r.statusText);
      const data = await r.json();
      window.huyingCoverageMap.data = data;
      if (!data.shapes.features.length) {
        el.hidden = true;
        status.textContent = T.empty;
        el.dataset.state = "empty";
        return;
      }
      draw(data);
      el.dataset.state = "ready";
    } catch (err) {
      el.dataset.state = "error";
      status.textContent = T.failed;
    }
  }

  window.huyingCoverageMap = {chart: chart, data: null, state: () => ({...el.dataset})};
  load();
})();
