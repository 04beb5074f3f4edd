/* Charts of the forecast pages: plotly.js from the plotly wheel, data from json_script blocks
 * rendered by the view (no inline script, no second request). */
(function () {
  "use strict";
  function data(id) {
    var el = document.getElementById(id);
    return el ? JSON.parse(el.textContent) : null;
  }
  var config = { displayModeBar: false, responsive: true };
  function draw() {
    if (!window.Plotly) { return; }
    var fc = data("forecast-data");
    var el = document.getElementById("forecast-chart");
    if (fc && el) {
      var traces = [{ type: "scatter", mode: "lines+markers", name: fc.actual_label, x: fc.x, y: fc.actual,
                      line: { color: "#212529", width: 3 } }];
      fc.series.forEach(function (s) {
        traces.push({ type: "scatter", mode: "lines+markers", name: s.name, x: fc.x, y: s.y, connectgaps: false,
                      line: { dash: "dot" } });
      });
      window.Plotly.newPlot(el, traces, { title: { text: fc.title, font: { size: 14 } },
        margin: { t: 40, r: 10, b: 60, l: 70 }, height: 360, legend: { orientation: "h" } }, config);
    }
    var acc = data("accuracy-data");
    var el2 = document.getElementById("accuracy-chart");
    if (acc && el2 && acc.series.length) {
      window.Plotly.newPlot(el2, acc.series.map(function (s) {
        return { type: "bar", name: s.name, x: acc.levels, y: s.y };
      }), { title: { text: acc.title, font: { size: 14 } }, barmode: "group", yaxis: { ticksuffix: "%" },
            margin: { t: 40, r: 10, b: 40, l: 50 }, height: 320, legend: { orientation: "h" } }, config);
    }
  }
  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", draw); } else { draw(); }
})();
