// The picture of a jepsen-lite run, SVG written by hand: latency of every
// completed operation over time on a log scale (ok as dots, fail and info as
// crosses in other colours), the ok throughput underneath, and the nemesis
// windows shaded and labelled across both, in the spirit of Jepsen's
// latency-raw and rate plots.

import type { Analysis } from './analyze.js';

const W = 1200;
const H = 700;
const LEFT = 70;
const RIGHT = 20;
const TOP = 78;
const LAT_H = 380;
const GAP = 40;
const RATE_H = 150;
const PW = W - LEFT - RIGHT;

const PALETTE = ['#f4a261', '#e9c46a', '#90be6d', '#b392f0', '#f28482', '#84a59d', '#a3c4f3'];

const esc = (s: string): string =>
  s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

const f1 = (x: number): string => x.toFixed(1);

export function plotSvg(a: Analysis, title: string): string {
  const ops = a.ops.filter((o) => o.completeTime !== null);
  let endS = 1;
  for (const o of ops) endS = Math.max(endS, Number((o.completeTime as bigint) - a.origin) / 1e9);
  for (const p of a.phases) endS = Math.max(endS, p.toS);
  const x = (s: number): number => LEFT + (s / endS) * PW;

  // Latency axis: whole decades around the data.
  let minL = Infinity;
  let maxL = 0;
  const lat = (o: (typeof ops)[number]): number =>
    Math.max(0.01, Number((o.completeTime as bigint) - o.invokeTime) / 1e6);
  for (const o of ops) {
    const l = lat(o);
    if (l < minL) minL = l;
    if (l > maxL) maxL = l;
  }
  if (!Number.isFinite(minL)) {
    minL = 1;
    maxL = 1000;
  }
  const lo = Math.floor(Math.log10(minL));
  const hi = Math.max(lo + 1, Math.ceil(Math.log10(maxL)));
  const yLat = (ms: number): number => TOP + LAT_H - ((Math.log10(ms) - lo) / (hi - lo)) * LAT_H;

  // Throughput: ok completions per bucket.
  const bucketS = Math.max(0.1, endS / 300);
  const nb = Math.ceil(endS / bucketS) + 1;
  const okRate = new Array<number>(nb).fill(0);
  const badRate = new Array<number>(nb).fill(0);
  for (const o of ops) {
    const b = Math.floor(Number((o.completeTime as bigint) - a.origin) / 1e9 / bucketS);
    if (o.type === 'ok') okRate[b] = (okRate[b] ?? 0) + 1 / bucketS;
    else badRate[b] = (badRate[b] ?? 0) + 1 / bucketS;
  }
  const maxRate = Math.max(1, ...okRate, ...badRate);
  const rateTop = TOP + LAT_H + GAP;
  const yRate = (r: number): number => rateTop + RATE_H - (r / maxRate) * RATE_H;

  const out: string[] = [];
  out.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="DejaVu Sans, Helvetica, Arial, sans-serif">`,
    `<rect width="${W}" height="${H}" fill="white"/>`,
    `<text x="${LEFT}" y="22" font-size="16" font-weight="bold">${esc(title)}</text>`,
  );
  const s = a.summary;
  out.push(
    `<text x="${LEFT}" y="42" font-size="12" fill="${s.valid ? '#1b7f3b' : '#c00000'}">` +
      esc(
        `${s.valid ? 'VALID' : 'INVALID'}: ${s.counts.ok} ok, ${s.counts.fail} fail, ${s.counts.info} info; ` +
          `${s.valuesChecked} values checked, ${s.duplicatePairs} duplicate pairs, ` +
          `${s.orderViolations} order violations, ${s.skippedValues} skipped; ` +
          `availability ${(s.availability * 100).toFixed(2)} %, longest unavailability ${s.longestUnavailabilityMs.toFixed(0)} ms`,
      ) +
      `</text>`,
  );

  // Nemesis windows: a labelled bar above the plot and shading across both panels.
  const colours = new Map<string, string>();
  for (const p of a.phases) {
    if (!p.fault) continue;
    if (!colours.has(p.name)) colours.set(p.name, PALETTE[colours.size % PALETTE.length] as string);
    const c = colours.get(p.name) as string;
    const x0 = x(p.fromS);
    const w = Math.max(1, x(p.toS) - x0);
    out.push(
      `<rect x="${f1(x0)}" y="${TOP}" width="${f1(w)}" height="${LAT_H}" fill="${c}" fill-opacity="0.25"/>`,
      `<rect x="${f1(x0)}" y="${rateTop}" width="${f1(w)}" height="${RATE_H}" fill="${c}" fill-opacity="0.25"/>`,
      `<rect x="${f1(x0)}" y="${TOP - 24}" width="${f1(w)}" height="20" fill="${c}" fill-opacity="0.8"/>`,
    );
    const maxChars = Math.max(0, Math.floor((w - 4) / 6.2));
    const text =
      p.label.length > maxChars ? p.label.slice(0, Math.max(0, maxChars - 1)) + '…' : p.label;
    if (maxChars >= 3) {
      out.push(
        `<text x="${f1(x0 + 3)}" y="${TOP - 10}" font-size="10.5">${esc(text)}<title>${esc(p.label)}</title></text>`,
      );
    }
  }

  // Axes and grid.
  out.push(
    `<rect x="${LEFT}" y="${TOP}" width="${PW}" height="${LAT_H}" fill="none" stroke="#444"/>`,
    `<rect x="${LEFT}" y="${rateTop}" width="${PW}" height="${RATE_H}" fill="none" stroke="#444"/>`,
  );
  for (let d = lo; d <= hi; d++) {
    const y = yLat(10 ** d);
    const label =
      d >= 3 ? `${10 ** (d - 3)} s` : d >= 0 ? `${10 ** d} ms` : `${(10 ** d).toFixed(-d)} ms`;
    out.push(
      `<line x1="${LEFT}" x2="${LEFT + PW}" y1="${f1(y)}" y2="${f1(y)}" stroke="#ddd"/>`,
      `<text x="${LEFT - 6}" y="${f1(y + 4)}" font-size="11" text-anchor="end">${label}</text>`,
    );
  }
  const stepS = niceStep(endS / 12);
  for (let t = 0; t <= endS + 1e-9; t += stepS) {
    const xx = x(t);
    out.push(
      `<line x1="${f1(xx)}" x2="${f1(xx)}" y1="${TOP}" y2="${TOP + LAT_H}" stroke="#eee"/>`,
      `<line x1="${f1(xx)}" x2="${f1(xx)}" y1="${rateTop}" y2="${rateTop + RATE_H}" stroke="#eee"/>`,
      `<text x="${f1(xx)}" y="${rateTop + RATE_H + 16}" font-size="11" text-anchor="middle">${stepS < 1 ? t.toFixed(1) : Math.round(t)}</text>`,
    );
  }
  for (const r of [0, maxRate / 2, maxRate]) {
    out.push(
      `<text x="${LEFT - 6}" y="${f1(yRate(r) + 4)}" font-size="11" text-anchor="end">${Math.round(r)}</text>`,
    );
  }
  out.push(
    `<text x="18" y="${TOP + LAT_H / 2}" font-size="12" transform="rotate(-90 18 ${TOP + LAT_H / 2})" text-anchor="middle">latency (log)</text>`,
    `<text x="18" y="${rateTop + RATE_H / 2}" font-size="12" transform="rotate(-90 18 ${rateTop + RATE_H / 2})" text-anchor="middle">ops/s</text>`,
    `<text x="${LEFT + PW / 2}" y="${H - 8}" font-size="12" text-anchor="middle">time since start (s)</text>`,
  );

  // Points, one per pixel and kind (keeps the file small).
  const seen = new Set<string>();
  const dots: string[] = [];
  const crosses: string[] = [];
  for (const o of ops) {
    const px = Math.round(x(Number((o.completeTime as bigint) - a.origin) / 1e9));
    const py = Math.round(yLat(lat(o)));
    const key = `${o.type}:${px}:${py}`;
    if (seen.has(key)) continue;
    seen.add(key);
    if (o.type === 'ok') dots.push(`<circle cx="${px}" cy="${py}" r="1.6"/>`);
    else {
      const colour = o.type === 'fail' ? '#d62728' : '#ff7f0e';
      crosses.push(
        `<path d="M${px - 3} ${py - 3}L${px + 3} ${py + 3}M${px - 3} ${py + 3}L${px + 3} ${py - 3}" stroke="${colour}" stroke-width="1.4"/>`,
      );
    }
  }
  out.push(
    `<g fill="#1f77b4" fill-opacity="0.6">${dots.join('')}</g>`,
    `<g>${crosses.join('')}</g>`,
  );

  // Findings: rings around the ops of duplicates (red) and order violations (purple).
  const ring = (o: (typeof ops)[number], colour: string, what: string): string => {
    const px = x(Number((o.completeTime as bigint) - a.origin) / 1e9);
    const py = yLat(lat(o));
    return `<circle cx="${f1(px)}" cy="${f1(py)}" r="7" fill="none" stroke="${colour}" stroke-width="2"><title>${esc(what)}</title></circle>`;
  };
  for (const d of a.check.duplicates.slice(0, 50)) {
    const what = `duplicate ${d.sequence} ${d.overlap[0]}..${d.overlap[1]}`;
    out.push(ring(d.a, '#c00000', what), ring(d.b, '#c00000', what));
  }
  for (const v of a.check.orderViolations.slice(0, 50)) {
    const what = `order violation ${v.sequence}: ${v.later.first} after ${v.earlier.last}`;
    out.push(ring(v.earlier, '#7b2cbf', what), ring(v.later, '#7b2cbf', what));
  }

  // Throughput lines.
  const line = (rates: number[], colour: string): string => {
    const pts = rates.map((r, i) => `${f1(x((i + 0.5) * bucketS))},${f1(yRate(r))}`).join(' ');
    return `<polyline points="${pts}" fill="none" stroke="${colour}" stroke-width="1.3"/>`;
  };
  out.push(line(okRate, '#1f77b4'), line(badRate, '#d62728'));

  // The longest unavailability, as a bar under the throughput.
  if (s.longestUnavailabilityMs > 0) {
    const x0 = x(s.longestUnavailabilityAtS);
    const x1 = x(s.longestUnavailabilityAtS + s.longestUnavailabilityMs / 1000);
    out.push(
      `<line x1="${f1(x0)}" x2="${f1(x1)}" y1="${rateTop + RATE_H - 3}" y2="${rateTop + RATE_H - 3}" stroke="black" stroke-width="4"/>`,
    );
  }

  // Legend.
  const ly = TOP + LAT_H + 26;
  out.push(
    `<circle cx="${LEFT + 6}" cy="${ly - 4}" r="3" fill="#1f77b4"/><text x="${LEFT + 14}" y="${ly}" font-size="11">ok</text>`,
    `<path d="M${LEFT + 46} ${ly - 7}l6 6m-6 0l6 -6" stroke="#d62728" stroke-width="1.5"/><text x="${LEFT + 58}" y="${ly}" font-size="11">fail</text>`,
    `<path d="M${LEFT + 94} ${ly - 7}l6 6m-6 0l6 -6" stroke="#ff7f0e" stroke-width="1.5"/><text x="${LEFT + 106}" y="${ly}" font-size="11">info (indeterminate)</text>`,
    `<line x1="${LEFT + 230}" x2="${LEFT + 250}" y1="${ly - 4}" y2="${ly - 4}" stroke="black" stroke-width="4"/><text x="${LEFT + 256}" y="${ly}" font-size="11">longest unavailability</text>`,
    `<text x="${LEFT + 400}" y="${ly}" font-size="11">shaded: nemesis active · lower panel: ok (blue) and fail+info (red) per second</text>`,
  );
  out.push('</svg>');
  return out.join('\n') + '\n';
}

function niceStep(raw: number): number {
  const p = 10 ** Math.floor(Math.log10(Math.max(raw, 1e-9)));
  for (const m of [1, 2, 5, 10]) if (raw <= m * p) return m * p;
  return 10 * p;
}
