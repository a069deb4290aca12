/* The territory map: ECharts draws the children of the current division from
 * /api/v1/territory/divisions/{code}/children.geojson; a click drills down one level.
 * The side panel shows the current or clicked area; the breadcrumb walks back up.
 * window.huyingMap exposes {chart, show, pixelOf} so browser tests can click a region. */
(function () {
  "use strict";
  const cfg = JSON.parse(document.getElementById("map-config").textContent);
  const L = cfg.labels;
  const el = document.getElementById("map");
  const note = document.getElementById("map-note");
  const crumb = document.getElementById("map-breadcrumb");
  const panelName = document.getElementById("panel-name");
  const panelBody = document.getElementById("panel-body");
  const childTitle = document.getElementById("panel-children-title");
  const childList = document.getElementById("panel-children");
  const chart = echarts.init(el, null, {renderer: "canvas"});
  let features = {};
  let seq = 0;

  window.addEventListener("resize", () => chart.resize());

  const {h, getJSON} = window.huyingDom;  // web/dom.js

  function kindLabel(kind) { return L.kinds[kind] || kind; }

  function renderPanel(area) {
    panelName.textContent = area.name;
    panelBody.replaceChildren();
    const dl = h("dl", {class: "facts", id: "panel-facts", "data-code": area.code});
    const add = (k, v, key) => {
      dl.append(h("dt", {}, k));
      dl.append(h("dd", key ? {"data-kind": key} : {}, typeof v === "number" ? v.toLocaleString() : String(v)));
    };
    add(L.code, area.code);
    add(L.kind, kindLabel(area.kind));
    for (const key of Object.keys(L.counts)) {
      if (area.counts && key in area.counts) add(L.counts[key], area.counts[key], key);
    }
    panelBody.append(dl);
    const marks = h("p", {class: "marks"});
    if (area.generated) marks.append(h("span", {class: "badge warn"}, L.generated));
    if (area.official_code === false) marks.append(h("span", {class: "badge note"}, L.unofficial));
    if (marks.childNodes.length) panelBody.append(marks);
    const link = h("a", {href: cfg.territoryUrl + "?focus=" + encodeURIComponent(area.code)}, L.openTree);
    const p = h("p");
    p.append(link);
    panelBody.append(p);
  }

  function renderBreadcrumb(detail) {
    crumb.replaceChildren();
    for (const a of detail.ancestors) {
      const link = h("a", {href: "?focus=" + a.code, "data-code": a.code}, a.name);
      link.addEventListener("click", (ev) => { ev.preventDefault(); show(a.code); });
      crumb.append(link, h("span", {class: "sep"}, "›"));
    }
    crumb.append(h("strong", {"aria-current": "location", "data-code": detail.code}, detail.name));
  }

  function renderChildren(list) {
    childList.replaceChildren();
    childTitle.hidden = false;
    if (!list.length) {
      childList.append(h("li", {class: "muted"}, L.noChildren));
      return;
    }
    for (const c of list) {
      const li = h("li", {"data-code": c.code});
      const a = h("a", {href: "?focus=" + c.code}, c.name);
      a.addEventListener("click", (ev) => { ev.preventDefault(); pick(c.code); });
      const n = c.level === "grid" ? c.counts.building : c.counts.grid;
      li.append(a, h("span", {class: "muted"}, " " + c.code + " · " + (c.level === "grid" ? L.counts.building : L.counts.grid) + " " + n.toLocaleString()));
      childList.append(li);
    }
  }

  function valueOf(p) { return p.level === "grid" ? p.counts.building : p.counts.grid; }

  function draw(code, fc) {
    chart.clear();
    if (!fc.features.length) {
      note.textContent = L.noShapes;
      note.hidden = false;
      return;
    }
    note.hidden = true;
    const mapName = "huying-" + code;
    echarts.registerMap(mapName, fc);
    const data = fc.features.map((f) => ({name: f.properties.code, value: valueOf(f.properties), title: f.properties.name}));
    const values = data.map((d) => d.value);
    const few = data.length <= 60;
    const unit = fc.features[0].properties.level === "grid" ? L.counts.building : L.counts.grid;
    const narrow = el.clientWidth < 600;
    chart.setOption({
      tooltip: {
        trigger: "item",
        formatter: (p) => {
          const f = features[p.name];
          if (!f) return "";
          const lines = Object.keys(L.counts).filter((k) => k in f.counts).map((k) => L.counts[k] + " " + f.counts[k].toLocaleString());
          return "<b>" + echarts.format.encodeHTML(f.name) + "</b> " + f.code + "<br>" + lines.join(" · ");
        },
      },
      visualMap: {
        type: "continuous", show: !narrow, min: 0, max: Math.max(1, ...values), left: 8, bottom: 8, itemHeight: 90,
        text: [L.high + " (" + unit + ")", L.low], calculable: false,
        inRange: {color: ["#e6f0f7", "#8fb8d8", "#2c6aa0"]},
      },
      series: [{
        type: "map", map: mapName, nameProperty: "code", roam: true, selectedMode: "single",
        data: data,
        labelLayout: {hideOverlap: true},
        label: {show: few, fontSize: 11, color: "#1d2a36", formatter: (p) => (p.data && p.data.title) || ""},
        emphasis: {label: {show: true, formatter: (p) => (p.data && p.data.title) || ""}, itemStyle: {areaColor: "#f3c969"}},
        select: {label: {show: true}, itemStyle: {areaColor: "#e8a33d"}},
        itemStyle: {borderColor: "#ffffff", borderWidth: 1},
      }],
    }, true);
  }

  async function show(code) {
    const mine = ++seq;
    el.dataset.state = "loading";
    try {
      const [detail, fc] = await Promise.all([
        getJSON(cfg.api + "/divisions/" + encodeURIComponent(code)),
        getJSON(cfg.api + "/divisions/" + encodeURIComponent(code) + "/children.geojson"),
      ]);
      const children = fc.features.length ? fc.features.map((f) => f.properties)
        : await getJSON(cfg.api + "/divisions/" + encodeURIComponent(code) + "/children");
      if (mine !== seq) return;
      features = {};
      for (const c of children) features[c.code] = c;
      for (const f of fc.features) features[f.properties.code].cp = f.properties.cp;
      renderBreadcrumb(detail);
      renderPanel(detail);
      renderChildren(children);
      draw(code, fc);
      el.dataset.code = detail.code;
      el.dataset.level = detail.level;
      el.dataset.state = "ready";
      history.replaceState(null, "", "?focus=" + encodeURIComponent(detail.code));
    } catch (err) {
      if (mine !== seq) return;
      panelName.textContent = L.failed + err.message;
      el.dataset.state = "error";
    }
  }

  function pick(code) {
    const f = features[code];
    if (!f) return;
    if (f.level === "grid") {
      renderPanel(f);
      el.dataset.selected = code;
      chart.dispatchAction({type: "select", seriesIndex: 0, name: code});
    } else {
      show(code);
    }
  }

  chart.on("click", (p) => pick(p.name));

  window.huyingMap = {
    chart: chart,
    show: show,
    /* Page pixel of a child's inner point, for clicking it like a person would. */
    pixelOf: (code) => {
      const f = features[code];
      if (!f || !f.cp) return null;
      const [x, y] = chart.convertToPixel({seriesIndex: 0}, f.cp);
      const box = el.getBoundingClientRect();
      return {x: box.left + x, y: box.top + y};
    },
  };

  const start = cfg.focus || cfg.root;
  if (start) {
    show(start);
  } else {
    panelName.textContent = L.noData;
    el.dataset.state = "empty";
  }
})();
