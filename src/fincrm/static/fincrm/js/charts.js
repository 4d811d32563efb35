// Renders the 360° page's financial chart from the JSON the server embeds (no inline script:
// the Content-Security-Policy forbids it). Straight lines between yearly points (a smoothed
// curve invents values between them); SVG, like the KPI charts.
(function () {
  "use strict";
  function render() {
    var el = document.getElementById("fin-chart");
    var src = document.getElementById("fin-chart-data");
    if (!el || !src || !window.echarts) { return; }
    var data = JSON.parse(src.textContent);
    var zh = (document.documentElement.lang || "").indexOf("zh") === 0;
    var names = zh
      ? { revenue: "营业收入", net_profit: "净利润", total_assets: "总资产", total_liabilities: "总负债", operating_cash_flow: "经营现金流" }
      : { revenue: "Revenue", net_profit: "Net profit", total_assets: "Total assets", total_liabilities: "Total liabilities", operating_cash_flow: "Operating cash flow" };
    var scale = zh ? 10000 : 1000000;
    var unit = zh ? "万元" : "CNY m";
    var series = Object.keys(names).map(function (key) {
      return {
        name: names[key], type: key === "revenue" || key === "net_profit" ? "bar" : "line",
        smooth: false, data: data.series[key].map(function (v) { return Math.round(v / scale * 100) / 100; })
      };
    });
    var chart = window.echarts.init(el, null, { renderer: "svg" });
    // Marked drawn once the opening animation has ended (the tests measure it).
    chart.on("finished", function () { el.dataset.rendered = "1"; });
    chart.setOption({
      tooltip: { trigger: "axis" }, legend: { top: 0 },
      grid: { left: 60, right: 20, top: 40, bottom: 30, outerBounds: { left: 6, right: 6, top: 6, bottom: 6 } },
      xAxis: { type: "category", data: data.periods },
      yAxis: { type: "value", name: unit },
      series: series
    });
    window.addEventListener("resize", function () { chart.resize(); });
  }
  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", render); } else { render(); }
})();
