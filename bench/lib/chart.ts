// A hand-written SVG chart of one benchmark run: calls/s per system/config at
// the headline concurrency (log scale), p50/p99 latency of the same rows, and
// ids/s of the bulk paths (count=1000, client lease).
import type { Row } from './types.js';

const COLORS: Record<string, string> = {
  raftseq: '#1f77b4',
  'grpc-js trivial': '#7f7f7f',
  PostgreSQL: '#2ca02c',
  Redis: '#d62728',
  etcd: '#ff7f0e',
};

const esc = (s: string): string =>
  s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

function human(n: number): string {
  if (!Number.isFinite(n)) return '–';
  if (n >= 1e6) return `${(n / 1e6).toFixed(n >= 1e7 ? 0 : 1)}M`;
  if (n >= 1e3) return `${(n / 1e3).toFixed(n >= 1e5 ? 0 : 1)}k`;
  return n >= 10 ? n.toFixed(0) : n.toFixed(2);
}

interface Bar {
  label: string;
  system: string;
  value: number;
  value2?: number;
  /** Range of `value` over repeated runs, drawn as a whisker. */
  range?: [number, number];
}

const BAR_W = 560;
const ROW_H = 22;
const LEFT = 10;
const LABEL_FONT = 12;
const VALUE_FONT = 11;

/**
 * Width (px) that `text` takes at `fontPx`, on the safe side: DejaVu Sans,
 * the chart's first font, averages under 0.62 em per character for these
 * labels, so nothing measured this way is clipped by the SVG's edges.
 */
export function textWidth(text: string, fontPx: number): number {
  return Math.ceil(text.length * fontPx * 0.62);
}

/** The text written after a bar. */
function valueText(b: Bar, twoValues: boolean): string {
  return twoValues && b.value2 !== undefined
    ? `${human(b.value)} / ${human(b.value2)} ms`
    : human(b.value);
}

/** Layout shared by every panel: label column as wide as the longest label, room for the values. */
interface Layout {
  labelW: number;
  valueW: number;
}

/**
 * One horizontal-bar panel on a log10 axis from 10^lo to 10^hi, or further
 * when a value (or range) goes past 10^hi: no bar runs past the axis.
 */
function panel(
  title: string,
  bars: Bar[],
  y0: number,
  lo: number,
  minHi: number,
  unit: string,
  twoValues: boolean,
  layout: Layout,
): { svg: string; height: number } {
  const top10 = Math.max(
    ...bars.map((b) => Math.max(b.value, b.value2 ?? 0, b.range?.[1] ?? 0)),
    10 ** minHi,
  );
  const hi = Math.ceil(Math.log10(top10) - 1e-9);
  const LABEL_W = layout.labelW;
  const x = (v: number): number => {
    const l = Math.log10(Math.max(v, 10 ** lo));
    return LEFT + LABEL_W + ((l - lo) / (hi - lo)) * BAR_W;
  };
  let s = `<text x="${LEFT}" y="${y0 + 16}" font-size="15" font-weight="bold">${esc(title)}</text>\n`;
  const top = y0 + 28;
  const h = bars.length * ROW_H;
  for (let p = lo; p <= hi; p++) {
    const gx = x(10 ** p);
    s += `<line x1="${gx}" y1="${top}" x2="${gx}" y2="${top + h}" stroke="#ddd"/>\n`;
    s += `<text x="${gx}" y="${top + h + 14}" font-size="11" text-anchor="middle" fill="#555">${human(10 ** p)}${esc(unit)}</text>\n`;
  }
  bars.forEach((b, i) => {
    const y = top + i * ROW_H;
    const color = COLORS[b.system] ?? '#9467bd';
    s += `<text x="${LEFT + LABEL_W - 6}" y="${y + 15}" font-size="${LABEL_FONT}" text-anchor="end">${esc(b.label)}</text>\n`;
    const x0 = x(10 ** lo);
    if (twoValues && b.value2 !== undefined) {
      // p50 as a solid bar, p99 as a lighter bar behind it.
      s += `<rect x="${x0}" y="${y + 3}" width="${Math.max(1, x(b.value2) - x0)}" height="${ROW_H - 6}" fill="${color}" opacity="0.35"/>\n`;
      s += `<rect x="${x0}" y="${y + 3}" width="${Math.max(1, x(b.value) - x0)}" height="${ROW_H - 6}" fill="${color}"/>\n`;
      s += `<text x="${x(b.value2) + 4}" y="${y + 15}" font-size="${VALUE_FONT}" fill="#333">${esc(valueText(b, true))}</text>\n`;
    } else {
      s += `<rect x="${x0}" y="${y + 3}" width="${Math.max(1, x(b.value) - x0)}" height="${ROW_H - 6}" fill="${color}"/>\n`;
      let end = x(b.value);
      if (b.range !== undefined && b.range[1] > b.range[0]) {
        // The spread over repeated runs: a whisker from min to max.
        const [a, z] = [x(b.range[0]), x(b.range[1])];
        const ym = y + ROW_H / 2;
        s += `<path d="M${a} ${ym}H${z}M${a} ${ym - 5}V${ym + 5}M${z} ${ym - 5}V${ym + 5}" stroke="#222" stroke-width="1.2" fill="none"/>\n`;
        end = Math.max(end, z);
      }
      s += `<text x="${end + 4}" y="${y + 15}" font-size="${VALUE_FONT}" fill="#333">${esc(valueText(b, false))}</text>\n`;
    }
  });
  return { svg: s, height: 28 + h + 24 };
}

export function renderChart(rows: Row[], c: number, date: string, quick: boolean): string {
  const head = rows.filter(
    (r) =>
      r.concurrency === c &&
      !/count=1000$/.test(r.config) &&
      !/lease/.test(r.config) &&
      r.opsPerSec > 0,
  );
  const order = ['raftseq', 'grpc-js trivial', 'PostgreSQL', 'Redis', 'etcd'];
  head.sort(
    (a, b) => order.indexOf(a.system) - order.indexOf(b.system) || b.opsPerSec - a.opsPerSec,
  );
  const label = (r: Row): string => `${r.system} · ${r.config}`;
  const thr: Bar[] = head.map((r) => ({
    label: label(r),
    system: r.system,
    value: r.opsPerSec,
    ...(r.opsPerSecRange ? { range: r.opsPerSecRange } : {}),
  }));
  const lat: Bar[] = head
    .filter((r) => r.latencyMs.p50 !== undefined && Number.isFinite(r.latencyMs.p50))
    .map((r) => ({
      label: label(r),
      system: r.system,
      value: r.latencyMs.p50 as number,
      value2: (r.latencyMs.p99 ?? r.latencyMs.p50) as number,
    }));
  const bulk: Bar[] = rows
    .filter(
      (r) => r.system === 'raftseq' && (/count=1000$/.test(r.config) || /lease/.test(r.config)),
    )
    .filter((r) => r.idsPerSec > 0)
    .map((r) => ({
      label: `${r.config}, ${r.concurrency} in flight`,
      system: r.system,
      value: r.idsPerSec,
    }));

  const all = [...thr, ...lat, ...bulk];
  const layout: Layout = {
    labelW: Math.max(200, ...all.map((b) => textWidth(b.label, LABEL_FONT))) + 16,
    valueW:
      Math.max(...all.map((b) => textWidth(valueText(b, b.value2 !== undefined), VALUE_FONT))) + 16,
  };
  let y = 40;
  let body = '';
  const title = `Calls/s, count=1, ${c} calls in flight (log scale${thr.some((b) => b.range) ? '; whiskers: range over repeated runs' : ''})`;
  const p1 = panel(title, thr, y, 2, 5, '', false, layout);
  body += p1.svg;
  y += p1.height + 10;
  const p2 = panel(
    `Latency p50 (solid) / p99 (light), ${c} in flight (ms, log scale)`,
    lat,
    y,
    -2,
    2,
    '',
    true,
    layout,
  );
  body += p2.svg;
  y += p2.height + 10;
  if (bulk.length) {
    const p3 = panel(
      'raftseq ids/s: Next(count=1000) and client lease (log scale)',
      bulk,
      y,
      3,
      7,
      '',
      false,
      layout,
    );
    body += p3.svg;
    y += p3.height;
  }
  const heading = `raftseq vs peers on one 2-core machine — ${date.slice(0, 10)}${quick ? ' (--quick)' : ''}`;
  const width = Math.max(
    LEFT + layout.labelW + BAR_W + layout.valueW,
    LEFT + textWidth(heading, 18) + 10,
    LEFT + textWidth(title, 15) + 10,
  );
  const legend = order
    .map(
      (sys, i) =>
        `<rect x="${LEFT + i * 150}" y="${y + 6}" width="12" height="12" fill="${COLORS[sys]}"/><text x="${LEFT + i * 150 + 16}" y="${y + 17}" font-size="12">${esc(sys)}</text>`,
    )
    .join('\n');
  const height = y + 30;
  return (
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="DejaVu Sans, Helvetica, Arial, sans-serif">\n` +
    `<rect width="100%" height="100%" fill="white"/>\n` +
    `<text x="${LEFT}" y="24" font-size="18" font-weight="bold">${esc(heading)}</text>\n` +
    body +
    legend +
    '\n</svg>\n'
  );
}
