// The report page's own script (runs in the browser, offline). It reads the JSON data block and
// draws each chart with uPlot; every text it shows goes through textContent (uPlot does the same
// for legend labels), so nothing from the data is ever parsed as markup.

export const CLIENT_JS = `(function () {
  'use strict';
  var data = JSON.parse(document.getElementById('report-data').textContent);
  var palette = ['#0969da', '#cf222e', '#1a7f37', '#9a6700', '#8250df', '#bc4c00', '#1b7c83', '#57606a'];
  var plots = [];
  function width(box) {
    return Math.max(320, Math.floor(box.clientWidth) - 8);
  }
  data.charts.forEach(function (ch) {
    var host = document.getElementById('charts-' + ch.section);
    if (!host) return;
    var box = document.createElement('div');
    box.className = 'chart';
    box.setAttribute('data-chart', ch.id);
    var h = document.createElement('h3');
    h.textContent = ch.title + (ch.unit ? ' [' + ch.unit + ']' : '');
    box.appendChild(h);
    host.appendChild(box);
    var series = [{}];
    ch.series.forEach(function (s, i) {
      var color = s.color || palette[i % palette.length];
      var o = { label: s.label, stroke: color, width: 1.5 };
      if (s.style === 'step') o.paths = uPlot.paths.stepped({ align: 1 });
      if (s.style === 'points') {
        o.paths = function () { return null; };
        o.points = { show: true, size: 10, stroke: color, fill: color };
      }
      series.push(o);
    });
    var opts = {
      width: width(box),
      height: 230,
      series: series,
      scales: { x: { time: true } },
      axes: [{}, { size: 64 }],
      cursor: { drag: { x: true, y: false } },
    };
    plots.push({ box: box, plot: new uPlot(opts, ch.data, box) });
  });
  var pending = null;
  window.addEventListener('resize', function () {
    clearTimeout(pending);
    pending = setTimeout(function () {
      plots.forEach(function (p) { p.plot.setSize({ width: width(p.box), height: 230 }); });
    }, 150);
  });
  document.body.setAttribute('data-charts-rendered', String(plots.length));
})();
`;

export const REPORT_CSS = `
*{box-sizing:border-box}
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,Helvetica,Arial,sans-serif;margin:0;color:#1f2328;background:#f6f8fa}
main{max-width:1320px;margin:0 auto;padding:16px 20px 40px}
h1{font-size:22px;margin:8px 0}
h2{font-size:18px;margin:28px 0 8px;border-bottom:1px solid #d0d7de;padding-bottom:4px}
h3{font-size:14px;margin:4px 0 6px}
section{margin-bottom:8px}
.meta{color:#57606a}
.badge{display:inline-block;padding:2px 10px;border-radius:12px;color:#fff;font-weight:600;font-size:13px;vertical-align:middle}
.pass,.improvement{color:#1a7f37}.fail,.regression{color:#cf222e}
.badge.pass{background:#1a7f37;color:#fff}.badge.fail{background:#cf222e;color:#fff}.badge.interrupted{background:#9a6700;color:#fff}.badge.unknown{background:#57606a;color:#fff}
.note,.warn{padding:8px 12px;border-radius:6px;margin:8px 0}
.note{background:#ddf4ff;border:1px solid #54aeff}
.warn{background:#fff8c5;border:1px solid #d4a72c}
.sentence{font-size:16px;font-weight:600}
table{border-collapse:collapse;background:#fff;margin:6px 0 10px;font-size:13px}
th,td{border:1px solid #d0d7de;padding:3px 8px;text-align:left;vertical-align:top}
td.n{text-align:right;font-variant-numeric:tabular-nums}
th{background:#f0f3f6}
.charts{display:grid;grid-template-columns:repeat(auto-fill,minmax(560px,1fr));gap:12px}
.chart{background:#fff;border:1px solid #d0d7de;border-radius:6px;padding:8px;min-width:0}
pre{background:#fff;border:1px solid #d0d7de;padding:8px;overflow:auto;max-height:480px;font-size:12px;white-space:pre-wrap;word-break:break-all}
.cols{display:flex;flex-wrap:wrap;gap:24px}
.empty{color:#57606a;font-style:italic}
`;
