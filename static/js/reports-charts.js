/* Charts on the reports dashboard. Data comes from <script type="application/json">
 * elements ({{ data|json_script }}), so the page needs no inline script; every chart
 * has a table with the same numbers next to it. Redrawn after htmx swaps the results. */
(function () {
  "use strict";

  // 16 colours that stay apart for common colour-vision differences (Okabe-Ito first).
  var PALETTE = [
    "#0072b2", "#e69f00", "#009e73", "#cc79a7", "#56b4e9", "#d55e00", "#f0e442", "#000000",
    "#004d80", "#a6761d", "#1b9e77", "#7570b3", "#66a61e", "#e7298a", "#666666", "#b15928",
  ];
  var reduceMotion = window.matchMedia && window.matchMedia("(prefers-reduced-motion: reduce)").matches;

  // Wider than tall on a desktop; nearer square on a phone, so labels stay readable.
  function aspectRatio() {
    return window.innerWidth < 576 ? 1.1 : 2.6;
  }

  function readData(id) {
    var element = document.getElementById(id);
    return element ? JSON.parse(element.textContent) : null;
  }

  function stackedBar(canvas, data) {
    return new window.Chart(canvas, {
      type: "bar",
      data: {
        labels: data.labels,
        datasets: data.datasets.map(function (dataset, index) {
          return {
            label: dataset.label,
            data: dataset.data,
            backgroundColor: PALETTE[index % PALETTE.length],
          };
        }),
      },
      options: {
        animation: reduceMotion ? false : undefined,
        responsive: true,
        aspectRatio: aspectRatio(),
        scales: { x: { stacked: true }, y: { stacked: true, beginAtZero: true } },
        plugins: { legend: { position: "bottom" } },
      },
    });
  }

  function funnel(canvas, data) {
    return new window.Chart(canvas, {
      type: "bar",
      data: {
        labels: data.labels,
        datasets: [{ label: canvas.getAttribute("aria-label"), data: data.data, backgroundColor: PALETTE[0] }],
      },
      options: {
        animation: reduceMotion ? false : undefined,
        indexAxis: "y",
        responsive: true,
        aspectRatio: aspectRatio(),
        scales: { x: { beginAtZero: true } },
        plugins: { legend: { display: false } },
      },
    });
  }

  var BUILDERS = { "stacked-bar": stackedBar, funnel: funnel };

  function draw(root) {
    if (typeof window.Chart === "undefined") {
      return;
    }
    root.querySelectorAll("canvas[data-chart]").forEach(function (canvas) {
      var build = BUILDERS[canvas.dataset.chart];
      var data = readData(canvas.dataset.chartData);
      if (!build || !data) {
        return;
      }
      var existing = window.Chart.getChart(canvas);
      if (existing) {
        existing.destroy();
      }
      build(canvas, data);
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    draw(document);
  });
  document.addEventListener("htmx:afterSettle", function (event) {
    draw(event.target);
  });
})();
