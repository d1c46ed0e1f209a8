// The regulator home's charts: Apache ECharts (vendor/echarts.min.js, a classic script loaded
// before this module) draws what the page embeds with json_script (#chart-data): no request.
const data = JSON.parse(document.getElementById("chart-data").textContent);
const colours = ["#0b6e4f", "#0b57a4", "#b3261e", "#8a5a00"];

function draw(element, chart) {
  const kind = element.dataset.chart;
  const instance = window.echarts.init(element, null, { renderer: "canvas" });
  const empty = chart.categories.length === 0;
  const categorical = kind === "agency" || kind === "region";
  instance.setOption({
    animation: false, // drawn at once: a printed or captured page shows the counts
    color: colours,
    title: { text: chart.title, left: 0, textStyle: { fontSize: 14 } },
    tooltip: { trigger: "axis" },
    legend: { top: 24, left: 0, itemWidth: 14, itemHeight: 10, textStyle: { fontSize: 12 } },
    grid: { top: 84, left: 40, right: 12, bottom: 40 },
    xAxis: {
      type: "category",
      data: chart.categories,
      axisLabel: { interval: 0, rotate: categorical && chart.categories.length > 3 ? 20 : 0 },
    },
    yAxis: { type: "value", minInterval: 1 },
    series: chart.series.map((s) => ({
      name: s.name,
      // Few months are read best as bars; a year as lines.
      type: categorical || chart.categories.length < 4 ? "bar" : "line",
      data: s.data,
      barMaxWidth: 28,
    })),
    graphic: empty
      ? [{ type: "text", left: "center", top: "middle", style: { text: "—", fontSize: 20, fill: "#616e7c" } }]
      : [],
  });
  window.addEventListener("resize", () => instance.resize());
}

for (const element of document.querySelectorAll("figure.chart[data-chart]")) {
  draw(element, data[element.dataset.chart]);
}
