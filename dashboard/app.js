// The tailsweep dashboard: plain JavaScript over the coordinator's /v1 API
// (docs/dashboard.md). The admin token lives in this tab's sessionStorage
// and travels only in the Authorization header.
'use strict';

const TOKEN_KEY = 'tailsweep.admin-token';
const POLL_MS = 3000;
const COLORS = ['#1f77b4', '#d62728', '#2ca02c', '#9467bd', '#ff7f0e', '#8c564b', '#e377c2',
                '#17becf'];
let pollTimer = null;

// ---- the API ----

class ApiError extends Error {
  constructor(status, message) { super(message); this.status = status; }
}

async function api(method, path, body) {
  const token = sessionStorage.getItem(TOKEN_KEY);
  const response = await fetch(path, {
    method,
    headers: Object.assign({ 'Authorization': 'Bearer ' + token },
                           body === undefined ? {} : { 'Content-Type': 'application/json' }),
    body: body === undefined ? undefined : JSON.stringify(body),
    cache: 'no-store',
  });
  const text = await response.text();
  if (!response.ok) {
    let message = text;
    try { message = JSON.parse(text).error.message; } catch (e) { /* not JSON */ }
    if (response.status === 401) logout('The coordinator refused the token: ' + message);
    throw new ApiError(response.status, message);
  }
  const type = response.headers.get('Content-Type') || '';
  return type.startsWith('application/json') ? JSON.parse(text) : text;
}

// One read-only query through POST /v1/sql, the path `tailsweep sql` takes.
async function sql(query) {
  return api('POST', '/v1/sql', { sql: query });
}

// A value the dashboard itself puts into SQL: integers only, or a quoted string.
function sqlInt(value) {
  const n = Number(value);
  if (!Number.isInteger(n)) throw new Error('not a whole number: ' + value);
  return String(n);
}

// ---- small DOM helpers ----

function el(tag, attributes, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attributes || {})) {
    if (key === 'class') node.className = value;
    // Through the CSSOM: the Content-Security-Policy refuses style attributes.
    else if (key === 'style') node.style.cssText = value;
    else if (key.startsWith('on')) node.addEventListener(key.slice(2), value);
    else if (value !== null && value !== undefined && value !== false) node.setAttribute(key, value);
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

function svgEl(tag, attributes, ...children) {
  const node = document.createElementNS('http://www.w3.org/2000/svg', tag);
  for (const [key, value] of Object.entries(attributes || {})) {
    if (value !== null && value !== undefined) node.setAttribute(key, value);
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

function table(columns, rows, options = {}) {
  const numeric = columns.map((_, i) => rows.length > 0 && rows.every(
    (row) => row[i] === null || row[i] === '' || typeof row[i] === 'number' ||
             /^[-+]?[0-9.]+$/.test(String(row[i]))));
  return el('table', { id: options.id || null, class: options.class || null },
    el('thead', {}, el('tr', {}, columns.map((c) => el('th', {}, c)))),
    el('tbody', {}, rows.map((row, r) => el('tr', { class: options.rowClass ? options.rowClass(r) : null },
      row.map((cell, i) => el('td', { class: numeric[i] ? 'num' : null },
        cell instanceof Node ? cell : (cell === null ? '' : String(cell))))))));
}

function ago(seconds) {
  if (seconds === null || seconds === undefined) return '';
  const s = Math.max(0, Date.now() / 1000 - seconds);
  if (s < 90) return Math.round(s) + ' s ago';
  if (s < 5400) return Math.round(s / 60) + ' min ago';
  return Math.round(s / 3600) + ' h ago';
}

function progressBar(jobs) {
  const order = ['done', 'leased', 'queued', 'waiting', 'failed', 'cancelled'];
  const total = order.reduce((sum, state) => sum + (jobs[state] || 0), 0);
  const bar = el('span', { class: 'bar', title: order.filter((s) => jobs[s]).map(
    (s) => `${jobs[s]} ${s}`).join(', ') });
  for (const state of order) {
    if (!jobs[state]) continue;
    bar.append(el('span', { class: state, style: `width:${100 * jobs[state] / total}%` }));
  }
  return el('span', {}, bar, el('span', { class: 'muted' },
    ` ${jobs.done || 0}/${total} done${jobs.failed ? `, ${jobs.failed} failed` : ''}`));
}

function setStatus(text) { document.getElementById('status').textContent = text; }

// ---- login ----

function logout(message) {
  sessionStorage.removeItem(TOKEN_KEY);
  document.getElementById('login-error').textContent = message || '';
  show();
}

async function login(event) {
  event.preventDefault();
  const input = document.getElementById('token');
  sessionStorage.setItem(TOKEN_KEY, input.value);
  input.value = '';
  try {
    await api('GET', '/v1/devices');
    document.getElementById('login-error').textContent = '';
    if (!location.hash) location.hash = '#fleet';
    show();
  } catch (error) {
    sessionStorage.removeItem(TOKEN_KEY);
    document.getElementById('login-error').textContent =
      error.status === 401 || error.status === 403
        ? 'Not the admin token (an agent token cannot open the dashboard).'
        : 'The coordinator did not answer: ' + error.message;
    show();
  }
}

// ---- views ----

// What each device's curves say of its power sensor: read once a minute, not
// on every poll (it scans the curves).
let powerCache = { at: 0, of: {} };
async function powerSensors() {
  if (Date.now() - powerCache.at < 60000) return powerCache.of;
  const power = await sql('SELECT device, max(power_null_reason), max(average_w) FROM curve_view ' +
                          "WHERE mode = 'model' GROUP BY device");
  const of = {};
  for (const [name, reason, watts] of power.rows) of[name] = watts !== null ? 'measured' : (reason || '');
  powerCache = { at: Date.now(), of };
  return of;
}

async function fleetView(root) {
  const [devices, powerOf] = await Promise.all([api('GET', '/v1/devices'), powerSensors()]);
  const list = devices.devices.slice().sort((a, b) =>
    (a.simulated - b.simulated) || a.name.localeCompare(b.name));
  const offline = list.filter((d) => d.state === 'offline').length;
  root.replaceChildren(
    el('h1', {}, `Fleet: ${list.length} devices`,
       offline ? el('span', { class: 'state-offline' }, ` (${offline} offline)`) : ''),
    table(['device', 'kind', 'real or simulated', 'state', 'last seen', 'agent version (git SHA)',
           'board', 'L4T', 'nvpmodel', 'clocks pinned', 'GPU', 'power sensor'],
      list.map((d) => {
        const host = (d.facts && (d.facts.host || d.facts.simulated_on)) || {};
        const gpu = d.facts && d.facts.gpu ? d.facts.gpu.name + (d.simulated ? ' (model)' : '') : '';
        const unavailable = host.unavailable || {};
        const fact = (key) => host[key] === null || host[key] === undefined
          ? el('span', { class: 'muted', title: unavailable[key] || '' }, 'n/a')
          : String(host[key]);
        return [d.name, d.kind,
          el('span', { class: 'badge ' + (d.simulated ? 'simulated' : 'real') },
             d.simulated ? 'SIMULATED' : 'real'),
          el('span', { class: 'state-' + d.state }, d.state), ago(d.last_seen_s),
          d.agent_version ? `${d.agent_version} (${d.agent_git_sha.slice(0, 12)})` : '', fact('device_model'), fact('l4t_release'), fact('nvpmodel_mode'),
          fact('clocks_pinned'), gpu,
          d.simulated ? el('span', { class: 'muted' }, 'none (simulated)') : (powerOf[d.name] || '')];
      }),
      { id: 'devices', rowClass: (r) => list[r].state === 'offline' ? 'offline' : null }));
}

async function sweepsView(root) {
  const answer = await api('GET', '/v1/sweeps');
  root.replaceChildren(el('h1', {}, 'Sweeps'),
    answer.sweeps.length === 0 ? el('p', { class: 'muted' }, 'No sweeps yet.') :
    table(['sweep', 'name', 'state', 'progress', 'created', ''],
      answer.sweeps.map((s) => [s.sweep_id, s.name, el('span', { class: 'state-' + s.state }, s.state),
        progressBar(s.jobs), ago(s.created_at_s),
        el('span', {}, el('a', { href: `#sweep/${s.sweep_id}` }, 'details'), ' · ',
           el('a', { href: `#curves/${s.sweep_id}` }, 'curves'), ' · ',
           el('a', { href: `#tables/${s.sweep_id}` }, 'tables'))]), { id: 'sweeps' }));
}

async function sweepView(root, id) {
  const s = await api('GET', `/v1/sweeps/${sqlInt(id)}`);
  const running = s.state === 'running';
  root.replaceChildren(
    el('h1', {}, `Sweep ${s.sweep_id}: ${s.name} `,
       el('span', { class: 'state-' + s.state, id: 'sweep-state' }, s.state)),
    el('p', {}, progressBar(s.jobs), ' ',
       running ? el('button', { type: 'button', id: 'cancel', onclick: async () => {
         if (!confirm(`Cancel sweep ${s.sweep_id}? Its unfinished jobs become cancelled.`)) return;
         await api('POST', `/v1/sweeps/${s.sweep_id}/cancel`);
         refresh();
       } }, 'Cancel sweep') : '',
       ' ', el('a', { href: `#curves/${s.sweep_id}` }, 'curves'), ' · ',
       el('a', { href: `#tables/${s.sweep_id}` }, 'tables')),
    el('h2', {}, 'Per device'),
    table(['device', 'progress'], s.devices.map((d) => [d.device || '(any real device)', progressBar(d.jobs)])),
    el('h2', {}, 'Per kind of job'),
    table(['kind', 'progress'], (s.kinds || []).map((k) => [k.kind, progressBar(k.jobs)])),
    el('h2', {}, `Failures (${s.failures.length})`),
    s.failures.length === 0 ? el('p', { class: 'muted' }, 'None.') :
      table(['job', 'kind', 'device', 'attempts', 'error'],
        s.failures.map((f) => [f.job_id, f.kind, f.device || '', f.attempts,
                               el('span', { class: 'error' }, f.error)]), { id: 'failures' }));
}

// A plot as SVG: series of points (with an optional CI band), vertical markers.
function plot(spec) {
  const width = 560, height = 340, left = 60, right = 16, top = 28, bottom = 44;
  const xs = [], ys = [];
  for (const series of spec.series) {
    for (const p of series.points) {
      xs.push(p.x); ys.push(p.y);
      if (p.lo !== undefined && p.lo !== null) ys.push(p.lo);
      if (p.hi !== undefined && p.hi !== null) ys.push(p.hi);
    }
  }
  for (const m of spec.markers || []) xs.push(m.x);
  if (xs.length === 0) return el('p', { class: 'muted' }, 'No points yet.');
  const [x0, x1] = [Math.min(...xs), Math.max(...xs)];
  let [y0, y1] = [Math.min(...ys), Math.max(...ys)];
  if (y0 === y1) { y0 -= 1; y1 += 1; }
  const px = (x) => left + (x1 === x0 ? 0.5 : (x - x0) / (x1 - x0)) * (width - left - right);
  const py = (y) => height - bottom - (y - y0) / (y1 - y0) * (height - top - bottom);
  const svg = svgEl('svg', { class: 'plot', width, height, viewBox: `0 0 ${width} ${height}`,
                             role: 'img', 'aria-label': spec.title });
  svg.append(svgEl('text', { x: width / 2, y: 16, 'text-anchor': 'middle', 'font-weight': 'bold' }, spec.title));
  svg.append(svgEl('rect', { x: left, y: top, width: width - left - right, height: height - top - bottom,
                             fill: 'none', stroke: '#999' }));
  for (let i = 0; i <= 4; ++i) {
    const x = x0 + (x1 - x0) * i / 4, y = y0 + (y1 - y0) * i / 4;
    svg.append(svgEl('text', { x: px(x), y: height - bottom + 14, 'text-anchor': 'middle' }, +x.toPrecision(3)));
    svg.append(svgEl('text', { x: left - 4, y: py(y) + 4, 'text-anchor': 'end' }, +y.toPrecision(3)));
  }
  svg.append(svgEl('text', { x: (left + width - right) / 2, y: height - 8, 'text-anchor': 'middle' }, spec.xLabel));
  svg.append(svgEl('text', { x: 12, y: (top + height - bottom) / 2, 'text-anchor': 'middle',
                             transform: `rotate(-90 12 ${(top + height - bottom) / 2})` }, spec.yLabel));
  for (const series of spec.series) {
    const band = series.points.filter((p) => p.lo !== undefined && p.lo !== null);
    if (band.length > 1) {
      const outline = band.map((p) => `${px(p.x)},${py(p.hi)}`)
        .concat(band.slice().reverse().map((p) => `${px(p.x)},${py(p.lo)}`)).join(' ');
      svg.append(svgEl('polygon', { points: outline, fill: series.color, 'fill-opacity': 0.18, stroke: 'none' }));
    }
    svg.append(svgEl('polyline', { points: series.points.map((p) => `${px(p.x)},${py(p.y)}`).join(' '),
                                   fill: 'none', stroke: series.color, 'stroke-width': 1.5,
                                   'data-series': series.label }));
    for (const p of series.points) {
      svg.append(svgEl('circle', { cx: px(p.x), cy: py(p.y), r: 2.5, fill: series.color },
                       svgEl('title', {}, p.tip)));
    }
  }
  // Every marker is drawn (with its device's colour); a label that another
  // marker at the same place already shows is not written twice.
  const labelled = new Set();
  (spec.markers || []).forEach((m) => {
    svg.append(svgEl('line', { x1: px(m.x), x2: px(m.x), y1: top, y2: height - bottom, stroke: m.color,
                               'stroke-dasharray': m.dashed ? '5,4' : null, class: m.kind },
                     svgEl('title', {}, m.label)));
    if (labelled.has(`${m.x}|${m.short}`)) return;
    labelled.add(`${m.x}|${m.short}`);
    svg.append(svgEl('text', { x: px(m.x) + 3, y: top + 12 + 12 * ((labelled.size - 1) % 4), fill: m.color }, m.short));
  });
  return el('div', {}, svg, el('div', { class: 'legend' }, spec.series.map((s) =>
    el('span', {}, el('i', { style: `background:${s.color}` }), s.label))));
}

async function sweepChooser(root, view, id) {
  const answer = await api('GET', '/v1/sweeps');
  if (answer.sweeps.length === 0) {
    root.replaceChildren(el('p', { class: 'muted' }, 'No sweeps yet.'));
    return null;
  }
  const chosen = id || answer.sweeps[0].sweep_id;
  const select = el('select', { id: 'sweep-choice', onchange: (e) => { location.hash = `#${view}/${e.target.value}`; } },
    answer.sweeps.map((s) => el('option', { value: s.sweep_id, selected: String(s.sweep_id) === String(chosen) },
                                `sweep ${s.sweep_id}: ${s.name} (${s.state})`)));
  return { chosen: sqlInt(chosen), form: el('form', { class: 'inline' }, el('label', {}, 'Sweep '), select) };
}

async function curvesView(root, id) {
  const choice = await sweepChooser(root, 'curves', id);
  if (!choice) return;
  const n = choice.chosen;
  const [curves, steps, schedules, accuracy] = await Promise.all([
    sql(`SELECT device, simulated, model, batch, tokens, median_ms, median_ci95_low_ms, median_ci95_high_ms
         FROM curve_view WHERE sweep_id = ${n} AND mode = 'model' ORDER BY model, batch, simulated, device, tokens`),
    sql(`SELECT device, model, batch, tokens_below, tokens_above, height_ms FROM step_view WHERE sweep_id = ${n} AND mode = 'model'`),
    sql(`SELECT device, model, batch, variant, n_star, method FROM schedule_view WHERE sweep_id = ${n}`),
    sql(`SELECT p.model, p.dataset, p.tokens, p.top1 FROM accuracy_points p JOIN jobs j ON j.id = p.job_id
         WHERE j.sweep_id = ${n} ORDER BY p.model, p.dataset, p.tokens`),
  ]);
  const groups = new Map();  // model|batch -> device -> points
  for (const [device, simulated, model, batch, tokens, ms, lo, hi] of curves.rows) {
    const key = `${model}|${batch}`;
    if (!groups.has(key)) groups.set(key, new Map());
    const label = device + (simulated ? ' (simulated)' : '');
    if (!groups.get(key).has(label)) groups.get(key).set(label, { device, points: [] });
    groups.get(key).get(label).points.push({ x: tokens, y: ms, lo, hi,
      tip: `${label}: ${tokens} tokens, ${ms.toFixed(3)} ms` + (lo !== null ? ` [${lo.toFixed(3)}, ${hi.toFixed(3)}]` : '') });
  }
  const blocks = [];
  for (const [key, devices] of groups) {
    const [model, batch] = key.split('|');
    const series = [...devices.entries()].map(([label, d], i) => ({ label, color: COLORS[i % COLORS.length], device: d.device, points: d.points }));
    const markers = [];
    series.forEach((s) => {
      for (const [device, m, b, below, above, height] of steps.rows) {
        if (device === s.device && m === model && String(b) === batch) {
          markers.push({ x: (below + above) / 2, color: s.color, dashed: true, kind: 'step',
                         short: `step ${below}→${above}`, label: `${s.label}: step ${below}→${above}, +${height.toFixed(2)} ms` });
        }
      }
      for (const [device, m, b, variant, nStar, method] of schedules.rows) {
        if (device === s.device && m === model && String(b) === batch) {
          markers.push({ x: nStar, color: s.color, dashed: false, kind: 'n-star',
                         short: `n*=${nStar} (${variant})`, label: `${s.label}: n* = ${nStar}, ${method} (${variant})` });
        }
      }
    });
    const rows = [];
    for (const s of series) for (const p of s.points) rows.push([s.label, p.x, p.y.toFixed(3), p.lo === null ? '' : p.lo.toFixed(3), p.hi === null ? '' : p.hi.toFixed(3)]);
    blocks.push(el('h2', {}, `L(n): ${model}, batch ${batch}`),
      el('div', { class: 'plots' }, plot({ title: `L(n): ${model}, batch ${batch}`, xLabel: 'tokens kept (with CLS)',
                                           yLabel: 'median latency (ms)', series, markers }),
         el('div', { class: 'scroll' }, table(['device', 'tokens', 'ms', 'CI low', 'CI high'], rows))));
  }
  const byModel = new Map();
  for (const [model, dataset, tokens, top1] of accuracy.rows) {
    const key = `${model} on ${dataset}`;
    if (!byModel.has(key)) byModel.set(key, []);
    byModel.get(key).push({ x: tokens, y: 100 * top1, tip: `${tokens} tokens: ${(100 * top1).toFixed(2)}%` });
  }
  for (const [key, points] of byModel) {
    blocks.push(el('h2', {}, `A(n): ${key}`),
      plot({ title: `A(n): ${key}`, xLabel: 'tokens kept (with CLS)', yLabel: 'top-1 (%)',
             series: [{ label: key, color: COLORS[0], points }] }));
  }
  root.replaceChildren(el('h1', {}, `Curves of sweep ${n}`), choice.form,
    blocks.length ? el('div', { id: 'curves' }, blocks) : el('p', { class: 'muted' }, 'No curves measured yet.'));
}

async function download(path, name) {
  const text = await api('GET', path);
  const blob = new Blob([typeof text === 'string' ? text : JSON.stringify(text, null, 2)]);
  const link = el('a', { href: URL.createObjectURL(blob), download: name });
  document.body.append(link);
  link.click();
  link.remove();
}

async function tablesView(root, id) {
  const choice = await sweepChooser(root, 'tables', id);
  if (!choice) return;
  const n = choice.chosen;
  const report = await api('GET', `/v1/sweeps/${n}/report`);
  const blocks = [];
  for (const t of report.tables) {
    if (t.rows.length === 0) continue;
    blocks.push(el('h2', {}, t.title),
      el('p', {}, el('button', { type: 'button', onclick: () => download(`/v1/sweeps/${n}/report?format=csv&table=${encodeURIComponent(t.file_stem)}`, `${t.file_stem}.csv`) }, `${t.file_stem}.csv`)),
      el('div', { class: 'scroll' }, table(t.columns, t.rows, { class: 'report-table', id: 'table-' + t.file_stem })));
  }
  root.replaceChildren(el('h1', {}, `Tables of sweep ${n}`), choice.form,
    el('p', {}, 'The same numbers as ', el('code', {}, 'tailsweep report'), '. Download: ',
       el('button', { type: 'button', onclick: () => download(`/v1/sweeps/${n}/report?format=latex`, 'tables.tex') }, 'tables.tex'), ' ',
       el('button', { type: 'button', onclick: () => download(`/v1/sweeps/${n}/report?format=markdown`, 'tables.md') }, 'tables.md'), ' ',
       el('button', { type: 'button', onclick: () => download(`/v1/sweeps/${n}/report?format=report-json`, 'report.json') }, 'report.json')),
    ...report.missing.map((line) => el('p', { class: 'muted' }, line)),
    ...(blocks.length ? blocks : [el('p', { class: 'muted' }, 'No tables with rows yet.')]));
}

function csvOf(answer) {
  const cell = (v) => {
    const s = v === null ? '' : String(v);
    return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
  };
  return [answer.columns, ...answer.rows].map((row) => row.map(cell).join(',')).join('\r\n') + '\r\n';
}

async function sqlView(root) {
  const views = await sql("SELECT name FROM sqlite_master WHERE type = 'view' AND name LIKE '%\\_view' ESCAPE '\\' ORDER BY name");
  const box = el('textarea', { id: 'sql-text', spellcheck: 'false' },
                 sessionStorage.getItem('tailsweep.sql') || 'SELECT device, state, count(*) AS jobs FROM job_view GROUP BY device, state');
  const out = el('div', { id: 'sql-result' });
  const run = async (event) => {
    event.preventDefault();
    sessionStorage.setItem('tailsweep.sql', box.value);
    out.replaceChildren(el('p', { class: 'muted' }, 'Running...'));
    try {
      const answer = await sql(box.value);
      const blob = new Blob([csvOf(answer)], { type: 'text/csv' });
      out.replaceChildren(
        el('p', {}, `${answer.rows.length} rows`, answer.truncated ? el('strong', {}, ` (truncated by ${answer.truncated_by})`) : '',
           ' · ', el('a', { href: URL.createObjectURL(blob), download: 'query.csv' }, 'CSV')),
        el('div', { class: 'scroll' }, table(answer.columns, answer.rows, { id: 'sql-table' })));
    } catch (error) {
      out.replaceChildren(el('p', { class: 'error', id: 'sql-error' }, error.message));
    }
  };
  root.replaceChildren(el('h1', {}, 'SQL'),
    el('p', {}, 'One read-only query through ', el('code', {}, 'POST /v1/sql'),
       ', the guarded path of ', el('code', {}, 'tailsweep sql'),
       ': writes, ATTACH and writing PRAGMAs are refused; at most 10,000 rows and 10 s per query. Views: ',
       views.rows.map((r) => el('code', {}, r[0])).flatMap((c, i) => i ? [', ', c] : [c]), ' (docs/schema.md).'),
    el('form', { onsubmit: run }, box, el('p', {}, el('button', { type: 'submit', id: 'sql-run' }, 'Run'))), out);
}

// ---- routing and polling ----

const VIEWS = { fleet: fleetView, sweeps: sweepsView, sweep: sweepView, curves: curvesView,
                tables: tablesView, sql: sqlView };
const POLLED = new Set(['fleet', 'sweeps', 'sweep']);

function route() {
  const [name, arg] = (location.hash.slice(1) || 'fleet').split('/');
  return { name: VIEWS[name] ? name : 'fleet', arg };
}

// Each view renders into a detached element, shown only if the user is still
// on that view when it is ready: a slow answer never overwrites a newer page.
let generation = 0;

async function refresh() {
  if (!sessionStorage.getItem(TOKEN_KEY)) return;
  const mine = generation;
  const { name, arg } = route();
  const staging = el('div', {});
  try {
    await VIEWS[name](staging, arg);
    if (mine !== generation) return;
    document.getElementById('view').replaceChildren(...staging.childNodes);
    setStatus('updated ' + new Date().toLocaleTimeString());
  } catch (error) {
    if (mine === generation && error.status !== 401) setStatus('error: ' + error.message);
  }
}

// The next poll is planned when this one is done, so slow answers never pile up.
async function poll(mine) {
  await refresh();
  if (mine === generation) pollTimer = setTimeout(() => poll(mine), POLL_MS);
}

function show() {
  const loggedIn = Boolean(sessionStorage.getItem(TOKEN_KEY));
  document.getElementById('login').hidden = loggedIn;
  document.getElementById('view').hidden = !loggedIn;
  document.getElementById('nav').hidden = !loggedIn;
  document.getElementById('logout').hidden = !loggedIn;
  clearTimeout(pollTimer);
  const mine = ++generation;
  if (!loggedIn) return;
  const { name } = route();
  for (const link of document.querySelectorAll('nav a')) {
    link.classList.toggle('active', link.dataset.view === name ||
                                    (name === 'sweep' && link.dataset.view === 'sweeps'));
  }
  if (POLLED.has(name)) poll(mine);
  else refresh();
}

document.getElementById('login-form').addEventListener('submit', login);
document.getElementById('logout').addEventListener('click', () => logout(''));
window.addEventListener('hashchange', show);
show();
