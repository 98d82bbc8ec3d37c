// lib.js: starts Debian's Chromium headless through playwright-core for the
// dashboard's tests and screenshots. A browser that cannot start is an error
// that names the cause, never a skipped test.
'use strict';
const fs = require('fs');
const os = require('os');
const path = require('path');

let chromium;
try {
  ({ chromium } = require('playwright-core'));
} catch (e) {
  throw new Error('playwright-core is not installed in tests/dashboard: run scripts/setup-dashboard.sh (' + e.message + ')');
}

const EXE = process.env.KILN_CHROMIUM || '/usr/bin/chromium';

async function launch() {
  if (!fs.existsSync(EXE)) throw new Error(`no browser at ${EXE}: run scripts/setup-dashboard.sh (apt-get install chromium)`);
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'kiln-chromium-'));
  const ctx = await chromium.launchPersistentContext(profile, {
    executablePath: EXE,
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync'],
    viewport: { width: 1400, height: 860 },
    timeout: 60000,
  });
  const close = async () => {
    await ctx.close().catch(() => {});
    fs.rmSync(profile, { recursive: true, force: true });
  };
  return { ctx, close };
}

module.exports = { launch };
