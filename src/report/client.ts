// The report page's own script (runs in the browser, offline). It reads the JSON data block and
// draws each chart with uPlot; every text it shows goes through textContent (uPlot does the same
// for legend labels), so nothing from the data is ever parsed as markup.

export const CLIENT_JS = `(function () {
  'use strict';
  var data = JSON.parse(document.getElementById('report-data').textContent);
  var palette = ['#0969da', '#cf222e', '#1a7f37', '#9a6700', '#8250df', '#bc4c00', '#1b7c83', '#57606a'];
  // Time axis steps in seconds: labels fall on round minutes and seconds since the start.
  var STEPS = [1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 10800, 21600, 43200, 86400];
  var t0 = data.t0;
  var plots = [];
  function width(box) {
    return Math.max(320, Math.floor(box.clientWidth) - 8);
  }
  function two(n) {
    return (n < 10 ? '0' : '') + n;
  }
  /** Seconds since the start as mm:ss (h:mm:ss past an hour). */
  function clock(t) {
    var s = Math.round(t - (t0 === null ? 0 : t0));
    var sign = s < 0 ? '-' : '';
    s = Math.abs(s);
    var h = Math.floor(s / 3600);
    var m = Math.floor((s % 3600) / 60);
    return sign + (h > 0 ? h + ':' + two(m) : two(m)) + ':' + two(s % 60);
  }
  function fmt(v) {
    if (v === null || v === undefined || isNaN(v)) return '–';
    var a = Math.abs(v);
    if (a >= 1000 || v === Math.round(v)) return Math.round(v).toLocaleString('en-US');
    if (a >= 100) return v.toFixed(0);
    if (a >= 10) return v.toFixed(1);
    return String(Number(v.toPrecision(3)));
  }
  function latest(values) {
    for (var i = values.length - 1; i >= 0; i--) if (values[i] !== null) return values[i];
    return null;
  }
  // Ticks counted from t0, not from the epoch, so they read 00:00, 00:30, 01:00.
  function splits(u, axisIdx, min, max, step) {
    var origin = t0 === null ? 0 : t0;
    var out = [];
    for (var v = origin + Math.ceil((min - origin) / step) * step; v <= max; v += step) out.push(v);
    return out;
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
    // Off the plot the legend shows each series' latest value, over it the value at the cursor.
    var series = [{
      label: 'since start',
      value: function (u, v, si, idx) { return idx === null ? 'latest' : clock(v); },
    }];
    ch.series.forEach(function (s, i) {
      var color = s.color || palette[i % palette.length];
      var last = latest(ch.data[i + 1]);
      var o = {
        label: s.label,
        stroke: color,
        width: 1.5,
        value: function (u, v, si, idx) { return fmt(idx === null ? last : v); },
      };
      if (s.style === 'step') o.paths = uPlot.paths.stepped({ align: 1 });
      if (s.style === 'points') {
        o.paths = function () { return null; };
        o.points = { show: true, size: 10, stroke: color, fill: color };
      }
      series.push(o);
    });
    var ticks = [];
    var opts = {
      width: width(box),
      height: 230,
      series: series,
      scales: { x: { time: false } },
      axes: [
        {
          space: 64,
          incrs: STEPS,
          splits: splits,
          values: function (u, vals) {
            ticks = vals;
            return vals.map(clock);
          },
        },
        { size: 64 },
      ],
      cursor: { drag: { x: true, y: false } },
      hooks: {
        // The drawn time labels and their x (CSS px), for a reader of the DOM (and the tests).
        draw: [function (u) {
          box.setAttribute('data-x-labels', ticks.map(clock).join(' '));
          box.setAttribute('data-x-px', ticks.map(function (t) { return Math.round(u.valToPos(t, 'x')); }).join(' '));
        }],
      },
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
