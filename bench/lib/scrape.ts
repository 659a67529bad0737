// Reads a raftseq node's Prometheus endpoint (--metrics-listen): the figures
// the bench needs that the API does not give (heap, elections, lease losses).

/** Every sample of the exposition at `port`, keyed `name{labels}` (or `name`). */
export async function scrape(port: number): Promise<Map<string, number>> {
  const res = await fetch(`http://127.0.0.1:${port}/metrics`, {
    signal: AbortSignal.timeout(5000),
  });
  return parseExposition(await res.text());
}

/** Parses Prometheus' text format into `name{labels}` -> value. */
export function parseExposition(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const i = line.lastIndexOf(' ');
    if (i > 0) out.set(line.slice(0, i), Number(line.slice(i + 1)));
  }
  return out;
}

/** The sum of the samples of metric `name` whose labels contain `labels` (e.g. 'outcome="ok"'). */
export function sumOf(samples: Map<string, number>, name: string, labels = ''): number {
  let sum = 0;
  for (const [key, value] of samples) {
    const base = key.split('{')[0];
    if (base === name && key.includes(labels)) sum += value;
  }
  return sum;
}
