// shots.js: screenshots of every tab of a running dashboard, for the docs.
//   node shots.js http://127.0.0.1:45644/ OUTDIR
'use strict';
const { launch } = require('./lib');

(async () => {
  const [url, out] = process.argv.slice(2);
  const { ctx, close } = await launch();
  try {
    const page = ctx.pages()[0] || (await ctx.newPage());
    await page.goto(url);
    await page.waitForSelector('#jobs-body tr');
    const shot = (name) => page.screenshot({ path: `${out}/${name}.png` });
    // Jobs, with a failed job selected and its log line's context shown.
    await page.fill('#jobs-filter', 'failed');
    await page.waitForFunction(() => [...document.querySelectorAll('#jobs-body tr')].every((r) => r.cells[0].textContent.startsWith('failed')));
    await page.click('#jobs-body tr:first-child');
    await page.waitForSelector('#log-body tr');
    await page.click('#log-body tr:last-child');
    await shot('jobs');
    await page.fill('#jobs-filter', '');
    await page.click('#tab-assets');
    await page.waitForSelector('#tree .node');
    await page.click('#tree li:first-child > .node');
    await page.waitForTimeout(300);
    const file = await page.$('#tree ul .node[data-key]');
    if (file) await file.click();
    await page.waitForTimeout(500);
    await shot('assets');
    for (const t of ['logs', 'connections', 'builders', 'tools', 'shared']) {
      await page.click('#tab-' + t);
      await page.waitForTimeout(700);
      if (t === 'builders') { await page.click('#builders-body tr:first-child'); await page.waitForTimeout(400); }
      await shot(t);
    }
  } finally {
    await close();
  }
})().catch((e) => { console.error(e); process.exit(1); });
