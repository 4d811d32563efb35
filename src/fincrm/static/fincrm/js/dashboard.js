// Draws each KPI figure from the table the server embeds as JSON (no inline script: CSP).
(function () {
  "use strict";
  function render() {
    var src = document.getElementById("kpi-data");
    if (!src || !window.echarts) { return; }
    var figures = JSON.parse(src.textContent);
    Object.keys(figures).forEach(function (key) {
      var el = document.getElementById("chart-" + key);
      var f = figures[key];
      if (!el || !f.rows.length) { return; }
      var x = f.rows.map(function (r) { return r[f.x]; });
      var option;
      if (f.chart === "funnel") {
        option = {
          tooltip: { trigger: "item" },
          series: [{ type: "funnel", sort: "none", left: "10%", width: "80%",
            label: { formatter: "{b}: {c}" },
            data: f.rows.map(function (r) { return { name: r[f.x], value: r[f.series[0]] }; }) }]
        };
      } else {
        option = {
          tooltip: { trigger: "axis" }, legend: { top: 0 },
          grid: { left: 60, right: 60, top: 40, bottom: 30 },
          xAxis: { type: "category", data: x },
          yAxis: f.series.map(function (s, i) { return { type: "value", name: f.labels[s], position: i ? "right" : "left", splitLine: { show: !i } }; }),
          series: f.series.map(function (s, i) {
            return { name: f.labels[s], type: f.chart === "bar" && i === 0 ? "bar" : "line",
              yAxisIndex: i, smooth: true, connectNulls: true,
              data: f.rows.map(function (r) { return r[s] === null ? null : Math.round(r[s] * 100) / 100; }) };
          })
        };
      }
      var chart = window.echarts.init(el);
      chart.setOption(option);
      window.addEventListener("resize", function () { chart.resize(); });
      el.dataset.rendered = "1";
    });
  }
  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", render); } else { render(); }
})();
