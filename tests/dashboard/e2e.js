// e2e.js: the dashboard in a real browser (Debian's Chromium, headless,
// through playwright-core), against a running `kiln run`:
//   node e2e.js URL CALL_LOG
// tests/integration/dashboard_e2e.sh makes the project and starts kiln. The
// project holds textures/*.txt (kiln-copy), rogue builder sources (*.rog,
// one of them crash_segv.rog), and level.dep naming tex.dep (graph.py).
// Prints one line per check and "N passed, N failed" at the end; exits 1 when
// anything failed or the browser could not start.
'use strict';
const fs = require('fs');
const { launch } = require('./lib');

const [url, callLog] = process.argv.slice(2);
if (!url || !callLog) {
  console.error('usage: node e2e.js URL CALL_LOG');
  process.exit(2);
}

let passed = 0, failed = 0;

async function check(name, fn) {
  const t0 = Date.now();
  try {
    await fn();
    passed++;
    console.log(`ok   ${name} (${Date.now() - t0} ms)`);
  } catch (e) {
    failed++;
    console.log(`FAIL ${name}: ${e.message.split('\n').slice(0, 6).join('\n     ')}`);
  }
}

function expect(cond, msg) {
  if (!cond) throw new Error(msg);
}

const rangeTotal = async (page) => {
  const t = await page.textContent('#jobs-range');
  const m = /of ([\d,]+)/.exec(t || '');
  return m ? Number(m[1].replace(/,/g, '')) : -1;
};

const jobRows = (page) => page.$$eval('#jobs-body tr', (rows) => rows.map((r) => ({
  id: Number(r.dataset.id), status: r.cells[0].textContent, source: r.cells[1].textContent,
  completed: r.cells[2].textContent, platform: r.cells[3].textContent,
})));

(async () => {
  let browser;
  try {
    browser = await launch();
  } catch (e) {
    console.log(`FAIL the browser did not start: ${e.message}`);
    console.log('0 passed, 1 failed');
    process.exit(1);
  }
  const { ctx, close } = browser;
  const page = ctx.pages()[0] || (await ctx.newPage());
  page.setDefaultTimeout(15000);
  const pageErrors = [];
  page.on('pageerror', (e) => pageErrors.push(e.message));
  try {
    await check('the page loads with the project and live updates', async () => {
      await page.goto(url);
      await page.waitForSelector('#jobs-body tr');
      await page.waitForFunction(() => document.getElementById('st-live').textContent.includes('live'));
      const project = await page.textContent('#project');
      expect(project.trim().length > 0, 'no project name in the header');
      const state = await page.textContent('#st-state');
      expect(/idle|processing|analysing|scanning/i.test(state), `state "${state}"`);
    });

    await check('a failing builder\'s job shows as failed with its log', async () => {
      await page.fill('#jobs-filter', 'segv');
      await page.waitForFunction(() => {
        const rows = [...document.querySelectorAll('#jobs-body tr')];
        return rows.length > 0 && rows.every((r) => r.cells[1].textContent.includes('segv'));
      });
      const rows = await jobRows(page);
      expect(rows.every((r) => r.status.startsWith('failed')), 'statuses: ' + rows.map((r) => r.status).join(', '));
      expect(rows.some((r) => r.status.includes('crashed')), 'no "crashed" reason: ' + rows.map((r) => r.status).join(', '));
      await page.click('#jobs-body tr:first-child');
      await page.waitForFunction(() => [...document.querySelectorAll('#log-body tr')].some((r) => /signal 11|Segmentation/.test(r.textContent)));
      const title = await page.textContent('#job-log-title');
      expect(/failed \(crashed\)/.test(title), `log title "${title}"`);
    });

    await check('a chosen log line shows its context keys and values', async () => {
      // noisy_warn.rog's builder logs "this is a warning" with {file: noisy_warn.rog}.
      await page.fill('#jobs-filter', '^noisy_warn\\.rog$');
      await page.waitForFunction(() => {
        const rows = [...document.querySelectorAll('#jobs-body tr')];
        return rows.length === 1 && rows[0].cells[1].textContent === 'noisy_warn.rog';
      });
      await page.click('#jobs-body tr:first-child');
      await page.waitForFunction(() => [...document.querySelectorAll('#log-body tr')].some((r) => r.textContent.includes('this is a warning')));
      expect(await page.$$eval('#ctx-body tr', (rows) => rows.length) === 0, 'context shown before a line was chosen');
      await page.click('#log-body tr:has-text("this is a warning")');
      await page.waitForFunction(() => document.querySelectorAll('#ctx-body tr').length > 0);
      const kv = await page.$$eval('#ctx-body tr', (rows) => rows.map((r) => [r.cells[0].textContent, r.cells[1].textContent]));
      expect(kv.length === 1 && kv[0][0] === 'file' && kv[0][1] === 'noisy_warn.rog', 'context rows: ' + JSON.stringify(kv));
      await page.fill('#jobs-filter', '');
    });

    await check('the status menu narrows the list to failed jobs', async () => {
      await page.fill('#jobs-filter', '');
      await page.click('#jobs-status-summary');
      await page.check('#jobs-status-menu input[value="failed"]');
      await page.waitForFunction(() => {
        const rows = [...document.querySelectorAll('#jobs-body tr')];
        return rows.length > 0 && rows.every((r) => r.cells[0].textContent.startsWith('failed'));
      });
      await page.uncheck('#jobs-status-menu input[value="failed"]');
      await page.click('#jobs-status-summary');
    });

    await check('a regex filter narrows the list', async () => {
      // The number of all jobs, from the page's own API; the list shows it
      // once the cleared filter has taken effect.
      const all = await page.evaluate(async () => (await (await fetch('/api/jobs?limit=1')).json()).total);
      await page.fill('#jobs-filter', '');
      await page.waitForFunction((all) => {
        const m = /of ([\d,]+)/.exec(document.getElementById('jobs-range').textContent);
        return m && Number(m[1].replace(/,/g, '')) === all;
      }, all);
      await page.fill('#jobs-filter', '^textures/set1[0-9]/');
      await page.waitForFunction((all) => {
        const m = /of ([\d,]+)/.exec(document.getElementById('jobs-range').textContent);
        return m && Number(m[1].replace(/,/g, '')) < all;
      }, all);
      const some = await rangeTotal(page);
      const rows = await jobRows(page);
      expect(some > 0 && some < all, `${some} of ${all}`);
      expect(rows.every((r) => /^textures\/set1[0-9]\//.test(r.source)), 'a row does not match: ' + rows.map((r) => r.source).find((s) => !/^textures\/set1[0-9]\//.test(s)));
      // A broken regex is an error on the page, not an empty list.
      await page.fill('#jobs-filter', 'textures/(');
      await page.waitForFunction(() => document.getElementById('jobs-error').textContent.includes('filter'));
      await page.fill('#jobs-filter', '');
    });

    await check('sorting by a column asks the database', async () => {
      // The first rows of each order, from the API: the table shows them once
      // the sorted page has come back.
      const first = (order) => page.evaluate(async (order) =>
        (await (await fetch('/api/jobs?sort=source&order=' + order + '&limit=1')).json()).jobs[0].source, order);
      const shows = (src) => page.waitForFunction((src) => {
        const r = document.querySelector('#jobs-body tr');
        return r && r.cells[1].textContent === src;
      }, src);
      await page.click('#jobs-table th[data-sort="source"]');
      await page.waitForFunction(() => document.querySelector('#jobs-table th[data-sort="source"]').className.includes('sorted-asc'));
      await shows(await first('asc'));
      const asc = (await jobRows(page)).map((r) => r.source);
      await page.click('#jobs-table th[data-sort="source"]');
      await page.waitForFunction(() => document.querySelector('#jobs-table th[data-sort="source"]').className.includes('sorted-desc'));
      await shows(await first('desc'));
      const desc = (await jobRows(page)).map((r) => r.source);
      expect(asc[0] !== desc[0], 'the first row did not change');
      expect([...asc].sort().join() === asc.join(), 'ascending page is not sorted');
    });

    await check('a dependency is followed from a source to a product and back', async () => {
      await page.click('#tab-assets');
      await page.click('#tree-kind button[data-kind="source"]');
      await page.fill('#assets-search', '^level\\.dep$');
      await page.waitForFunction(() => {
        const n = [...document.querySelectorAll('#tree .node[data-key]')];
        return n.length === 1 && n[0].textContent.trim() === 'level.dep';
      });
      await page.click('#tree .node[data-key]');
      await page.waitForFunction(() => document.getElementById('detail-title')?.textContent === 'level.dep');
      // The source depends on tex.dep ...
      await page.waitForSelector('#asset-detail a:text-is("tex.dep")');
      // ... and makes level.dep.out, whose product depends on tex.dep.out.
      await page.click('#asset-detail a:text-is("pc/level.dep.out")');
      await page.waitForFunction(() => document.getElementById('detail-title')?.textContent === 'pc/level.dep.out');
      const deps = await page.$$('#asset-detail h3:text-is("Dependencies") + ul a');
      expect(deps.length === 1, `${deps.length} dependencies`);
      await deps[0].click();
      await page.waitForFunction(() => document.getElementById('detail-title')?.textContent === 'pc/tex.dep.out');
      // Back: tex.dep.out is depended on by level.dep.out, whose source is level.dep.
      await page.click('#asset-detail h3:text-is("Depended on by") + ul a');
      await page.waitForFunction(() => document.getElementById('detail-title')?.textContent === 'pc/level.dep.out');
      await page.click('#asset-detail a:text-is("level.dep")');
      await page.waitForFunction(() => document.getElementById('detail-title')?.textContent === 'level.dep' && document.getElementById('detail-title').dataset.kind === 'source');
      // And from the source to the one it depends on, and back again.
      await page.click('#asset-detail a:text-is("tex.dep")');
      await page.waitForFunction(() => document.getElementById('detail-title')?.textContent === 'tex.dep');
      await page.click('#asset-detail h3:text-is("Depended on by") + ul a:text-is("level.dep")');
      await page.waitForFunction(() => document.getElementById('detail-title')?.textContent === 'level.dep');
    });

    await check('the source tree lists folders and opens them', async () => {
      await page.fill('#assets-search', '');
      await page.waitForSelector('#tree > li > .node[title="textures"]');
      await page.click('#tree > li > .node[title="textures"]');
      await page.waitForSelector('#tree .node[title="textures/set10"]');
    });

    await check('reprocess from the page runs the job again', async () => {
      const countCalls = () => fs.readFileSync(callLog, 'utf8').split('\n').filter((l) => / process_job .*again\.rog/.test(l)).length;
      const before = countCalls();
      expect(before >= 1, `the builder never processed again.rog (${before} calls)`);
      await page.click('#tab-jobs');
      await page.fill('#jobs-filter', '^again\\.rog$');
      await page.waitForFunction(() => {
        const rows = [...document.querySelectorAll('#jobs-body tr')];
        return rows.length === 1 && rows[0].cells[1].textContent === 'again.rog' && rows[0].cells[0].textContent.startsWith('completed');
      });
      const [row] = await jobRows(page);
      await page.click('#jobs-body tr:first-child', { button: 'right' });
      await page.click('#ctxmenu button[data-act="reprocess"]');
      await page.waitForFunction(() => /Reprocessing again\.rog: 1 job/.test(document.getElementById('flash').textContent));
      // The builder is asked again, and the row shows the new completion time
      // without a reload.
      // The call log is a file of the test's: waited for as a condition,
      // read every 100 ms, for at most 20 s.
      const t0 = Date.now();
      while (countCalls() <= before) {
        expect(Date.now() - t0 < 20000, 'the builder was not asked again within 20 s');
        await new Promise((r) => setTimeout(r, 100));
      }
      await page.waitForFunction((old) => {
        const r = document.querySelector('#jobs-body tr');
        return r && r.cells[2].textContent !== old && r.cells[0].textContent.startsWith('completed');
      }, row.completed, { timeout: 20000 });
    });

    await check('mutating requests without the token or from another site are refused', async () => {
      const r = await page.evaluate(async () => {
        const a = await fetch('/api/rescan', { method: 'POST' });
        const b = await fetch('/api/reprocess', { method: 'POST', headers: { 'X-Kiln-Token': 'nope' }, body: '{"path":"again.rog"}' });
        return [a.status, b.status];
      });
      expect(r[0] === 403 && r[1] === 403, `statuses ${r}`);
    });

    await check('every tab renders', async () => {
      for (const t of ['logs', 'connections', 'builders', 'tools', 'shared']) {
        await page.click('#tab-' + t);
        await page.waitForSelector(`#panel-${t}:not([hidden])`);
      }
      await page.click('#tab-logs');
      await page.waitForSelector('#logs-body tr');
      await page.click('#tab-connections');
      await page.waitForFunction(() => document.getElementById('conn-clients')?.textContent.includes('kiln-dashboard'));
      await page.click('#tab-builders');
      await page.waitForFunction(() => document.querySelectorAll('#builders-body tr').length >= 3);
      await page.click('#builders-body tr:first-child');
      await page.waitForSelector('#builder-detail h2');
      await page.click('#tab-shared');
      await page.waitForFunction(() => document.getElementById('shared').textContent.includes('not configured'));
    });

    await check('no script errors on the page', async () => {
      expect(pageErrors.length === 0, pageErrors.join('; '));
    });
  } finally {
    await close();
  }
  console.log(`${passed} passed, ${failed} failed`);
  process.exit(failed ? 1 : 0);
})().catch((e) => {
  console.log(`FAIL ${e.stack || e}`);
  console.log(`${passed} passed, ${failed + 1} failed`);
  process.exit(1);
});
