/* Charts of the customer-operations pages: plotly.js from the plotly wheel, data from
 * json_script blocks rendered by the view (no inline script, no second request). */
(function () {
  "use strict";
  function data(id) {
    var el = document.getElementById(id);
    return el ? JSON.parse(el.textContent) : null;
  }
  function bar(target, x, y, title, opts) {
    var el = document.getElementById(target);
    if (!el || !window.Plotly) { return; }
    window.Plotly.newPlot(el, [Object.assign({ type: "bar", x: x, y: y }, opts || {})], {
      title: { text: title, font: { size: 14 } },
      margin: { t: 40, r: 10, b: 80, l: 50 },
      height: 320
    }, { displayModeBar: false, responsive: true });
  }
  function draw() {
    var seg = data("segments-data");
    if (seg) {
      bar("chart-rule", seg.rule.map(function (r) { return r.label; }), seg.rule.map(function (r) { return r.accounts; }), seg.titles.rule);
      bar("chart-grid", seg.grid.map(function (r) { return r.label; }), seg.grid.map(function (r) { return r.accounts; }), seg.titles.grid);
      if (seg.flows.length) {
        bar("chart-flows", seg.flows.map(function (f) { return f.from + " → " + f.to; }), seg.flows.map(function (f) { return f.accounts; }), seg.titles.flows, { marker: { color: "#6f42c1" } });
      }
    }
    var needs = data("needs-data");
    if (needs && needs.count.length) {
      bar("chart-needs", needs.count.map(function (r) { return r.tag; }), needs.count.map(function (r) { return r.needs; }), needs.title);
    }
  }
  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", draw); } else { draw(); }
})();
