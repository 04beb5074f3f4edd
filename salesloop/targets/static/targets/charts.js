// Charts of the targets pages, drawn with Plotly from JSON embedded by the server (no fetches).
(function () {
  "use strict";
  function data(id) {
    var el = document.getElementById(id);
    return el ? JSON.parse(el.textContent) : null;
  }
  function draw(id, traces, layout) {
    var el = document.getElementById(id);
    if (!el || !window.Plotly) return;
    Plotly.newPlot(el, traces, Object.assign({margin: {t: 30, r: 10, b: 40, l: 60}, height: 300}, layout || {}),
      {displayModeBar: false, responsive: true});
  }
  function runRate(chartId, dataId) {
    var s = data(dataId);
    if (!s) return;
    var labels = JSON.parse(document.getElementById("chart-labels").textContent);
    draw(chartId, [
      {x: s.days, y: s.actual, name: labels.actual, mode: "lines", line: {width: 3}},
      {x: s.days, y: s.target, name: labels.target, mode: "lines", line: {dash: "dot"}}
    ], {legend: {orientation: "h"}});
  }
  function gauges(chartId, dataId) {
    var g = data(dataId);
    if (!g) return;
    var traces = g.map(function (item, i) {
      var target = parseFloat(item.target) || 0;
      return {type: "indicator", mode: "gauge+number", value: parseFloat(item.value), title: {text: item.label},
        domain: {row: 0, column: i}, gauge: {axis: {range: [0, Math.max(target, parseFloat(item.value)) || 1]},
          threshold: {value: target, line: {color: "red", width: 3}}}};
    });
    draw(chartId, traces, {grid: {rows: 1, columns: g.length}, height: 220});
  }
  function funnel(chartId, dataId) {
    var f = data(dataId);
    if (!f) return;
    draw(chartId, [{type: "funnel", y: f.map(function (r) { return r[0]; }),
      x: f.map(function (r) { return parseFloat(r[1]); }), textinfo: "value+percent initial"}]);
  }
  function waterfall(chartId, dataId) {
    var w = data(dataId);
    if (!w || !w.length) return;
    draw(chartId, [{type: "waterfall", orientation: "v",
      measure: w.map(function (s) { return s.kind; }), x: w.map(function (s) { return s.label; }),
      y: w.map(function (s) { return parseFloat(s.amount); }), connector: {line: {color: "#999"}}}],
      {height: 420, margin: {t: 30, r: 10, b: 160, l: 70}});
  }
  document.addEventListener("DOMContentLoaded", function () {
    runRate("run-rate-chart", "run-rate-data");
    gauges("gauge-chart", "gauge-data");
    funnel("funnel-chart", "funnel-data");
    waterfall("waterfall-chart", "waterfall-data");
  });
})();
