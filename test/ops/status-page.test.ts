// The status page in a real browser (Debian's chromium driven by
// playwright-core; no browser download): served by a follower of a 3-node
// cluster of real processes under a bounded load, it shows three members
// and the leader; after kill -9 of the leader it shows the new leader
// without a reload. How long that took is printed, not asserted (tests make
// no timing assertions; on a quiet machine it is about 1.5 s). A screenshot is
// saved in test/artifacts/ (and, with RAFTSEQ_UPDATE_DOCS=1, as
// docs/status-page.png for the README).

import { copyFileSync, existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SequenceClient } from '../../src/client/index.js';
import { skipUnlessCi } from '../deploy/tools.js';
import { ROOT } from '../support/paths.js';
import { ProcCluster } from '../support/proc-cluster.js';

const CHROMIUM = '/usr/bin/chromium';
const skip = skipUnlessCi(
  existsSync(CHROMIUM) ? null : 'chromium not installed (apt-get install chromium)',
);
const ARTIFACTS = join(ROOT, 'test', 'artifacts');
/** Load before the first screenshot (a few points on the charts). */
const LOAD_MS = 6000;

/** What the page shows: the leader in the header and one row per member. */
async function shown(page: Page): Promise<{ leader: string; members: string[]; roles: string[] }> {
  const rows = page.locator('#members tr[data-member]');
  const members: string[] = [];
  const roles: string[] = [];
  for (let i = 0; i < (await rows.count()); i++) {
    members.push((await rows.nth(i).getAttribute('data-member')) ?? '');
    roles.push((await rows.nth(i).getAttribute('data-role')) ?? '');
  }
  return { leader: (await page.textContent('[data-testid="leader"]')) ?? '', members, roles };
}

/** A condition on the page, as the browser evaluates it (DOM code, so a string here). */
const LEADER_SHOWN = (id: string): string =>
  `document.querySelector('[data-testid="leader"]')?.textContent === ${JSON.stringify(id)} && ` +
  `document.querySelectorAll('#members tr[data-member]').length === 3`;
const OTHER_LEADER_SHOWN = (old: string): string =>
  `(() => { const l = document.querySelector('[data-testid="leader"]')?.textContent ?? ''; ` +
  `return l !== '' && l !== ${JSON.stringify(old)} && l !== 'none' && l !== '…'; })()`;

describe.skipIf(skip !== null)(
  `the status page in chromium${skip !== null ? ` (${skip})` : ''}`,
  () => {
    let cluster: ProcCluster;
    let browser: Browser;
    let client: SequenceClient;

    beforeAll(async () => {
      cluster = await ProcCluster.start({
        size: 3,
        serveArgs: ['--metrics-listen', '127.0.0.1:0'],
      });
      client = new SequenceClient({ endpoints: cluster.endpoints, deadlineMs: 10_000 });
      browser = await chromium.launch({
        executablePath: CHROMIUM,
        headless: true,
        args: [
          '--no-sandbox',
          '--disable-gpu',
          '--disable-background-networking',
          '--disable-component-update',
          '--disable-sync',
          '--no-first-run',
        ],
      });
    }, 120_000);

    afterAll(async () => {
      client?.close();
      await browser?.close();
      await cluster?.stop();
    });

    it('shows three members and the leader; after kill -9 of the leader, the new one without a reload', async () => {
      const leader = await cluster.leader();
      // A bounded load (count and time), so that the charts, the busiest
      // sequences and the events have something to show.
      const sequences = ['orders', 'invoices', 'tickets', 'payments', 'shipments'];
      const loadEnd = performance.now() + LOAD_MS;
      for (let i = 0; i < 3000 && performance.now() < loadEnd; i++) {
        await client.next(sequences[i % 5]!, 1 + (i % 7) * (i % 5));
        if (i % 10 === 0) await sleep(5);
      }
      const follower = cluster.nodes.find((n) => n.id !== leader)!;
      const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
      const external: string[] = [];
      page.on('request', (r) => {
        if (!r.url().startsWith(`http://127.0.0.1:${follower.metricsPort}/`))
          external.push(r.url());
      });
      await page.goto(`http://127.0.0.1:${follower.metricsPort}/`);
      await page.waitForFunction(LEADER_SHOWN(leader), undefined, { timeout: 10_000 });
      const before = await shown(page);
      expect(before.members.sort()).toEqual(['n1', 'n2', 'n3']);
      expect(before.roles.filter((r) => r === 'leader')).toHaveLength(1);
      // Followers show the leader's view: it is the leader's that the follower's page displays.
      expect(await page.textContent('#answered')).toBe(`${leader} (leader)`);
      expect(await page.textContent('#served')).toBe(follower.id);
      expect(await page.locator('#busiest tr').count()).toBeGreaterThanOrEqual(3);
      mkdirSync(ARTIFACTS, { recursive: true });
      const shot = join(ARTIFACTS, 'status-page.png');
      await page.screenshot({ path: shot, fullPage: true });
      if (process.env['RAFTSEQ_UPDATE_DOCS'])
        copyFileSync(shot, join(ROOT, 'docs', 'status-page.png'));

      const killedAt = performance.now();
      await cluster.kill(leader);
      await page.waitForFunction(OTHER_LEADER_SHOWN(leader), undefined, {
        timeout: 15_000,
        polling: 50,
      });
      const tookMs = performance.now() - killedAt;
      const after = await shown(page);
      console.log(
        `[status page] new leader ${after.leader} shown ${Math.round(tookMs)} ms after kill -9 of ${leader}`,
      );
      await page.screenshot({
        path: join(ARTIFACTS, 'status-page-after-kill.png'),
        fullPage: true,
      });
      expect(after.leader).not.toBe(leader);
      expect(external).toEqual([]);
      await page.close();
    }, 60_000);
  },
);
