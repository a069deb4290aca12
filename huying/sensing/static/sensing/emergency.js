/* 应急指挥一张图: ECharts scatter of the active alerts over our own division outlines (dispatch's
 * report-map shapes, no tile server), and a side list most urgent first. Everything comes from the
 * JSON endpoint in the page config, polled every `refresh` seconds; a failed poll keeps the last
 * picture and says so. window.huyingEmergency exposes {chart, load, state} for browser tests. */
(function () {
  "use strict";
  const cfgNode = document.getElementById("emergency-config");
  const el = document.getElementById("em-map");
  if (!cfgNode || !el || typeof echarts === "undefined") return;
  const cfg = JSON.parse(cfgNode.textContent);
  const L = cfg.labels;
  const list = document.getElementById("em-list");
  const countEl = document.getElementById("em-count");
  const updated = document.getElementById("em-updated");
  const note = document.getElementById("em-map-note");
  const chart = echarts.init(el, null, {renderer: "canvas"});
  const COLORS = {emergency: "#c0392b", urgent: "#e8a33d", normal: "#2c6aa0"};
  const state = {geo: false, alerts: [], loads: 0};
  window.addEventListener("resize", () => chart.resize());

  const {h, getJSON} = window.huyingDom;  // web/dom.js

  async function base() {
    let features = [];
    try {
      const fc = await getJSON(cfg.shapes.replace("CODE", encodeURIComponent(cfg.root)));
      features = (fc.features || []).filter((f) => f.geometry);
    } catch (err) {
      features = [];
    }
    if (features.length) {
      const name = "huying-em-" + cfg.root;
      echarts.registerMap(name, {type: "FeatureCollection", features: features});
      state.geo = true;
      chart.setOption({
        tooltip: {trigger: "item"},
        geo: {map: name, nameProperty: "code", roam: true, silent: true, layoutCenter: ["50%", "50%"], layoutSize: "95%",
              aspectScale: Math.cos((23.1 * Math.PI) / 180), label: {show: false},
              itemStyle: {areaColor: "#e6f0f7", borderColor: "#5b87ad", borderWidth: 1}},
        series: [],
      }, true);
    } else {
      note.textContent = L.noShapes;
      note.hidden = false;
      chart.setOption({
        tooltip: {trigger: "item"},
        xAxis: {type: "value", scale: true, name: "lng"}, yAxis: {type: "value", scale: true, name: "lat"},
        grid: {left: 48, right: 16, top: 24, bottom: 32}, series: [],
      }, true);
    }
  }

  function tooltip(p) {
    const a = p.data && p.data.alert;
    if (!a) return "";
    const enc = echarts.format.encodeHTML;
    const lines = a.orders.map((o) => enc(o.code + " " + o.state_label + " · " +
      (o.units.length ? o.units.map((u) => u.name).join("、") : L.noUnit)));
    return "<b>" + enc(a.title) + "</b><br>" + enc(a.urgency_label + " · " + a.status_label + " · " + a.raised_label) +
      (lines.length ? "<br>" + lines.join("<br>") : "");
  }

  function drawPoints(alerts) {
    const data = alerts.filter((a) => a.lng !== null && a.lat !== null).map((a) => ({
      name: a.title, value: [a.lng, a.lat], alert: a,
      itemStyle: {color: COLORS[a.urgency] || COLORS.normal},
      symbolSize: a.urgency === "emergency" ? 18 : a.urgency === "urgent" ? 14 : 10,
    }));
    chart.setOption({
      tooltip: {trigger: "item", formatter: tooltip},
      series: [{
        id: "alerts", type: "effectScatter", coordinateSystem: state.geo ? "geo" : "cartesian2d",
        data: data, rippleEffect: {scale: 2.5, brushType: "stroke"}, showEffectOn: "render", zlevel: 2,
      }],
    }, {replaceMerge: ["series"]});
  }

  function item(a) {
    const li = h("li", {class: "em-item", id: "em-alert-" + a.id, "data-id": String(a.id), "data-kind": a.kind,
                        "data-urgency": a.urgency, "data-status": a.status});
    li.append(h("h3", {}, a.title));
    const meta = h("p", {class: "small"});
    meta.append(h("span", {class: "em-tag em-tag-" + a.urgency}, a.urgency_label),
                h("span", {class: "em-tag"}, a.kind_label), h("span", {class: "em-tag"}, a.status_label),
                h("span", {class: "muted"}, a.raised_label + " · " + (a.area_label || a.area_code)));
    li.append(meta);
    const orders = h("ul", {class: "em-orders"});
    if (!a.orders.length) orders.append(h("li", {class: "muted"}, L.noOrder));
    for (const o of a.orders) {
      const row = h("li", {class: "em-order", "data-code": o.code, "data-state": o.state});
      row.append(h("a", {href: o.url}, o.code), document.createTextNode(" "), h("span", {class: "em-tag"}, o.state_label));
      if (o.overdue) row.append(h("span", {class: "em-tag em-tag-overdue"}, L.overdue));
      const units = h("span", {class: "em-units"});
      units.textContent = o.units.length
        ? L.units + "：" + o.units.map((u) => u.name + (u.lead ? (u.accepted ? "（" + L.accepted + "）" : "") : "（" + L.cohandler + "）")).join("、")
        : L.noUnit;
      row.append(h("br"), units);
      orders.append(row);
    }
    li.append(orders);
    li.addEventListener("click", () => focus(a));
    return li;
  }

  function focus(a) {
    for (const n of list.querySelectorAll(".em-focus")) n.classList.remove("em-focus");
    const node = document.getElementById("em-alert-" + a.id);
    if (node) node.classList.add("em-focus");
    const idx = state.alerts.filter((x) => x.lng !== null && x.lat !== null).findIndex((x) => x.id === a.id);
    if (idx >= 0) chart.dispatchAction({type: "showTip", seriesId: "alerts", dataIndex: idx});
  }

  function render(body) {
    state.alerts = body.alerts;
    countEl.textContent = L.count + " " + body.count + (body.truncated ? " · " + L.truncated : "");
    updated.textContent = L.updated + " " + body.generated_label;
    list.replaceChildren();
    if (!body.alerts.length) list.append(h("li", {class: "muted", id: "em-none"}, L.none));
    for (const a of body.alerts) list.append(item(a));
    drawPoints(body.alerts);
  }

  async function load() {
    try {
      render(await getJSON(cfg.data));
      state.loads += 1;
      el.dataset.state = "ready";
    } catch (err) {
      updated.textContent = L.failed + err.message;
      if (el.dataset.state === "loading") el.dataset.state = "error";
    }
  }

  chart.on("click", (p) => { if (p.data && p.data.alert) focus(p.data.alert); });
  window.huyingEmergency = {chart: chart, load: load, state: state};
  base().then(load);
  setInterval(() => { if (!document.hidden) load(); }, Math.max(5, cfg.refresh || 30) * 1000);
})();
