/* 来电量预测: the next days' expected calls as a line with its 90% interval as a band (ECharts;
 * the band is the low bound, invisible, with the interval's width stacked on it), and the
 * operators' daily capacity as a flat line when the territory has operators.
 * window.huyingForecast exposes {chart} so browser tests can read what was drawn. */
(function () {
  "use strict";
  const cfgEl = document.getElementById("forecast-config");
  const el = document.getElementById("fc-chart");
  if (!cfgEl || !el || !window.echarts) return;
  const cfg = JSON.parse(cfgEl.textContent);
  const L = cfg.labels;
  const chart = echarts.init(el, null, {renderer: "canvas"});
  const days = cfg.days.map((d) => d.slice(5));
  const width = cfg.hi.map((hi, i) => Math.max(0, hi - cfg.lo[i]));
  const series = [
    {name: "lo", type: "line", data: cfg.lo, stack: "band", symbol: "none", lineStyle: {opacity: 0},
     tooltip: {show: false}, silent: true},
    {name: L.band, type: "line", data: width, stack: "band", symbol: "none", lineStyle: {opacity: 0},
     areaStyle: {color: "rgba(64, 128, 224, 0.22)"}, tooltip: {show: false}, silent: true},
    {name: L.mean, type: "line", data: cfg.mean, smooth: false, symbolSize: 6, itemStyle: {color: "#2a62c9"}},
  ];
  if (cfg.capacity !== null && cfg.capacity !== undefined) {
    series.push({name: L.capacity, type: "line", data: cfg.days.map(() => cfg.capacity), symbol: "none",
                 lineStyle: {type: "dashed", color: "#c0392b"}, itemStyle: {color: "#c0392b"}});
  }
  chart.setOption({
    animation: false,
    grid: {left: 44, right: 12, top: 36, bottom: 28},
    legend: {top: 0, data: series.filter((s) => s.name !== "lo").map((s) => s.name)},
    tooltip: {
      trigger: "axis",
      formatter: (items) => {
        const i = items[0].dataIndex;
        const lines = [cfg.days[i], L.mean + ": " + Math.round(cfg.mean[i]) + " " + L.calls,
                       L.band + ": " + Math.round(cfg.lo[i]) + "–" + Math.round(cfg.hi[i])];
        if (cfg.capacity !== null && cfg.capacity !== undefined) lines.push(L.capacity + ": " + cfg.capacity);
        return lines.map((t) => t.replace(/[&<>"]/g, (c) => "&#" + c.charCodeAt(0) + ";")).join("<br>");
      },
    },
    xAxis: {type: "category", data: days, boundaryGap: false},
    yAxis: {type: "value", min: 0},
    series: series,
  });
  const resize = () => chart.resize();
  if (window.ResizeObserver) {
    new ResizeObserver(() => window.requestAnimationFrame(resize)).observe(el);
  } else {
    window.addEventListener("resize", resize);
  }
  window.huyingForecast = {chart: chart};
})();
