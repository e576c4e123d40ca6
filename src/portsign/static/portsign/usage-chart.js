// The usage chart of the billing page: contracts sent per day and per kind, drawn with uPlot
// (installed from npm by `make assets`). Reads /usage/chart for the chosen range.
(function () {
  "use strict";
  function draw(box, data) {
    var labels = JSON.parse(box.dataset.labels);
    var xs = data.days.map(function (d) { return Date.parse(d + "T00:00:00") / 1000; });
    var bars = uPlot.paths.bars({ size: [0.6, 40] });
    var opts = {
      width: Math.max(320, box.clientWidth || 640),
      height: 240,
      scales: { x: { time: true }, y: { range: function (u, min, max) { return [0, Math.max(1, max)]; } } },
      series: [
        {},
        { label: labels.corporate, stroke: "#b71c1c", fill: "rgba(183,28,28,0.35)", paths: bars },
        { label: labels.personal, stroke: "#1565c0", fill: "rgba(21,101,192,0.35)", paths: bars },
      ],
      axes: [{}, { incrs: [1, 2, 5, 10, 20, 50, 100] }],
    };
    box.textContent = "";
    new uPlot(opts, [xs, data.corporate, data.personal], box);
    var total = function (list) { return list.reduce(function (a, b) { return a + b; }, 0); };
    box.dataset.corporate = total(data.corporate);
    box.dataset.personal = total(data.personal);
    box.dataset.state = "ready";
    var summary = document.querySelector("[data-testid=chart-summary]");
    if (summary) {
      summary.textContent = labels.corporate + " " + box.dataset.corporate + " · " + labels.personal + " " + box.dataset.personal;
    }
  }
  function load() {
    var box = document.getElementById("usage-chart");
    if (!box || typeof uPlot === "undefined") { return; }
    var url = box.dataset.url + "?from=" + encodeURIComponent(box.dataset.from) + "&to=" + encodeURIComponent(box.dataset.to);
    fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (r) { return r.json().then(function (body) { return { ok: r.ok, body: body }; }); })
      .then(function (res) {
        if (!res.ok) { box.dataset.state = "error"; box.textContent = res.body.error.message; return; }
        draw(box, res.body);
      })
      .catch(function () { box.dataset.state = "error"; });
  }
  document.addEventListener("DOMContentLoaded", load);
})();
