/* Rep and manager home: let htmx show a form's 422 answer, draw the team chart. */
(function () {
  "use strict";

  // A form that failed validation comes back as 422 with the errors in it: show it.
  document.body.addEventListener("htmx:beforeSwap", function (event) {
    if (event.detail.xhr.status === 422 && event.detail.target.closest("#quick-log, [data-swap-errors]")) {
      event.detail.shouldSwap = true;
      event.detail.isError = false;
    }
  });

  function drawChart() {
    var box = document.getElementById("team-chart");
    var source = document.getElementById("team-chart-data");
    if (!box || !source || typeof window.Plotly === "undefined") { return; }
    var data = JSON.parse(source.textContent);
    var traces = [
      { type: "bar", name: data.labels.won + " (" + data.currency + ")", x: data.names, y: data.won },
      { type: "scatter", mode: "markers", marker: { size: 10 }, name: data.labels.visits, x: data.names,
        y: data.visits, yaxis: "y2" }
    ];
    var layout = {
      margin: { t: 20, r: 50, b: 80, l: 70 },
      legend: { orientation: "h", y: 1.12 },
      yaxis: { title: { text: data.currency }, rangemode: "tozero" },
      yaxis2: {
        overlaying: "y", side: "right", rangemode: "tozero", showgrid: false,
        dtick: Math.max(1, Math.ceil(Math.max.apply(null, data.visits.concat([1])) / 5))
      },
      height: 340
    };
    window.Plotly.react(box, traces, layout, { responsive: true, displayModeBar: false });
  }

  document.addEventListener("DOMContentLoaded", drawChart);
  if (document.readyState !== "loading") { drawChart(); }
  document.body.addEventListener("htmx:afterSettle", drawChart);
})();
