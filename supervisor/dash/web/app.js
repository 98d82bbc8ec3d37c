// app.js: the dashboard's page. Vanilla JavaScript, no network access beyond
// the kiln that served it. Every list is sorted, filtered and paged by the
// database behind /api/; the page only shows one page at a time and keeps it
// fresh from the supervisor's events (long poll of /api/events).
'use strict';

const TOKEN = document.querySelector('meta[name="kiln-token"]').content;
const PAGE = 200;
const TREE_PAGE = 500;

const S = {
  tab: 'jobs',
  status: null,
  platforms: [],
  jobs: { filter: '', statuses: [], sort: 'completed', order: 'desc', offset: 0, total: 0, rows: [], sel: null },
  job: null, lines: [], line: -1,
  assets: { kind: 'source', platform: null, search: '', sel: null, detail: null },
  logs: { view: 'messages', filter: '' },
  builders: { list: [], sort: 'name', dir: 1, sel: null },
  seq: -1, boot: null, live: false,
};

// ---- small helpers ----

const $ = (id) => document.getElementById(id);

function el(tag, attrs, ...kids) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k === 'class') e.className = v;
    else if (k === 'text') e.textContent = v;
    else if (k.startsWith('on')) e.addEventListener(k.slice(2), v);
    else if (k === 'dataset') Object.assign(e.dataset, v);
    else e.setAttribute(k, v === true ? '' : v);
  }
  for (const k of kids.flat()) if (k !== null && k !== undefined) e.append(k instanceof Node ? k : String(k));
  return e;
}

function link(text, fn, title) {
  return el('a', { class: 'lnk', href: '#', title, onclick: (ev) => { ev.preventDefault(); fn(); } }, text);
}

async function api(path, opts) {
  const r = await fetch(path, opts);
  let j = null;
  try { j = await r.json(); } catch (e) { j = { error: r.status + ' ' + r.statusText }; }
  if (!r.ok) { const err = new Error(j && j.error ? j.error : String(r.status)); err.status = r.status; throw err; }
  return j;
}

function post(path, body) {
  return api(path, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', 'X-Kiln-Token': TOKEN },
    body: JSON.stringify(body || {}),
  });
}

function qs(o) {
  const p = new URLSearchParams();
  for (const [k, v] of Object.entries(o)) if (v !== undefined && v !== null && v !== '') p.set(k, v);
  const s = p.toString();
  return s ? '?' + s : '';
}

function fmtMs(ms) {
  if (ms === null || ms === undefined) return '–';
  if (ms < 1000) return ms + ' ms';
  if (ms < 60000) return (ms / 1000).toFixed(1) + ' s';
  return Math.floor(ms / 60000) + ' min ' + String(Math.floor(ms / 1000) % 60).padStart(2, '0') + ' s';
}

function fmtTime(iso) {
  if (!iso) return '–';
  const d = new Date(iso);
  if (isNaN(d)) return iso;
  const p = (n) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
}

const nf = new Intl.NumberFormat('en');
function num(n) { return n === null || n === undefined ? '–' : nf.format(n); }

function reEscape(s) { return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'); }

let flashTimer = null;
function flash(msg, bad) {
  const f = $('flash');
  f.textContent = msg;
  f.className = 'flash' + (bad ? ' bad' : '');
  f.hidden = false;
  clearTimeout(flashTimer);
  flashTimer = setTimeout(() => { f.hidden = true; }, bad ? 8000 : 4000);
}

async function copyText(text) {
  try {
    await navigator.clipboard.writeText(text);
  } catch (e) {
    // Without the clipboard API (no permission): the old way.
    const t = el('textarea', {}, text);
    document.body.append(t);
    t.select();
    document.execCommand('copy');
    t.remove();
  }
  flash('Copied ' + (text.length > 80 ? text.length + ' characters' : '"' + text + '"'));
}

function debounce(fn, ms) {
  let t = null;
  return (...a) => { clearTimeout(t); t = setTimeout(() => fn(...a), ms); };
}

const statusClass = (s) => 'st st-' + (s || 'pending');
const statusText = (s) => ({ completed_warning: 'completed (warnings)', completed_error: 'completed (errors)' }[s] || s || '–');

// ---- tabs ----

function showTab(name) {
  S.tab = name;
  for (const b of document.querySelectorAll('#tabs button')) b.setAttribute('aria-selected', b.dataset.tab === name);
  for (const p of document.querySelectorAll('.panel')) p.hidden = p.dataset.panel !== name;
  if (location.hash !== '#' + name) history.replaceState(null, '', '#' + name);
  ({ jobs: loadJobs, assets: loadTree, logs: loadLogs, connections: loadConnections, builders: loadBuilders,
    tools: loadTools, shared: loadShared })[name]();
}

// ---- status line ----

async function loadStatus() {
  let st;
  try { st = await api('/api/status'); } catch (e) { renderOffline(e.message); return; }
  S.status = st;
  if (Array.isArray(st.platforms)) S.platforms = st.platforms;
  $('project').textContent = st.project || '';
  document.title = 'kiln · ' + (st.project || '');
  const state = st.running === false ? 'not running' : st.state || 'idle';
  const b = $('st-state');
  b.textContent = state;
  b.className = 'badge ' + (st.running === false ? 'offline' : state);
  $('st-jobs').textContent = `${num(st.jobs_active)} active, ${num(st.jobs_remaining)} remaining · ${num(st.jobs_total)} jobs, ${num(st.jobs_failed)} failed`;
  $('st-ready').textContent = st.ready ? '✓ ready' : 'not ready (critical jobs left)';
  $('st-ready').className = st.ready ? 'st-completed' : 'st-pending';
  $('st-times').textContent = `last scan ${fmtMs(st.last_scan_ms)} · analysis ${fmtMs(st.last_analysis_ms)} · processing ${fmtMs(st.last_processing_ms)}`;
  $('st-root').textContent = st.root || '';
  $('st-control').textContent = st.control || '';
}

function renderOffline(msg) {
  const b = $('st-state');
  b.textContent = 'offline';
  b.className = 'badge offline';
  $('st-jobs').textContent = msg || 'kiln does not answer';
}

function setLive(on) {
  S.live = on;
  const l = $('st-live');
  l.textContent = on ? '● live' : '○ offline';
  l.className = on ? 'st-completed' : 'st-failed';
}

// ---- Jobs ----

function jobsQuery() {
  const j = S.jobs;
  return qs({ filter: j.filter, status: j.statuses.join(','), sort: j.sort, order: j.order, limit: PAGE, offset: j.offset });
}

async function loadJobs() {
  const j = S.jobs;
  let r;
  try {
    r = await api('/api/jobs' + jobsQuery());
    $('jobs-error').textContent = '';
    $('jobs-filter').classList.remove('bad');
  } catch (e) {
    $('jobs-error').textContent = e.message;
    if (e.status === 400) $('jobs-filter').classList.add('bad');
    return;
  }
  j.total = r.total;
  j.rows = r.jobs;
  if (j.offset > 0 && j.offset >= r.total) { j.offset = Math.max(0, Math.floor((r.total - 1) / PAGE) * PAGE); return loadJobs(); }
  renderJobs();
}

function renderJobs() {
  const j = S.jobs;
  const body = $('jobs-body');
  const rows = j.rows.map((o) => {
    const tr = el('tr', { dataset: { id: o.id }, class: o.id === j.sel ? 'sel' : null },
      el('td', { class: statusClass(o.status), title: o.reason ? 'failed: ' + o.reason : null },
        statusText(o.status) + (o.reason ? ' (' + o.reason + ')' : '')),
      el('td', { class: 'path', title: o.scan_folder + '/' + o.source }, o.source),
      el('td', { class: 'mono' }, fmtTime(o.completed_at)),
      el('td', {}, o.platform),
      el('td', {}, o.job_key),
      el('td', { class: 'num' }, fmtMs(o.duration_ms)));
    tr.addEventListener('click', () => selectJob(o.id));
    tr.addEventListener('contextmenu', (ev) => { ev.preventDefault(); selectJob(o.id); openMenu(ev.clientX, ev.clientY); });
    return tr;
  });
  body.replaceChildren(...rows);
  const from = j.total ? j.offset + 1 : 0, to = j.offset + j.rows.length;
  $('jobs-range').textContent = `${num(from)}–${num(to)} of ${num(j.total)}`;
  $('jobs-prev').disabled = j.offset === 0;
  $('jobs-next').disabled = to >= j.total;
  for (const th of document.querySelectorAll('#jobs-table th[data-sort]')) {
    th.className = th.dataset.sort === j.sort ? 'sorted-' + j.order : '';
    if (th.dataset.sort === 'duration') th.classList.add('num');
  }
  updateActions();
}

function selectedJobRow() {
  return S.jobs.rows.find((o) => o.id === S.jobs.sel) || (S.job && S.job.id === S.jobs.sel ? S.job : null);
}

function updateActions() {
  const o = selectedJobRow();
  for (const b of document.querySelectorAll('#job-actions button')) b.disabled = !o;
  $('job-selected').textContent = o ? `job ${o.id}: ${o.source} (${o.platform}, ${o.job_key})` : 'Select a job.';
}

async function selectJob(id, keepLine) {
  S.jobs.sel = id;
  for (const tr of $('jobs-body').children) tr.classList.toggle('sel', Number(tr.dataset.id) === id);
  updateActions();
  let r;
  try { r = await api('/api/job/' + id); } catch (e) { $('job-log-title').textContent = e.message; return; }
  if (S.jobs.sel !== id) return;
  S.job = r;
  S.lines = r.lines || [];
  if (!keepLine) S.line = -1;
  renderJobLog();
  updateActions();
}

function renderJobLog() {
  const r = S.job;
  $('job-log-title').textContent = r ? `job ${r.id} · ${statusText(r.status)}${r.reason ? ' (' + r.reason + ')' : ''} · ${S.lines.length} lines${r.run_reason ? ' · ran because: ' + r.run_reason : ''}` : '';
  $('log-body').replaceChildren(...S.lines.map((l, i) => {
    const tr = el('tr', { class: i === S.line ? 'sel' : null },
      el('td', { class: 'lv-' + l.level }, l.level),
      el('td', {}, l.source),
      el('td', { class: 'msg' }, l.message));
    tr.addEventListener('click', () => { S.line = i; renderJobLog(); });
    return tr;
  }));
  const line = S.lines[S.line];
  $('ctx-body').replaceChildren(...(line ? Object.entries(line.context || {}).map(([k, v]) =>
    el('tr', {}, el('td', {}, k), el('td', { class: 'msg mono' }, v))) : []));
  $('copy-line').disabled = $('copy-line-details').disabled = !line;
  $('copy-all').disabled = S.lines.length === 0;
}

function lineText(l, details) {
  let s = `[${l.level}] ${l.source}: ${l.message}`;
  if (details) for (const [k, v] of Object.entries(l.context || {})) s += `\n    ${k}: ${v}`;
  return s;
}

async function jobAction(act) {
  closeMenu();
  const o = selectedJobRow();
  if (!o) return;
  const path = o.source;
  if (act === 'source') {
    showAssetTab('source');
    showAsset({ uuid: o.source_uuid });
  } else if (act === 'products') {
    showAssetTab('product', o.platform);
    $('assets-search').value = '^' + reEscape(path.toLowerCase()) + '$';
    S.assets.search = $('assets-search').value;
    await loadTree(true);
  } else if (act === 'log') {
    await selectJob(o.id);
    $('log-table').scrollIntoView({ block: 'nearest' });
    if (S.lines.length) { S.line = S.lines.findIndex((l) => l.level === 'error'); if (S.line < 0) S.line = S.lines.length - 1; renderJobLog(); }
  } else if (act === 'copy') {
    copyText(o.scan_folder ? o.scan_folder + '/' + path : path);
  } else if (act === 'reprocess') {
    try {
      const r = await post('/api/reprocess', { paths: [o.source_uuid || path] });
      flash(`Reprocessing ${path}: ${r.jobs} job${r.jobs === 1 ? '' : 's'} will run again`);
    } catch (e) { flash('Reprocess failed: ' + e.message, true); }
  }
}

function openMenu(x, y) {
  const m = $('ctxmenu');
  m.hidden = false;
  m.style.left = Math.min(x, innerWidth - 200) + 'px';
  m.style.top = Math.min(y, innerHeight - 180) + 'px';
}
function closeMenu() { $('ctxmenu').hidden = true; }

function jobsChanged() { S.jobs.offset = 0; loadJobs(); }

// Jobs: the job a link points to, shown in the list (filtered to its source).
async function gotoJob(id, source) {
  S.jobs.filter = source ? '^' + reEscape(source) + '$' : '';
  S.jobs.statuses = [];
  $('jobs-filter').value = S.jobs.filter;
  syncStatusMenu();
  S.jobs.offset = 0;
  showTab('jobs');
  await loadJobs();
  selectJob(id);
}

function syncStatusMenu() {
  for (const c of document.querySelectorAll('#jobs-status-menu input')) c.checked = S.jobs.statuses.includes(c.value);
  $('jobs-status-summary').textContent = S.jobs.statuses.length ? S.jobs.statuses.map(statusText).join(', ') : 'All statuses';
}

// ---- Assets ----

function showAssetTab(kind, platform) {
  S.assets.kind = kind;
  if (platform) S.assets.platform = platform;
  $('assets-search').value = '';
  S.assets.search = '';
  showTab('assets');
}

function treeSource(dir, offset) {
  const a = S.assets;
  if (a.kind === 'source') return '/api/assets' + qs(a.search ? { filter: a.search, limit: TREE_PAGE, offset } : { dir: dir || '.', limit: TREE_PAGE, offset });
  const platform = a.kind === 'intermediate' ? 'intermediate' : a.platform;
  return '/api/products' + qs(a.search ? { filter: a.search, platform, limit: TREE_PAGE, offset } : { dir: dir || '.', platform, limit: TREE_PAGE, offset });
}

function renderKindBar() {
  for (const b of document.querySelectorAll('#tree-kind button')) b.classList.toggle('on', b.dataset.kind === S.assets.kind);
  const sel = $('tree-platform');
  sel.hidden = S.assets.kind !== 'product';
  const plats = S.platforms.length ? S.platforms : [S.assets.platform || 'pc'];
  if (!S.assets.platform || !plats.includes(S.assets.platform)) S.assets.platform = plats[0];
  sel.replaceChildren(...plats.map((p) => el('option', { value: p, selected: p === S.assets.platform }, p)));
}

async function loadTree() {
  renderKindBar();
  const ul = $('tree');
  ul.replaceChildren();
  $('tree-more').replaceChildren();
  try {
    await fillFolder(ul, '', 0);
    $('assets-error').textContent = '';
    $('assets-search').classList.remove('bad');
  } catch (e) {
    $('assets-error').textContent = e.message;
    if (e.status === 400) $('assets-search').classList.add('bad');
  }
  if (S.assets.detail) renderAssetDetail();
}

async function fillFolder(ul, dir, offset) {
  const r = await api(treeSource(dir, offset));
  const kids = [];
  if (offset === 0) for (const f of r.folders || []) kids.push(folderNode(dir ? dir + '/' + f.name : f.name, f.name, f.count));
  const files = r.assets || r.products || [];
  for (const o of files) kids.push(fileNode(o));
  ul.append(...kids);
  const shown = offset + files.length;
  if (shown < r.total) {
    const more = el('li', {}, el('div', { class: 'node' }, link(`… ${num(r.total - shown)} more`, async () => { more.remove(); await fillFolder(ul, dir, shown); })));
    ul.append(more);
  }
  if (!dir && !kids.length) ul.append(el('li', {}, el('div', { class: 'node dim' }, S.assets.search ? 'nothing matches' : 'nothing here yet')));
}

function folderNode(path, name, count) {
  const sub = el('ul', { hidden: true });
  const tw = el('span', { class: 'twisty' }, '▸');
  let loaded = false;
  const node = el('div', { class: 'node', title: path }, tw, el('span', {}, name + '/'), el('span', { class: 'count' }, num(count)));
  node.addEventListener('click', async () => {
    sub.hidden = !sub.hidden;
    tw.textContent = sub.hidden ? '▸' : '▾';
    if (!loaded) { loaded = true; try { await fillFolder(sub, path, 0); } catch (e) { sub.append(el('li', { class: 'error-text' }, e.message)); } }
  });
  return el('li', {}, node, sub);
}

function fileNode(o) {
  const isProduct = !!o.asset_id;
  const label = S.assets.search ? (isProduct ? o.path : o.source) : (isProduct ? o.path : o.source).split('/').pop();
  const node = el('div', { class: 'node', title: isProduct ? o.platform + '/' + o.path : o.source, dataset: { key: isProduct ? o.asset_id + '|' + o.platform : o.uuid } },
    el('span', { class: 'twisty' }, ''), el('span', {}, label));
  node.addEventListener('click', () => {
    for (const n of document.querySelectorAll('#tree .node.sel')) n.classList.remove('sel');
    node.classList.add('sel');
    if (isProduct) showProduct(o.asset_id, o.platform); else showAsset({ uuid: o.uuid });
  });
  return el('li', {}, node);
}

async function showAsset(arg) {
  if (S.tab !== 'assets') { S.assets.kind = 'source'; showTab('assets'); }
  try {
    const r = await api('/api/asset' + qs(arg));
    S.assets.detail = { kind: 'source', arg, data: r };
  } catch (e) {
    S.assets.detail = { kind: 'error', arg, error: e.message };
  }
  renderAssetDetail();
}

async function showProduct(assetId, platform) {
  if (S.tab !== 'assets') { S.assets.kind = platform === 'intermediate' ? 'intermediate' : 'product'; showTab('assets'); }
  try {
    const r = await api('/api/product' + qs({ asset_id: assetId, platform }));
    S.assets.detail = { kind: 'product', arg: { asset_id: assetId, platform }, data: r };
  } catch (e) {
    S.assets.detail = { kind: 'error', error: e.message };
  }
  renderAssetDetail();
}

async function refreshAssetDetail() {
  const d = S.assets.detail;
  if (!d || S.tab !== 'assets') return;
  if (d.kind === 'source') showAsset(d.arg);
  else if (d.kind === 'product') showProduct(d.arg.asset_id, d.arg.platform);
}

function kvTable(rows) {
  return el('table', { class: 'grid kv' }, el('tbody', {}, rows.filter(Boolean).map(([k, v]) =>
    el('tr', {}, el('td', {}, k), el('td', { class: 'mono' }, v === null || v === undefined ? '–' : v)))));
}

function listOf(items, render, empty) {
  if (!items || !items.length) return el('p', { class: 'dim' }, empty || 'none');
  return el('ul', {}, items.map((x) => el('li', {}, render(x))));
}

// An entry of a product's dependencies or dependants, {asset_id, platform,
// path, source}: a link to that product, or the bare id when it names no
// product on this platform (path null).
function depLink(d) {
  if (!d.path) return el('span', { class: 'dim' }, d.asset_id);
  return [link(d.platform + '/' + d.path, () => showProduct(d.asset_id, d.platform), d.asset_id),
    el('span', { class: 'dim' }, '  ' + d.asset_id)];
}

function renderAssetDetail() {
  const box = $('asset-detail');
  const d = S.assets.detail;
  if (!d) return;
  if (d.kind === 'error') { box.replaceChildren(el('p', { class: 'error-text' }, d.error)); return; }
  const r = d.data;
  if (d.kind === 'source') {
    box.replaceChildren(
      el('h2', { id: 'detail-title', dataset: { kind: 'source' } }, r.source),
      kvTable([['uuid', r.uuid], ['scan folder', r.scan_folder], ['size', num(r.size)], ['content hash', r.hash]]),
      el('h3', {}, 'Products'),
      listOf(r.product_files, (p) => [link(p.platform + '/' + p.path, () => showProduct(p.asset_id, p.platform), p.asset_id),
        el('span', { class: 'dim' }, '  ' + p.asset_id)], 'no products'),
      el('h3', {}, 'Depends on'),
      listOf(r.depends_on, (s) => link(s, () => showAsset({ path: s }))),
      el('h3', {}, 'Depended on by'),
      listOf(r.depended_on_by, (s) => link(s, () => showAsset({ path: s }))),
      el('h3', {}, 'Jobs'),
      listOf(r.jobs, (j) => [link(`job ${j.id}`, () => gotoJob(j.id, r.source)), ` ${j.platform} · ${j.job_key} · `,
        el('span', { class: statusClass(j.status) }, statusText(j.status)), j.reason ? ` (${j.reason})` : '']));
  } else {
    box.replaceChildren(
      el('h2', { id: 'detail-title', dataset: { kind: 'product' } }, r.platform + '/' + r.path),
      kvTable([['asset id', r.asset_id], ['platform', r.platform], ['type', r.asset_type], ['size', num(r.size)],
        ['last built', fmtTime(r.built_at)], ['job key', r.job_key], ['builder', r.builder],
        ['job', link(`job ${r.job_id} (${statusText(r.job_status)})`, () => gotoJob(r.job_id, r.source))],
        ['source', link(r.source, () => showAsset({ uuid: r.source_uuid }))], ['intermediate', r.intermediate ? 'yes' : 'no']]),
      el('h3', {}, 'Dependencies'),
      listOf(r.dependencies, depLink),
      el('h3', {}, 'Depended on by'),
      listOf(r.dependants, depLink),
      el('h3', {}, 'Unmet dependencies'),
      listOf(r.unmet, (p) => el('span', { class: 'st-failed' }, p)),
      el('h3', {}, 'Source dependencies'),
      listOf(r.source_dependencies, (s) => link(s, () => showAsset({ path: s }))));
  }
}

// ---- Logs ----

async function loadLogs() {
  const wrap = $('logs-table').parentElement;
  const atBottom = wrap.scrollTop + wrap.clientHeight >= wrap.scrollHeight - 4;
  let r;
  try {
    r = await api('/api/logs' + qs({ view: S.logs.view, filter: S.logs.filter, limit: 3000 }));
    $('logs-error').textContent = '';
    $('logs-filter').classList.remove('bad');
  } catch (e) {
    $('logs-error').textContent = e.message;
    $('logs-filter').classList.add('bad');
    return;
  }
  $('logs-count').textContent = `${num(r.lines.length)} of ${num(r.matched)} lines${r.truncated ? ' (the end of a long log)' : ''} · ${r.path}`;
  $('logs-body').replaceChildren(...r.lines.map((l) => el('tr', {},
    el('td', { class: 'mono' }, fmtTime(l.time)), el('td', { class: 'lv-' + l.level }, l.level),
    el('td', {}, l.who), el('td', { class: 'msg' }, l.message))));
  if (atBottom) wrap.scrollTop = wrap.scrollHeight;
}

// ---- Connections ----

function gridTable(headers, rows) {
  return el('table', { class: 'grid' }, el('thead', {}, el('tr', {}, headers.map((h) => el('th', {}, h)))),
    el('tbody', {}, rows.length ? rows.map((r) => el('tr', {}, r.map((c) => el('td', {}, c ?? '–'))))
      : [el('tr', {}, el('td', { class: 'dim', colspan: headers.length }, 'none'))]));
}

async function loadConnections() {
  const box = $('conn');
  let r;
  try { r = await api('/api/connections'); } catch (e) { box.replaceChildren(el('p', { class: 'error-text' }, e.message)); return; }
  box.replaceChildren(
    el('div', { class: 'card' }, el('h3', {}, 'Control API'), kvTable([['requests', r.control], ['events', r.events],
      ['TCP', r.tcp || 'off'], ['subscribers', num(r.subscribers)], ['requests served', num(r.requests)],
      ['error replies', num(r.errors)], ['listener restarts', num(r.listener_restarts)]])),
    el('div', { class: 'card', id: 'conn-clients' }, el('h3', {}, 'Clients'), gridTable(['id', 'name', 'transport', 'address', 'pid', 'since', 'last request', 'requests', 'errors', 'waiting'],
      (r.clients || []).map((c) => [c.client_id, c.name ?? '(no hello)', c.transport, c.address, c.pid ?? c.peer_pid,
        fmtTime(c.since), fmtTime(c.last_request), num(c.requests), num(c.errors), num(c.pending)]))),
    el('div', { class: 'card' }, el('h3', {}, 'Builder hosts'), gridTable(['pid', 'kind', 'automatic', 'since'],
      (r.hosts || []).map((h) => [h.pid, h.kind, h.automatic ? 'yes' : 'no', fmtTime(h.since)]))),
    el('div', { class: 'card' }, el('h3', {}, 'Allowed'), listOf(r.allowed, (a) => a, 'only this machine (ipc)')),
    el('div', { class: 'card' }, el('h3', {}, `Refused (${num(r.refused_total)} in all)`), gridTable(['address', 'time', 'reason'],
      (r.refused || []).map((x) => [x.address, fmtTime(x.time), x.reason]))));
}

// ---- Builders ----

function builderKey(b, k) {
  if (k in (b.metrics || {})) return b.metrics[k];
  return b[k];
}

async function loadBuilders() {
  try { S.builders.list = await api('/api/builders?all=1'); } catch (e) { $('builders-body').replaceChildren(el('tr', {}, el('td', { class: 'error-text' }, e.message))); return; }
  renderBuilders();
  if (S.builders.sel) showBuilder(S.builders.sel);
}

function renderBuilders() {
  const B = S.builders;
  const list = [...B.list].sort((a, b) => {
    const x = builderKey(a, B.sort), y = builderKey(b, B.sort);
    return (x < y ? -1 : x > y ? 1 : 0) * B.dir;
  });
  $('builders-body').replaceChildren(...list.map((b) => {
    const m = b.metrics || {};
    const tr = el('tr', { class: b.name === B.sel ? 'sel' : null },
      el('td', {}, b.name + (b.active === false ? ' (inactive)' : '')), el('td', {}, b.type), el('td', {}, b.version),
      el('td', { class: 'num' }, num(m.jobs)), el('td', { class: 'num' }, num(m.process_job_count)),
      el('td', { class: 'num' }, fmtMs(m.process_job_total_ms)), el('td', { class: 'num' }, m.process_job_avg_ms + ' ms'),
      el('td', { class: 'num' }, m.create_jobs_avg_ms + ' ms'));
    tr.addEventListener('click', () => showBuilder(b.name));
    return tr;
  }));
  for (const th of document.querySelectorAll('#builders-table th')) {
    th.classList.remove('sorted-asc', 'sorted-desc');
    if (th.dataset.bsort === B.sort) th.classList.add(B.dir > 0 ? 'sorted-asc' : 'sorted-desc');
  }
}

async function showBuilder(name) {
  S.builders.sel = name;
  renderBuilders();
  let b;
  try { b = await api('/api/builder/' + encodeURIComponent(name)); } catch (e) { $('builder-detail').replaceChildren(el('p', { class: 'error-text' }, e.message)); return; }
  const m = b.metrics || {};
  $('builder-detail').replaceChildren(
    el('h2', {}, b.name),
    kvTable([['type', b.type], ['version', b.version], ['uuid', b.uuid], ['analysis fingerprint', b.analysis_fingerprint],
      ['executable', b.exec], ['arguments', (b.args || []).join(' ') || '–'], ['patterns', (b.patterns || []).join('  ')],
      ['active', b.active ? 'yes' : 'no' + (b.disabled_reason ? ': ' + b.disabled_reason : '')]]),
    el('h3', {}, 'Metrics'),
    gridTable(['', 'count', 'total', 'average'], [
      ['jobs', num(m.jobs), '', ''],
      ['create_jobs', num(m.create_jobs_count), fmtMs(m.create_jobs_total_ms), m.create_jobs_avg_ms + ' ms'],
      ['process_job', num(m.process_job_count), fmtMs(m.process_job_total_ms), m.process_job_avg_ms + ' ms']]));
}

// ---- Tools and shared cache ----

async function loadTools() {
  try {
    const t = await api('/api/tools');
    $('tool-fast').checked = !!t.fast_scan;
    $('tool-debug').checked = !!t.debug_output;
    $('tools-error').textContent = t.running ? '' : 'kiln run does not answer: the switches cannot be changed now';
  } catch (e) { $('tools-error').textContent = e.message; }
}

async function setTool(name, on) {
  try { await post('/api/tools', { [name]: on }); flash(`${name.replace('_', ' ')} ${on ? 'on' : 'off'}`); } catch (e) { flash(e.message, true); loadTools(); }
}

async function loadShared() {
  try {
    const r = await api('/api/shared-cache');
    $('shared').replaceChildren(el('h3', {}, 'Shared cache'), kvTable([['mode', r.mode], ['state', r.state]]), el('p', { class: 'dim' }, r.detail || ''));
  } catch (e) { $('shared').replaceChildren(el('p', { class: 'error-text' }, e.message)); }
}

// ---- live updates ----

const refreshJobs = debounce(() => { if (S.tab === 'jobs') loadJobs(); }, 700);
const refreshStatus = debounce(loadStatus, 400);
const refreshSelected = debounce(() => { if (S.tab === 'jobs' && S.jobs.sel) selectJob(S.jobs.sel, true); }, 700);
const refreshAssets = debounce(refreshAssetDetail, 1000);
const refreshLogs = debounce(() => { if (S.tab === 'logs') loadLogs(); }, 1000);

function onEvents(list) {
  let jobs = false, products = false;
  for (const e of list) {
    if (e.topic === 'job') {
      jobs = true;
      const b = e.body;
      const row = S.jobs.rows.find((o) => o.id === b.id);
      if (row) {
        row.status = b.status;
        row.reason = b.reason;
        const tr = $('jobs-body').querySelector(`tr[data-id="${b.id}"]`);
        if (tr) { tr.cells[0].textContent = statusText(b.status) + (b.reason ? ' (' + b.reason + ')' : ''); tr.cells[0].className = statusClass(b.status); }
      }
      if (b.id === S.jobs.sel) refreshSelected();
    } else if (e.topic === 'product' || e.topic === 'scan') {
      products = true;
    }
  }
  refreshStatus();
  refreshLogs();
  if (jobs) refreshJobs();
  if (products) refreshAssets();
}

async function pollEvents() {
  for (;;) {
    try {
      const r = await api('/api/events' + (S.seq >= 0 ? '?since=' + S.seq : ''));
      if (S.boot && r.boot !== S.boot) { location.reload(); return; }
      S.boot = r.boot;
      setLive(true);
      const first = S.seq < 0;
      S.seq = r.seq;
      if (r.reset && !first) { loadStatus(); showTab(S.tab); } else if (r.events.length) onEvents(r.events);
    } catch (e) {
      setLive(false);
      refreshStatus();
      await new Promise((res) => setTimeout(res, 2000));
    }
  }
}

// ---- wiring ----

function wire() {
  for (const b of document.querySelectorAll('#tabs button')) b.addEventListener('click', () => showTab(b.dataset.tab));
  $('jobs-filter').addEventListener('input', debounce(() => { S.jobs.filter = $('jobs-filter').value.trim(); jobsChanged(); }, 300));
  for (const c of document.querySelectorAll('#jobs-status-menu input')) c.addEventListener('change', () => {
    S.jobs.statuses = [...document.querySelectorAll('#jobs-status-menu input:checked')].map((x) => x.value);
    syncStatusMenu();
    jobsChanged();
  });
  $('jobs-status-clear').addEventListener('click', () => { S.jobs.statuses = []; syncStatusMenu(); jobsChanged(); });
  for (const th of document.querySelectorAll('#jobs-table th[data-sort]')) th.addEventListener('click', () => {
    const j = S.jobs;
    if (j.sort === th.dataset.sort) j.order = j.order === 'asc' ? 'desc' : 'asc';
    else { j.sort = th.dataset.sort; j.order = th.dataset.sort === 'completed' || th.dataset.sort === 'duration' ? 'desc' : 'asc'; }
    jobsChanged();
  });
  $('jobs-prev').addEventListener('click', () => { S.jobs.offset = Math.max(0, S.jobs.offset - PAGE); loadJobs(); });
  $('jobs-next').addEventListener('click', () => { S.jobs.offset += PAGE; loadJobs(); });
  for (const b of document.querySelectorAll('#job-actions button, #ctxmenu button')) b.addEventListener('click', () => jobAction(b.dataset.act));
  document.addEventListener('click', (ev) => { if (!$('ctxmenu').contains(ev.target)) closeMenu(); });
  document.addEventListener('keydown', (ev) => { if (ev.key === 'Escape') closeMenu(); });
  $('copy-line').addEventListener('click', () => copyText(lineText(S.lines[S.line], false)));
  $('copy-line-details').addEventListener('click', () => copyText(lineText(S.lines[S.line], true)));
  $('copy-all').addEventListener('click', () => copyText(S.lines.map((l) => lineText(l, true)).join('\n')));

  for (const b of document.querySelectorAll('#tree-kind button')) b.addEventListener('click', () => { S.assets.kind = b.dataset.kind; loadTree(); });
  $('tree-platform').addEventListener('change', () => { S.assets.platform = $('tree-platform').value; loadTree(); });
  $('assets-search').addEventListener('input', debounce(() => { S.assets.search = $('assets-search').value.trim(); loadTree(); }, 300));

  for (const b of document.querySelectorAll('#log-view button')) b.addEventListener('click', () => {
    S.logs.view = b.dataset.view;
    for (const x of document.querySelectorAll('#log-view button')) x.classList.toggle('on', x === b);
    loadLogs();
  });
  $('logs-filter').addEventListener('input', debounce(() => { S.logs.filter = $('logs-filter').value.trim(); loadLogs(); }, 300));

  for (const th of document.querySelectorAll('#builders-table th[data-bsort]')) th.addEventListener('click', () => {
    const B = S.builders;
    if (B.sort === th.dataset.bsort) B.dir = -B.dir; else { B.sort = th.dataset.bsort; B.dir = th.classList.contains('num') ? -1 : 1; }
    renderBuilders();
  });

  $('tool-fast').addEventListener('change', () => setTool('fast_scan', $('tool-fast').checked));
  $('tool-debug').addEventListener('change', () => setTool('debug_output', $('tool-debug').checked));
  $('tool-scan').addEventListener('click', async () => {
    $('tool-scan').disabled = true;
    $('tool-scan-result').textContent = 'scanning…';
    try { await post('/api/rescan'); $('tool-scan-result').textContent = 'scan finished'; loadStatus(); } catch (e) { $('tool-scan-result').textContent = e.message; }
    $('tool-scan').disabled = false;
  });
  setInterval(() => { if (!document.hidden) loadStatus(); }, 5000);
  setInterval(() => { if (!document.hidden && S.tab === 'logs') loadLogs(); }, 4000);
}

async function main() {
  wire();
  await loadStatus();
  const tab = location.hash.replace('#', '');
  showTab(['jobs', 'assets', 'logs', 'connections', 'builders', 'tools', 'shared'].includes(tab) ? tab : 'jobs');
  pollEvents();
}

main();
