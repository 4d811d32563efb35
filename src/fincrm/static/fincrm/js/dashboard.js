// Draws each KPI figure from the table the server embeds as JSON (no inline script: CSP).
// Charts that tell the truth (issue 19): straight lines between monthly points (no smoothing,
// no line across a month without a value), bars from zero, the funnel's bands as wide as
// their counts; SVG, so every label is an element whose box the browser tests can measure.
(function () {
  "use strict";
  var BRAND = "#1f4e9c";
  var INSIDE = { left: 6, right: 6, top: 6, bottom: 6 };
  var count = new Intl.NumberFormat(document.documentElement.lang || undefined);

  function funnel(f) {
    // Centred bars on one value axis from zero: a band's width is its count (ECharts'
    // funnel type maps values onto [min, max] = [0, 100] by default, so every band past
    // 100 was drawn full width, and its labels ran off the chart).
    var values = f.rows.map(function (r) { return r[f.series[0]] || 0; });
    var top = Math.max.apply(null, values);
    return {
      tooltip: { trigger: "item", formatter: function (p) { return p.name + ": " + count.format(p.value); } },
      grid: { left: 8, right: 56, top: 12, bottom: 12, outerBounds: INSIDE },
      xAxis: { type: "value", min: 0, max: top, show: false },
      yAxis: { type: "category", inverse: true, axisTick: { show: false }, axisLine: { show: false },
        data: f.rows.map(function (r) { return r[f.x]; }) },
      series: [
        { type: "bar", stack: "funnel", silent: true, tooltip: { show: false },
          itemStyle: { color: "transparent" }, data: values.map(function (v) { return (top - v) / 2; }) },
        { type: "bar", stack: "funnel", name: f.labels[f.series[0]], barCategoryGap: "18%",
          itemStyle: { color: BRAND },
          label: { show: true, position: "right", formatter: function (p) { return count.format(p.value); } },
          data: values }
      ]
    };
  }

  function timeSeries(f) {
    return {
      tooltip: { trigger: "axis" }, legend: { top: 0 },
      // The labels ECharts keeps inside the outer bounds sit a few pixels lower in the browser
      // than it measures them: a margin of 6 px keeps them inside the chart.
      grid: { left: 12, right: 12, top: 56, bottom: 16, outerBounds: INSIDE },
      xAxis: { type: "category", data: f.rows.map(function (r) { return r[f.x]; }) },
      yAxis: f.series.map(function (s, i) {
        return { type: "value", name: f.labels[s], position: i ? "right" : "left",
          nameTextStyle: { align: i ? "right" : "left" }, splitLine: { show: !i } };
      }),
      series: f.series.map(function (s, i) {
        var bar = f.chart === "bar" && i === 0;
        return { name: f.labels[s], type: bar ? "bar" : "line", yAxisIndex: i,
          itemStyle: bar ? { color: BRAND } : undefined,
          smooth: false, connectNulls: false, showAllSymbol: true,
          data: f.rows.map(function (r) { return r[s] === null ? null : Math.round(r[s] * 100) / 100; }) };
      })
    };
  }

  function render() {
    var src = document.getElementById("kpi-data");
    if (!src || !window.echarts) { return; }
    var figures = JSON.parse(src.textContent);
    Object.keys(figures).forEach(function (key) {
      var el = document.getElementById("chart-" + key);
      var f = figures[key];
      if (!el || !f.rows.length) { return; }
      var chart = window.echarts.init(el, null, { renderer: "svg" });
      // Marked drawn once the opening animation has ended (the tests measure the bars).
      chart.on("finished", function () { el.dataset.rendered = "1"; });
      chart.setOption(f.chart === "funnel" ? funnel(f) : timeSeries(f));
      window.addEventListener("resize", function () { chart.resize(); });
    });
  }
  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", render); } else { render(); }
})();
