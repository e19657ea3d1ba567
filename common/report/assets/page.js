// The timeline. Times in the data are ms; "domain" x is ms on the time axis and the step
// position (step k spans k+0.1 .. k+0.9) on the step-order axis.
(function () {
  'use strict';
  var D = JSON.parse(document.getElementById('nodelab-data').textContent);
  var S = D.steps, NS = S.id.length, L = D.lanes, NL = L.length;
  var P = D.spans, NP = P.lane.length;
  var body = document.body;
  var cv = document.getElementById('timeline'), cx = cv.getContext('2d');
  var wrap = document.getElementById('wrap'), tip = document.getElementById('tip');
  var slider = document.getElementById('slider'), info = document.getElementById('stepinfo');
  var GUT = 168, RIGHT = 12, AXIS_H = 20, ITER_H = 16, LANE_H = 24, HEAD_H = 20, ROW_H = 30;
  var cur = 0, axis = D.defaultAxis, view = null, W = 0, H = 0, dpr = 1;
  var queueRows = D.series.filter(function (s) { return s.group === 'queue' && s.max > 0; });
  var emptyQueues = D.series.filter(function (s) { return s.group === 'queue' && !(s.max > 0); });
  var counterRows = D.series.filter(function (s) { return s.group === 'counter'; });
  var laneTop = AXIS_H + ITER_H;
  var queueTop = laneTop + NL * LANE_H + 6;
  var counterTop = queueTop + HEAD_H + Math.max(1, queueRows.length) * ROW_H;
  H = counterTop + (counterRows.length ? HEAD_H + counterRows.length * ROW_H : 0) + 6;
  var barsDrawn = [];

  // ---- indexes ----
  var laneSteps = [], laneSpans = [], drainKids = {}, logsOf = {};
  for (var i = 0; i < NL; i++) { laneSteps.push([]); laneSpans.push([]); }
  for (var k = 0; k < NS; k++) {
    laneSteps[S.lane[k]].push(k);
    var p = S.drainedBy[k];
    if (p >= 0) (drainKids[p] = drainKids[p] || []).push(k);
  }
  for (var j = 0; j < NP; j++) laneSpans[P.lane[j]].push(j);
  laneSpans.forEach(function (a) { a.sort(function (x, y) { return P.t0[x] - P.t0[y]; }); });
  D.logs.forEach(function (l, idx) { if (l[0] >= 0) (logsOf[l[0]] = logsOf[l[0]] || []).push(idx); });

  // Step-order axis: time -> position, piecewise linear through each step's start and end.
  var kt = [], kp = [];
  (function () {
    function push(t, p) { if (kt.length && t < kt[kt.length - 1]) return; kt.push(t); kp.push(p); }
    for (var k = 0; k < NS; k++) { push(S.t0[k], k + 0.1); push(S.t1[k], k + 0.9); }
  })();
  function pos(t) {
    if (axis === 'time') return t;
    var n = kt.length;
    if (!n) return 0;
    if (t <= kt[0]) return kt[0] > 0 ? kp[0] * Math.max(0, t) / kt[0] : kp[0];
    if (t >= kt[n - 1]) return Math.min(Math.max(NS, 1), kp[n - 1] + 0.1);
    var lo = 0, hi = n - 1;
    while (hi - lo > 1) { var m = (lo + hi) >> 1; if (kt[m] <= t) lo = m; else hi = m; }
    return kp[lo] + (kp[hi] - kp[lo]) * (t - kt[lo]) / (kt[hi] - kt[lo]);
  }
  function sx0(k) { return axis === 'time' ? S.t0[k] : k + 0.1; }
  function sx1(k) { return axis === 'time' ? S.t1[k] : k + 0.9; }
  function extent() {
    if (axis === 'time') { var e = Math.max(D.end_ms, 0.001); return [-e * 0.005, e * 1.01]; }
    return [0, Math.max(NS, 1)];
  }
  function PW() { return Math.max(10, W - GUT - RIGHT); }
  function px(x) { return GUT + (x - view[0]) / (view[1] - view[0]) * PW(); }
  function dom(X) { return view[0] + (X - GUT) / PW() * (view[1] - view[0]); }

  // ---- formatting ----
  function esc(s) { return String(s).replace(/[&<>"']/g, function (c) { return {'&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;'}[c]; }); }
  function fms(v) {
    var a = Math.abs(v);
    return a >= 100 ? v.toFixed(1) : a >= 1 ? v.toFixed(2) : a >= 0.01 ? v.toFixed(3) : v.toFixed(4);
  }
  function fnum(v, name) {
    if (/bytes/i.test(name || '')) {
      var u = ['B', 'KiB', 'MiB', 'GiB'], i = 0;
      while (Math.abs(v) >= 1024 && i < 3) { v /= 1024; i++; }
      return (i ? v.toFixed(1) : String(Math.round(v))) + ' ' + u[i];
    }
    return Math.round(v) === v ? v.toLocaleString('en-US') : v.toFixed(3);
  }
  function stepName(k) { return 'step ' + (k + 1); }
  function labelOf(k) { return D.labels[S.label[k]]; }
  // On a bar: what the scenario wrote ("nextTick (line 27)"), not the callback kind first.
  function shortLabel(text) { var i = text.indexOf(' \u00b7 '); return i >= 0 ? text.slice(i + 3) : text; }
  function valueAt(s, t) {
    var lo = -1, hi = s.t.length;
    while (hi - lo > 1) { var m = (lo + hi) >> 1; if (s.t[m] <= t) lo = m; else hi = m; }
    return lo < 0 ? 0 : s.v[lo];
  }
  function niceStep(raw) {
    var p = Math.pow(10, Math.floor(Math.log10(raw))), f = raw / p;
    return (f <= 1 ? 1 : f <= 2 ? 2 : f <= 5 ? 5 : 10) * p;
  }

  // ---- drawing ----
  function resize() {
    dpr = window.devicePixelRatio || 1;
    W = Math.max(400, wrap.clientWidth);
    cv.width = Math.round(W * dpr); cv.height = Math.round(H * dpr);
    cv.style.width = W + 'px'; cv.style.height = H + 'px';
  }

  function drawAxis() {
    cx.fillStyle = '#6e6e73'; cx.strokeStyle = '#e4e4e8'; cx.font = '11px system-ui, sans-serif';
    cx.textBaseline = 'middle';
    var bottom = H - 4;
    if (axis === 'time') {
      var span = view[1] - view[0], st = niceStep(span / Math.max(1, PW() / 110));
      var dec = st >= 1 ? 0 : Math.min(6, Math.ceil(-Math.log10(st)));
      for (var t = Math.ceil(view[0] / st) * st; t <= view[1]; t += st) {
        var x = Math.round(px(t)) + 0.5;
        cx.beginPath(); cx.moveTo(x, AXIS_H - 4); cx.lineTo(x, bottom); cx.stroke();
        cx.fillText(t.toFixed(dec) + ' ms', x + 3, AXIS_H / 2);
      }
    } else {
      var st2 = Math.max(1, niceStep((view[1] - view[0]) / Math.max(1, PW() / 130)));
      for (var s = Math.ceil(view[0] / st2) * st2; s < view[1] && s < NS; s += st2) {
        var x2 = Math.round(px(s)) + 0.5;
        cx.beginPath(); cx.moveTo(x2, AXIS_H - 4); cx.lineTo(x2, bottom); cx.stroke();
        cx.fillText('#' + (s + 1) + ' +' + fms(S.t0[s]) + ' ms', x2 + 3, AXIS_H / 2);
      }
    }
    cx.fillStyle = '#1d1d1f'; cx.font = '600 11px system-ui, sans-serif';
    cx.fillText(axis === 'time' ? 'time (ms)' : 'step order', 6, AXIS_H / 2);
    cx.fillStyle = '#6e6e73'; cx.font = '11px system-ui, sans-serif';
    cx.fillText('loop iteration', 6, AXIS_H + ITER_H / 2);
    // Loop iterations: a dashed line where each one's first callback starts.
    // Through the lanes when they are few enough to read, else as ticks in their own row.
    var lastLine = -1e9, lastLabel = -1e9, it = D.iterations, xs = [];
    for (var i = 0; i < it.n.length; i++) {
      var xi = px(pos(it.t[i]) - (axis === 'time' ? 0 : 0.05));
      if (xi >= GUT && xi <= W - RIGHT) xs.push([xi, it.n[i]]);
    }
    var lineBottom = xs.length <= PW() / 12 ? queueTop - 2 : AXIS_H + ITER_H - 2;
    cx.strokeStyle = '#c8c8d0'; cx.setLineDash([3, 3]);
    for (var x_ = 0; x_ < xs.length; x_++) {
      var xi = xs[x_][0];
      if (xi - lastLine >= 3) {
        var xr = Math.round(xi) + 0.5;
        cx.beginPath(); cx.moveTo(xr, AXIS_H + 2); cx.lineTo(xr, lineBottom); cx.stroke();
        lastLine = xi;
      }
      var text = String(xs[x_][1]);
      if (xi - lastLabel >= cx.measureText(text).width + 8) {
        cx.fillText(text, xi + 2, AXIS_H + ITER_H / 2); lastLabel = xi;
      }
    }
    cx.setLineDash([]);
  }

  function drawLanes() {
    for (var i = 0; i < NL; i++) {
      var y = laneTop + i * LANE_H;
      cx.fillStyle = i % 2 ? '#f7f7f9' : '#fcfcfd';
      cx.fillRect(0, y, W, LANE_H);
      cx.fillStyle = L[i].color; cx.fillRect(4, y + 6, 4, LANE_H - 12);
      cx.fillStyle = '#1d1d1f'; cx.font = '600 12px system-ui, sans-serif'; cx.textBaseline = 'middle';
      cx.fillText(L[i].name, 12, y + LANE_H / 2);
    }
  }

  function clipX(x) { return Math.max(GUT, Math.min(W - RIGHT, x)); }

  function drawBars() {
    var v0 = view[0], v1 = view[1];
    barsDrawn = L.map(function () { return 0; });
    cx.save(); cx.beginPath(); cx.rect(GUT, 0, PW(), H); cx.clip();
    cx.font = '11px system-ui, sans-serif'; cx.textBaseline = 'middle';
    // Drain tails, under the bars.
    for (var k = 0; k < NS; k++) {
      if (!S.drainN[k]) continue;
      var a = sx1(k), b = pos(S.drainEnd[k]);
      if (b < v0 || a > v1) continue;
      var y = laneTop + S.lane[k] * LANE_H;
      var x0 = px(a), x1 = Math.max(x0 + 2, px(b));
      cx.fillStyle = 'rgba(29,29,31,0.55)'; cx.fillRect(x0, y + LANE_H - 7, x1 - x0, 3);
    }
    // Connectors from a macrotask to the callbacks it drained, under the bars (a one-pixel
    // bar must stay visible): all of them when few are in view.
    var kidsInView = 0;
    for (var k0 = 0; k0 < NS; k0++) {
      if (S.drainedBy[k0] >= 0 && sx1(k0) >= v0 && sx0(k0) <= v1) kidsInView++;
    }
    cx.strokeStyle = 'rgba(110,110,115,0.7)'; cx.lineWidth = 1;
    function connect(p, c) {
      var xa = px(sx1(p)), ya = laneTop + S.lane[p] * LANE_H + LANE_H - 5;
      var xb = px(sx0(c)), yb = laneTop + S.lane[c] * LANE_H + 4;
      cx.beginPath(); cx.moveTo(xa, ya); cx.lineTo(xb, yb); cx.stroke();
    }
    if (kidsInView <= 400) {
      for (var k3 = 0; k3 < NS; k3++) {
        var p3 = S.drainedBy[k3];
        if (p3 < 0 || sx1(k3) < v0 || sx0(p3) > v1) continue;
        connect(p3, k3);
      }
    }
    for (var k2 = 0; k2 < NS; k2++) {
      var a2 = sx0(k2), b2 = sx1(k2);
      if (b2 < v0 || a2 > v1) continue;
      var lane = S.lane[k2], y2 = laneTop + lane * LANE_H;
      // Whole pixels: a bar narrower than one would be anti-aliased into another colour.
      var X0 = Math.floor(px(a2)), X1 = Math.max(X0 + 1, Math.ceil(px(b2)));
      cx.globalAlpha = S.n[k2] > 1 ? 0.7 : 1;
      cx.fillStyle = L[lane].color; cx.fillRect(X0, y2 + 4, X1 - X0, LANE_H - 12);
      cx.globalAlpha = 1;
      barsDrawn[lane]++;
      var w = Math.min(X1, W - RIGHT) - Math.max(X0, GUT);
      if (w > 30) {
        var text = (S.n[k2] > 1 ? '\u00d7' + S.n[k2].toLocaleString('en-US') + ' ' : '') + shortLabel(labelOf(k2));
        var max = Math.floor((w - 6) / 6);
        if (text.length > max) text = text.slice(0, Math.max(1, max - 1)) + '\u2026';
        cx.fillStyle = '#fff'; cx.fillText(text, Math.max(X0, GUT) + 3, y2 + LANE_H / 2 - 2);
      }
    }
    // Threadpool threads: the wait in the pool's queue, then the run.
    for (var s = 0; s < NP; s++) {
      var q = pos(P.queued[s]), r0 = pos(P.t0[s]), r1 = pos(P.t1[s]);
      if (r1 < v0 || q > v1) continue;
      var ys = laneTop + P.lane[s] * LANE_H;
      var xq = px(q), xs = Math.floor(px(r0)), xe = Math.max(xs + 1, Math.ceil(px(r1)));
      cx.strokeStyle = '#9a9aa2'; cx.beginPath();
      cx.moveTo(xq, ys + LANE_H / 2 - 2); cx.lineTo(xs, ys + LANE_H / 2 - 2);
      cx.moveTo(Math.round(xq) + 0.5, ys + 7); cx.lineTo(Math.round(xq) + 0.5, ys + LANE_H - 11); cx.stroke();
      cx.globalAlpha = P.n[s] > 1 ? 0.7 : 1;
      cx.fillStyle = L[P.lane[s]].color; cx.fillRect(xs, ys + 4, xe - xs, LANE_H - 12);
      cx.globalAlpha = 1;
      barsDrawn[P.lane[s]]++;
      var ws = Math.min(xe, W - RIGHT) - Math.max(xs, GUT);
      if (ws > 30) {
        var st = (P.n[s] > 1 ? '\u00d7' + P.n[s] + ' ' : '') + D.labels[P.label[s]];
        var mx = Math.floor((ws - 6) / 6);
        if (st.length > mx) st = st.slice(0, Math.max(1, mx - 1)) + '\u2026';
        cx.fillStyle = '#fff'; cx.fillText(st, Math.max(xs, GUT) + 3, ys + LANE_H / 2 - 2);
      }
    }
    // The selected step: outlined; the one that scheduled it dashed; its drain joined.
    if (NS) {
      var y3 = laneTop + S.lane[cur] * LANE_H;
      var c0 = px(sx0(cur)), c1 = Math.max(c0 + 1, px(sx1(cur)));
      cx.strokeStyle = '#1d1d1f'; cx.lineWidth = 2;
      cx.strokeRect(c0 - 2, y3 + 2, c1 - c0 + 4, LANE_H - 8);
      var par = S.parent[cur];
      if (par >= 0 && par !== cur) {
        var yp = laneTop + S.lane[par] * LANE_H, p0 = px(sx0(par)), p1 = Math.max(p0 + 1, px(sx1(par)));
        cx.lineWidth = 1.5; cx.setLineDash([4, 3]);
        cx.strokeRect(p0 - 2, yp + 2, p1 - p0 + 4, LANE_H - 8); cx.setLineDash([]);
      }
      cx.lineWidth = 1.5; cx.strokeStyle = '#1d1d1f';
      if (S.drainedBy[cur] >= 0) connect(S.drainedBy[cur], cur);
      (drainKids[cur] || []).forEach(function (c) { connect(cur, c); });
      cx.lineWidth = 1;
    }
    cx.restore();
  }

  function drawRows(rows, top, title, isQueue) {
    cx.fillStyle = '#1d1d1f'; cx.font = '600 12px system-ui, sans-serif'; cx.textBaseline = 'middle';
    cx.fillText(title, 6, top + HEAD_H / 2);
    if (isQueue && !rows.length) {
      cx.fillStyle = '#6e6e73'; cx.font = '11px system-ui, sans-serif';
      cx.fillText('every queue stayed empty', GUT, top + HEAD_H + ROW_H / 2);
      return;
    }
    if (isQueue && emptyQueues.length) {
      cx.fillStyle = '#6e6e73'; cx.font = '11px system-ui, sans-serif';
      cx.fillText('(always empty: ' + emptyQueues.map(function (s) { return s.name; }).join(', ') + ')', GUT, top + HEAD_H / 2);
    }
    var tcur = NS ? S.t1[cur] : 0;
    rows.forEach(function (s, i) {
      var y = top + HEAD_H + i * ROW_H, base = y + ROW_H - 4, h = ROW_H - 8;
      cx.fillStyle = i % 2 ? '#f7f7f9' : '#fcfcfd'; cx.fillRect(0, y, W, ROW_H);
      var now = isQueue && s.queue !== undefined && NS ? D.queues.after[s.queue][cur] : valueAt(s, tcur);
      cx.fillStyle = s.color; cx.fillRect(4, y + 6, 4, ROW_H - 12);
      cx.fillStyle = '#1d1d1f'; cx.font = '12px system-ui, sans-serif';
      cx.fillText(s.name, 12, y + 10);
      cx.fillStyle = '#6e6e73'; cx.font = '11px system-ui, sans-serif';
      cx.fillText('now ' + fnum(now, s.name) + ' \u00b7 max ' + fnum(s.max, s.name), 12, y + 22);
      if (!s.t.length) return;
      var max = s.max > 0 ? s.max : 1;
      cx.save(); cx.beginPath(); cx.rect(GUT, y, PW(), ROW_H); cx.clip();
      if (s.env) {
        // One bucket per entry: light up to its highest value, darker up to its lowest.
        cx.fillStyle = s.color;
        for (var b = 0; b < s.t.length; b++) {
          var e0 = px(pos(s.t[b])), e1 = b + 1 < s.t.length ? px(pos(s.t[b + 1])) : W - RIGHT;
          if (e1 < GUT || e0 > W - RIGHT) continue;
          var ew = Math.max(1, e1 - e0), hh = Math.max(0, s.hi[b]) / max * h, lh = Math.max(0, s.lo[b]) / max * h;
          cx.globalAlpha = 0.35; cx.fillRect(e0, base - hh, ew, hh);
          cx.globalAlpha = 0.8; cx.fillRect(e0, base - lh, ew, Math.max(lh, 1));
        }
        cx.globalAlpha = 1; cx.restore();
        return;
      }
      cx.beginPath(); cx.moveTo(GUT, base);
      var prevY = base, started = false;
      for (var k = 0; k < s.t.length; k++) {
        var x = px(pos(s.t[k])), yv = base - Math.max(0, s.v[k]) / max * h;
        if (x < GUT) { prevY = yv; continue; }
        if (!started) { cx.lineTo(GUT, prevY); started = true; }
        if (x > W - RIGHT) break;
        cx.lineTo(x, prevY); cx.lineTo(x, yv); prevY = yv;
      }
      if (!started) cx.lineTo(GUT, prevY);
      cx.lineTo(W - RIGHT, prevY); cx.lineTo(W - RIGHT, base); cx.closePath();
      cx.globalAlpha = 0.35; cx.fillStyle = s.color; cx.fill(); cx.globalAlpha = 1;
      cx.strokeStyle = s.color; cx.lineWidth = 1.2; cx.stroke(); cx.lineWidth = 1;
      cx.restore();
    });
  }

  function drawCursor() {
    if (!NS) return;
    var x = Math.round(px(sx0(cur))) + 0.5;
    if (x < GUT || x > W - RIGHT) return;
    cx.strokeStyle = 'rgba(29,29,31,0.6)'; cx.setLineDash([2, 2]);
    cx.beginPath(); cx.moveTo(x, AXIS_H); cx.lineTo(x, H - 4); cx.stroke(); cx.setLineDash([]);
  }

  function draw() {
    cx.setTransform(dpr, 0, 0, dpr, 0, 0);
    cx.fillStyle = '#fff'; cx.fillRect(0, 0, W, H);
    drawLanes();
    drawAxis();
    drawBars();
    drawRows(queueRows, queueTop, 'queue depths', true);
    if (counterRows.length) drawRows(counterRows, counterTop, 'lab counters', false);
    drawCursor();
    cx.strokeStyle = '#d9d9de'; cx.beginPath(); cx.moveTo(GUT - 0.5, AXIS_H); cx.lineTo(GUT - 0.5, H); cx.stroke();
  }
  var pending = false;
  function redraw() {
    if (pending) return;
    pending = true;
    window.requestAnimationFrame(function () { pending = false; draw(); });
  }

  // ---- the step panel, the logs ----
  function queueText(k) {
    var out = [];
    D.queues.names.forEach(function (n, q) { out.push('<span class="q">' + esc(n) + ' <b>' + D.queues.after[q][k] + '</b></span>'); });
    var pool = D.series.filter(function (s) { return s.name === 'threadpool queue'; })[0];
    if (pool && pool.max > 0) out.push('<span class="q">threadpool queue <b>' + valueAt(pool, S.t1[k]) + '</b></span>');
    return out.join('');
  }
  function showStep() {
    document.getElementById('stepno').textContent = NS ? stepName(cur) + ' of ' + NS.toLocaleString('en-US') : 'no steps';
    if (!NS) { info.textContent = 'No callbacks were recorded.'; return; }
    var k = cur, lane = L[S.lane[k]], parts = [];
    var head = '<b>' + stepName(k) + '</b> \u00b7 iteration ' + S.iter[k] + ' \u00b7 <span class="lane" style="color:' + lane.color + '">' + esc(lane.name) + '</span> \u00b7 ' + esc(labelOf(k));
    if (S.n[k] > 1) head += ' \u00b7 <b>\u00d7' + S.n[k].toLocaleString('en-US') + '</b> callbacks (#' + S.id[k] + ' on), busy ' + fms(S.busy[k]) + ' ms';
    else head += ' \u00b7 callback #' + S.id[k];
    parts.push('started +' + fms(S.t0[k]) + ' ms, ' + (S.n[k] > 1 ? 'last ended +' + fms(S.t1[k]) + ' ms' : 'ran ' + fms(S.t1[k] - S.t0[k]) + ' ms'));
    if (S.late[k] >= 0) parts.push('<b>' + fms(S.late[k]) + ' ms late</b>');
    if (S.parent[k] >= 0 && S.parent[k] !== k) parts.push('scheduled by ' + stepName(S.parent[k]) + ' (' + esc(labelOf(S.parent[k])) + ')');
    if (S.drainedBy[k] >= 0) parts.push('drained after ' + stepName(S.drainedBy[k]) + ' (' + esc(labelOf(S.drainedBy[k])) + ')');
    if (S.drainN[k]) parts.push('then drained ' + S.drainN[k].toLocaleString('en-US') + ' nextTick/microtask callbacks until +' + fms(S.drainEnd[k]) + ' ms');
    var logs = (logsOf[k] || []).slice(0, 4).map(function (i) { return '<span class="log">&gt; ' + esc(D.logs[i][2]) + '</span>'; });
    if ((logsOf[k] || []).length > 4) logs.push('\u2026');
    info.innerHTML = head + '<br>' + parts.join(' \u00b7 ') + '<br>queues after it: ' + queueText(k) + (logs.length ? '<br>' + logs.join('<br>') : '');
  }
  var logBox = document.getElementById('logs'), logEls = [];
  function buildLogs() {
    var frag = document.createDocumentFragment();
    D.logs.forEach(function (l, idx) {
      var d = document.createElement('div'), st = l[0];
      var lane = st >= 0 ? L[S.lane[st]] : L[0];
      d.innerHTML = '<span class="t">' + ('+' + fms(l[1])).padStart(10) + ' ms</span> <span class="ph" style="color:' + lane.color + '">' + esc(lane.name) + '</span> ' + esc(l[2]);
      d.dataset.step = st;
      d.addEventListener('click', function () { if (st >= 0) setStep(st, true); });
      frag.appendChild(d); logEls.push(d);
    });
    if (!D.logs.length) { var e = document.createElement('div'); e.textContent = '(nothing was logged)'; frag.appendChild(e); }
    logBox.appendChild(frag);
  }
  function showLogs() {
    var first = null;
    for (var i = 0; i < logEls.length; i++) {
      var st = D.logs[i][0], el = logEls[i];
      var cls = st === cur ? 'cur' : st > cur ? 'future' : '';
      if (el.className !== cls) el.className = cls;
      if (st === cur && !first) first = el;
    }
    if (first) {
      var top = first.offsetTop - logBox.offsetTop;
      if (top < logBox.scrollTop || top > logBox.scrollTop + logBox.clientHeight - 20) logBox.scrollTop = Math.max(0, top - 40);
    }
  }

  function setStep(k, follow) {
    if (!NS) return;
    cur = Math.max(0, Math.min(NS - 1, k));
    if (String(slider.value) !== String(cur)) slider.value = cur;
    if (follow) {
      var a = sx0(cur), b = sx1(cur), w = view[1] - view[0];
      if (b < view[0] || a > view[1]) { view = [a - w / 2, a + w / 2]; clampView(); }
    }
    showStep(); showLogs(); redraw();
  }

  // ---- zoom, pan, axis ----
  function clampView() {
    var e = extent(), w = view[1] - view[0], full = e[1] - e[0];
    var minW = axis === 'time' ? Math.max(full * 1e-7, 1e-5) : 2;
    if (w > full) { view = e.slice(); return; }
    if (w < minW) { var c = (view[0] + view[1]) / 2; view = [c - minW / 2, c + minW / 2]; w = minW; }
    if (view[0] < e[0]) view = [e[0], e[0] + w];
    if (view[1] > e[1]) view = [e[1] - w, e[1]];
  }
  function zoom(f, at) {
    var c = at === undefined ? (NS ? (sx0(cur) + sx1(cur)) / 2 : (view[0] + view[1]) / 2) : at;
    view = [c - (c - view[0]) * f, c + (view[1] - c) * f];
    clampView(); redraw();
  }
  function setAxis(a) {
    if (NS && view) {
      // Keep the selected step in view across the switch.
      axis = a; view = extent();
    } else { axis = a; view = extent(); }
    document.getElementById('axis-order').className = 'toggle' + (axis === 'order' ? ' on' : '');
    document.getElementById('axis-time').className = 'toggle' + (axis === 'time' ? ' on' : '');
    redraw();
  }

  function hit(X, Y) {
    var lane = Math.floor((Y - laneTop) / LANE_H);
    if (X < GUT || lane < 0 || lane >= NL) return null;
    var xd = dom(X), tol = 3 * (view[1] - view[0]) / PW();
    function find(list, a, b) {
      var lo = -1, hi = list.length;
      while (hi - lo > 1) { var m = (lo + hi) >> 1; if (a(list[m]) <= xd + tol) lo = m; else hi = m; }
      for (var i = lo; i >= 0 && i > lo - 64; i--) if (b(list[i]) >= xd - tol) return list[i];
      return -1;
    }
    var k = find(laneSteps[lane], sx0, function (k) { return Math.max(sx1(k), sx0(k)); });
    if (k >= 0) return {step: k};
    var s = find(laneSpans[lane], function (s) { return pos(P.t0[s]); }, function (s) { return pos(P.t1[s]); });
    if (s >= 0) return {span: s};
    return null;
  }
  function tipText(h) {
    if (h.step !== undefined) {
      var k = h.step, t = stepName(k) + ': ' + labelOf(k) + '\n' + L[S.lane[k]].name + ' \u00b7 iteration ' + S.iter[k] + ' \u00b7 +' + fms(S.t0[k]) + ' ms';
      if (S.n[k] > 1) t += '\n\u00d7' + S.n[k].toLocaleString('en-US') + ' callbacks until +' + fms(S.t1[k]) + ' ms, busy ' + fms(S.busy[k]) + ' ms';
      else t += ', ran ' + fms(S.t1[k] - S.t0[k]) + ' ms';
      if (S.late[k] >= 0) t += '\n' + fms(S.late[k]) + ' ms late';
      if (S.drainN[k]) t += '\ndrained ' + S.drainN[k].toLocaleString('en-US') + ' callbacks after it';
      return t;
    }
    var s = h.span;
    return (P.n[s] > 1 ? '\u00d7' + P.n[s] + ' ' : '') + D.labels[P.label[s]] + '\n' + L[P.lane[s]].name + ' \u00b7 queued +' + fms(P.queued[s]) + ' ms, started +' + fms(P.t0[s]) + ' ms\n' + (P.n[s] > 1 ? 'longest wait ' : 'waited ') + fms(P.wait[s]) + ' ms, ran until +' + fms(P.t1[s]) + ' ms';
  }

  var drag = null;
  cv.addEventListener('mousedown', function (e) { drag = {x: e.clientX, view: view.slice(), moved: false}; });
  window.addEventListener('mouseup', function (e) {
    if (drag && !drag.moved) {
      var r = cv.getBoundingClientRect(), h = hit(e.clientX - r.left, e.clientY - r.top);
      if (h && h.step !== undefined && e.target === cv) setStep(h.step, false);
    }
    drag = null;
  });
  cv.addEventListener('mousemove', function (e) {
    var r = cv.getBoundingClientRect(), X = e.clientX - r.left, Y = e.clientY - r.top;
    if (drag && Math.abs(e.clientX - drag.x) > 3) {
      drag.moved = true;
      var d = (e.clientX - drag.x) / PW() * (drag.view[1] - drag.view[0]);
      view = [drag.view[0] - d, drag.view[1] - d]; clampView(); redraw();
      tip.hidden = true; return;
    }
    var h = hit(X, Y);
    if (!h) { tip.hidden = true; return; }
    tip.textContent = tipText(h); tip.hidden = false;
    var tx = X + 14, ty = Y + 14;
    if (tx + tip.offsetWidth > W) tx = Math.max(0, X - tip.offsetWidth - 10);
    tip.style.left = tx + 'px'; tip.style.top = ty + 'px';
  });
  cv.addEventListener('mouseleave', function () { tip.hidden = true; });
  cv.addEventListener('wheel', function (e) {
    var r = cv.getBoundingClientRect(), X = e.clientX - r.left;
    if (X < GUT) return;
    e.preventDefault();
    zoom(Math.pow(1.0015, e.deltaY), dom(X));
  }, {passive: false});
  cv.addEventListener('dblclick', function () { view = extent(); redraw(); });
  slider.addEventListener('input', function () { setStep(Number(slider.value), true); });
  document.getElementById('prev').addEventListener('click', function () { setStep(cur - 1, true); });
  document.getElementById('next').addEventListener('click', function () { setStep(cur + 1, true); });
  document.getElementById('axis-order').addEventListener('click', function () { setAxis('order'); });
  document.getElementById('axis-time').addEventListener('click', function () { setAxis('time'); });
  document.getElementById('zoom-fit').addEventListener('click', function () { view = extent(); redraw(); });
  document.getElementById('zoom-in').addEventListener('click', function () { zoom(0.5); });
  document.getElementById('zoom-out').addEventListener('click', function () { zoom(2); });
  document.addEventListener('keydown', function (e) {
    if (e.altKey || e.ctrlKey || e.metaKey) return;
    if (e.target === slider && /Arrow|Home|End|Page/.test(e.key)) return;  // the slider moves itself
    var step = e.shiftKey ? 10 : 1;
    if (e.key === 'ArrowRight') setStep(cur + step, true);
    else if (e.key === 'ArrowLeft') setStep(cur - step, true);
    else if (e.key === 'Home') setStep(0, true);
    else if (e.key === 'End') setStep(NS - 1, true);
    else if (e.key === '+' || e.key === '=') zoom(0.5);
    else if (e.key === '-') zoom(2);
    else if (e.key === '0') { view = extent(); redraw(); }
    else return;
    e.preventDefault();
  });
  window.addEventListener('resize', function () { resize(); redraw(); });

  // ---- first drawing ----
  slider.max = Math.max(0, NS - 1);
  slider.disabled = NS === 0;
  buildLogs();
  resize();
  setAxis(axis);
  setStep(0, false);
  if (!NS) showStep();
  draw();
  var r = cv.getBoundingClientRect();
  body.dataset.lanes = JSON.stringify(L.map(function (l, i) {
    return {name: l.name, left: Math.round(r.left + window.scrollX + GUT), right: Math.round(r.left + window.scrollX + W - RIGHT),
            top: Math.round(r.top + window.scrollY + laneTop + i * LANE_H), height: LANE_H, bars: barsDrawn[i], color: l.color};
  }));
  body.dataset.errors = String(window.nodelabErrors.length);
  body.dataset.rendered = '1';
})();
