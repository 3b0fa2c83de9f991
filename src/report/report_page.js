// The HTML report's timeline (report/html_report.cpp embeds this file): reads the run's data from
// the page's <script type="application/json" id="run-data"> and draws it with Chart.js, inlined
// before this script. The faults are shaded bands with their labels, guardrail trips, halts and
// errors vertical lines, on every chart; the x axis is seconds since the run started. When every
// chart is drawn, window.chaosplusReportReady is true (the browser tests wait for it).
(function () {
  'use strict';
  var data = JSON.parse(document.getElementById('run-data').textContent);
  var end = Math.max(data.run.duration_s, 1);
  var palette = ['#2563eb', '#d97706', '#059669', '#dc2626', '#7c3aed', '#0891b2', '#65a30d', '#db2777'];
  var bandPalette = ['217,119,6', '220,38,38', '124,58,237', '8,145,178', '101,163,13', '219,39,119'];
  var markColors = { guardrail: '#dc2626', halt: '#111827', error: '#b91c1c', fault_failed: '#9333ea' };

  // Our own plugin: the faults as shaded rectangles behind the lines, the marks as vertical lines
  // in front of them, each labelled.
  var timelinePlugin = {
    id: 'chaosplusTimeline',
    beforeDatasetsDraw: function (chart) {
      var x = chart.scales.x;
      var area = chart.chartArea;
      var ctx = chart.ctx;
      ctx.save();
      ctx.font = '11px sans-serif';
      // Phase boundaries: dotted grey lines, the phase's name at the foot of each.
      data.phases.forEach(function (phase) {
        var from = x.getPixelForValue(phase.from);
        if (from < area.left || from > area.right) return;
        ctx.strokeStyle = '#9ca3af';
        ctx.fillStyle = '#6b7280';
        ctx.lineWidth = 1;
        ctx.setLineDash([2, 3]);
        ctx.beginPath();
        ctx.moveTo(from, area.top);
        ctx.lineTo(from, area.bottom);
        ctx.stroke();
        ctx.setLineDash([]);
        ctx.fillText(phase.name, from + 3, area.bottom - 4);
      });
      data.faults.forEach(function (fault, i) {
        var from = Math.max(x.getPixelForValue(fault.from), area.left);
        var to = Math.min(x.getPixelForValue(fault.to === null ? end : fault.to), area.right);
        if (to <= from) return;
        var rgb = bandPalette[i % bandPalette.length];
        ctx.fillStyle = 'rgba(' + rgb + ',0.13)';
        ctx.fillRect(from, area.top, to - from, area.bottom - area.top);
        ctx.fillStyle = 'rgba(' + rgb + ',0.95)';
        ctx.fillText(fault.label, from + 3, area.top + 11 + (i % 3) * 12, Math.max(to - from - 4, 40));
      });
      ctx.restore();
    },
    afterDatasetsDraw: function (chart) {
      var x = chart.scales.x;
      var area = chart.chartArea;
      var ctx = chart.ctx;
      ctx.save();
      ctx.font = '11px sans-serif';
      data.marks.forEach(function (mark, i) {
        var at = x.getPixelForValue(mark.at);
        if (at < area.left || at > area.right) return;
        ctx.strokeStyle = markColors[mark.kind] || '#111827';
        ctx.fillStyle = ctx.strokeStyle;
        ctx.lineWidth = 1.5;
        ctx.setLineDash(mark.kind === 'halt' ? [4, 3] : []);
        ctx.beginPath();
        ctx.moveTo(at, area.top);
        ctx.lineTo(at, area.bottom);
        ctx.stroke();
        var label = mark.short;
        var width = ctx.measureText(label).width;
        var left = at + 3 + width > area.right ? at - 3 - width : at + 3;
        ctx.fillText(label, left, area.bottom - 16 - (i % 3) * 12);
      });
      ctx.restore();
    }
  };

  function axisX() {
    return { type: 'linear', min: 0, max: end, title: { display: true, text: 'seconds since the run started' } };
  }

  function draw(name, datasets, y) {
    var canvas = document.querySelector('canvas[data-chart="' + name + '"]');
    if (!canvas) return null;
    return new Chart(canvas, {
      type: 'line',
      data: { datasets: datasets },
      options: {
        animation: false,
        responsive: true,
        maintainAspectRatio: false,
        parsing: false,
        normalized: true,
        interaction: { mode: 'nearest', intersect: false },
        plugins: { legend: { position: 'bottom' }, tooltip: { enabled: true } },
        scales: { x: axisX(), y: y }
      },
      plugins: [timelinePlugin]
    });
  }

  function series(label, points, i, extra) {
    var set = {
      label: label,
      data: points,
      borderColor: palette[i % palette.length],
      backgroundColor: palette[i % palette.length],
      borderWidth: 1.5,
      pointRadius: 1.5,
      tension: 0
    };
    for (var key in extra) set[key] = extra[key];
    return set;
  }

  var charts = [];
  function keep(chart) {
    if (chart) charts.push(chart);
  }

  keep(draw('probe-success', data.probes.map(function (probe, i) {
    return series(probe.probe + ' ok', probe.points.map(function (p) { return { x: p[0], y: p[1] }; }), i,
                  { stepped: true, pointRadius: 2 });
  }), {
    min: -0.1,
    max: 1.1,
    afterBuildTicks: function (axis) { axis.ticks = [{ value: 0 }, { value: 1 }]; },
    ticks: { callback: function (v) { return v === 1 ? 'ok' : 'failed'; } }
  }));

  keep(draw('probe-latency', data.probes.map(function (probe, i) {
    return series(probe.probe, probe.points.map(function (p) { return { x: p[0], y: p[2] }; }), i, {});
  }), { beginAtZero: true, title: { display: true, text: 'latency (ms)' } }));

  var rate = [];
  var latency = [];
  data.loads.forEach(function (load, i) {
    rate.push(series(load.load + ' requests/s', load.ticks.map(function (t) { return { x: t.t, y: t.rps }; }), 2 * i, {}));
    rate.push(series(load.load + ' errors/s', load.ticks.map(function (t) { return { x: t.t, y: t.errors }; }), 2 * i + 3,
                     { borderDash: [5, 3] }));
    latency.push(series(load.load + ' p50', load.ticks.map(function (t) { return { x: t.t, y: t.p50 }; }), 2 * i, {}));
    latency.push(series(load.load + ' p99', load.ticks.map(function (t) { return { x: t.t, y: t.p99 }; }), 2 * i + 1,
                        { borderDash: [5, 3] }));
  });
  keep(draw('load-rate', rate, { beginAtZero: true, title: { display: true, text: 'per second' } }));
  keep(draw('load-latency', latency, { beginAtZero: true, title: { display: true, text: 'latency (ms)' } }));

  document.body.setAttribute('data-charts-drawn', String(charts.length));
  window.chaosplusReportReady = true;
})();
