/* Reliability curve of the scoring model page: plotly.js from the plotly wheel, data from the
 * json_script block rendered by the view (no inline script, no second request). */
(function () {
  "use strict";
  function draw() {
    var el = document.getElementById("reliability-data");
    var target = document.getElementById("chart-reliability");
    if (!el || !target || !window.Plotly) { return; }
    var d = JSON.parse(el.textContent);
    if (!d) { return; }
    function line(points, name, color) {
      return {
        type: "scatter", mode: "lines+markers", name: name,
        x: points.map(function (p) { return p.predicted; }),
        y: points.map(function (p) { return p.observed; }),
        text: points.map(function (p) { return p.count; }),
        hovertemplate: "%{x:.2f} → %{y:.2f} (n=%{text})<extra></extra>",
        line: { color: color }
      };
    }
    var traces = [
      { type: "scatter", mode: "lines", name: d.labels.diagonal, x: [0, 1], y: [0, 1], line: { dash: "dash", color: "#999" } },
      line(d.model, d.labels.model, "#0d6efd"),
      line(d.baseline, d.labels.baseline, "#fd7e14")
    ];
    window.Plotly.newPlot(target, traces, {
      title: { text: d.labels.title, font: { size: 14 } },
      xaxis: { title: { text: d.labels.x }, range: [0, 1] },
      yaxis: { title: { text: d.labels.y }, range: [0, 1] },
      margin: { t: 40, r: 10, b: 50, l: 60 }, height: 340, legend: { orientation: "h", y: -0.25 }
    }, { displayModeBar: false, responsive: true });
  }
  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", draw); } else { draw(); }
})();
