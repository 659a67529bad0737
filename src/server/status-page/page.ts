// The status page: one self-contained HTML document (no external scripts,
// styles, fonts or images, so it works on an isolated network). It fetches
// /status.json every second and redraws; the charts are hand-drawn SVG.
// Each node counts the values it served while leader, so the page keeps
// every node's samples it has seen, by node and second, and charts their
// sum: the charts go on across a change of leader instead of starting over.

export const STATUS_PAGE_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>raftseq status</title>
<style>
  :root { --fg:#1d2330; --muted:#667085; --line:#e4e7ec; --ok:#067647; --bad:#b42318; --accent:#1849a9; --warn:#b54708; }
  * { box-sizing: border-box; }
  body { margin: 0; font: 14px/1.4 system-ui, -apple-system, "Segoe UI", sans-serif; color: var(--fg); background: #f8f9fb; }
  header { padding: 14px 22px; background: #fff; border-bottom: 1px solid var(--line); display: flex; gap: 24px; align-items: baseline; flex-wrap: wrap; }
  header h1 { font-size: 18px; margin: 0; }
  .kv { color: var(--muted); } .kv b { color: var(--fg); }
  main { padding: 16px 22px; display: grid; gap: 16px; grid-template-columns: 1fr 1fr; }
  section { background: #fff; border: 1px solid var(--line); border-radius: 8px; padding: 12px 14px; min-width: 0; }
  section.wide { grid-column: 1 / -1; }
  h2 { font-size: 13px; text-transform: uppercase; letter-spacing: .04em; color: var(--muted); margin: 0 0 8px; }
  table { border-collapse: collapse; width: 100%; font-variant-numeric: tabular-nums; }
  th, td { text-align: left; padding: 4px 8px; border-bottom: 1px solid var(--line); white-space: nowrap; }
  th { color: var(--muted); font-weight: 500; font-size: 12px; }
  td.num { text-align: right; } th.num { text-align: right; }
  .pill { display: inline-block; padding: 1px 8px; border-radius: 10px; font-size: 12px; }
  .ok { background: #ecfdf3; color: var(--ok); } .bad { background: #fef3f2; color: var(--bad); } .warn { background:#fffaeb; color: var(--warn); }
  .leader { color: var(--accent); font-weight: 600; }
  #note { grid-column: 1 / -1; background: #fffaeb; border: 1px solid #fedf89; color: var(--warn); border-radius: 8px; padding: 8px 12px; }
  #note:empty { display: none; }
  svg { width: 100%; height: 150px; display: block; }
  svg text { font-size: 11px; fill: var(--muted); }
  ul { list-style: none; margin: 0; padding: 0; max-height: 260px; overflow: auto; }
  li { padding: 3px 0; border-bottom: 1px solid var(--line); }
  li time { color: var(--muted); margin-right: 8px; font-variant-numeric: tabular-nums; }
  li .kind { display: inline-block; min-width: 84px; font-size: 12px; color: var(--accent); }
  .stale { opacity: .55; }
</style>
</head>
<body>
<header>
  <h1>raftseq</h1>
  <span class="kv">leader <b id="leader" data-testid="leader">…</b></span>
  <span class="kv">term <b id="term">…</b></span>
  <span class="kv">commit <b id="commit">…</b></span>
  <span class="kv">view of <b id="answered">…</b> via <b id="served">…</b></span>
  <span class="kv">wire format <b id="wire">…</b></span>
  <span class="kv">cluster <b id="cluster">…</b></span>
  <span class="kv" id="updated"></span>
</header>
<main>
  <div id="note"></div>
  <section class="wide"><h2>Members</h2>
    <table><thead><tr><th>ID</th><th>Address</th><th>Role</th><th class="num">Term</th><th class="num">Commit</th><th class="num">Applied</th><th class="num">Lag</th><th class="num">Last contact</th><th class="num">Lease</th><th>Version</th><th>Health</th></tr></thead>
    <tbody id="members"></tbody></table>
  </section>
  <section><h2>Values served per second</h2><svg id="served-chart" viewBox="0 0 600 150" preserveAspectRatio="none"></svg></section>
  <section><h2>Values skipped per second</h2><svg id="skipped-chart" viewBox="0 0 600 150" preserveAspectRatio="none"></svg></section>
  <section><h2>Busiest sequences</h2>
    <table><thead><tr><th>Sequence</th><th class="num">Next</th><th class="num">Reserved</th><th class="num">Block</th><th class="num">Rate/s</th><th class="num">Served</th><th>Skipped, by cause</th></tr></thead>
    <tbody id="busiest"></tbody></table>
  </section>
  <section><h2>Recent events</h2><ul id="events"></ul></section>
</main>
<script>
"use strict";
const $ = (id) => document.getElementById(id);
const esc = (s) => String(s).replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]);
const dash = (v, f) => (v === null || v === undefined ? "–" : f ? f(v) : String(v));
const ms = (v) => (v < 1000 ? Math.round(v) + " ms" : (v / 1000).toFixed(1) + " s");
const clock = (t) => new Date(t).toLocaleTimeString();

const HISTORY_S = 600;
const seen = new Map(); // "node@second" -> sample

function remember(node, samples) {
  for (const s of samples) seen.set(node + "@" + Math.round(s.at / 1000), s);
  const cutoff = Date.now() - HISTORY_S * 1000;
  for (const [k, s] of seen) if (s.at < cutoff) seen.delete(k);
}

/** One point per second: the sum over the nodes that reported it. */
function merged() {
  const bySecond = new Map();
  for (const s of seen.values()) {
    const sec = Math.round(s.at / 1000);
    const p = bySecond.get(sec) ?? { at: sec * 1000, served: 0, skipped: 0 };
    p.served += s.served;
    p.skipped += s.skipped;
    bySecond.set(sec, p);
  }
  return [...bySecond.values()].sort((a, b) => a.at - b.at);
}

function chart(svg, samples, key, color) {
  const W = 600, H = 150, L = 44, B = 18, T = 8;
  const pts = samples.slice(-HISTORY_S);
  const max = Math.max(1, ...pts.map((s) => s[key]));
  const x = (i) => L + (pts.length < 2 ? 0 : (i * (W - L - 4)) / (pts.length - 1));
  const y = (v) => T + (H - T - B) * (1 - v / max);
  let d = "";
  pts.forEach((s, i) => { d += (i ? "L" : "M") + x(i).toFixed(1) + "," + y(s[key]).toFixed(1); });
  const area = pts.length ? d + "L" + x(pts.length - 1).toFixed(1) + "," + (H - B) + "L" + L + "," + (H - B) + "Z" : "";
  const span = pts.length ? Math.round((pts[pts.length - 1].at - pts[0].at) / 1000) : 0;
  svg.innerHTML =
    '<line x1="' + L + '" y1="' + (H - B) + '" x2="' + W + '" y2="' + (H - B) + '" stroke="#e4e7ec"/>' +
    '<line x1="' + L + '" y1="' + T + '" x2="' + W + '" y2="' + T + '" stroke="#f2f4f7"/>' +
    '<text x="' + (L - 6) + '" y="' + (T + 10) + '" text-anchor="end">' + esc(max) + '</text>' +
    '<text x="' + (L - 6) + '" y="' + (H - B) + '" text-anchor="end">0</text>' +
    '<text x="' + L + '" y="' + (H - 4) + '">' + esc(span) + ' s ago</text>' +
    '<text x="' + W + '" y="' + (H - 4) + '" text-anchor="end">now</text>' +
    (area ? '<path d="' + area + '" fill="' + color + '" fill-opacity=".12"/><path d="' + d + '" fill="none" stroke="' + color + '" stroke-width="1.5"/>' : "");
}

/** "0", or the causes that skipped any: "crash 120, block-remainder 40". */
function skippedText(by) {
  const parts = Object.entries(by).filter(([, n]) => n !== "0").map(([cause, n]) => esc(cause) + " " + esc(n));
  return parts.length ? parts.join(", ") : "0";
}

function render(v) {
  $("leader").textContent = v.leader ?? "none";
  $("term").textContent = v.term;
  $("commit").textContent = v.commit;
  $("answered").textContent = v.answeredBy.id + " (" + v.answeredBy.role + ")";
  $("served").textContent = v.servedBy;
  $("wire").textContent = v.clusterWireFormat;
  $("cluster").textContent = v.clusterId ?? "no id yet";
  $("note").textContent = v.note ?? "";
  $("updated").textContent = "updated " + clock(v.generatedAt);
  $("members").innerHTML = v.members.map((m) => {
    const lead = m.id === v.leader;
    const health = m.error ? '<span class="pill bad" title="' + esc(m.error) + '">unreachable</span>'
      : m.ownRole && m.ownRole.includes("candidate") ? '<span class="pill warn">' + esc(m.ownRole) + "</span>"
      : '<span class="pill ok">answering</span>';
    return '<tr data-member="' + esc(m.id) + '" data-role="' + esc(m.role) + '">' +
      '<td class="' + (lead ? "leader" : "") + '">' + esc(m.id) + (lead ? " ★" : "") + "</td>" +
      "<td>" + esc(m.address) + "</td><td>" + esc(m.role) + "</td>" +
      '<td class="num">' + dash(m.term) + '</td><td class="num">' + dash(m.commit) + '</td><td class="num">' + dash(m.applied) + "</td>" +
      '<td class="num">' + dash(m.lag) + '</td><td class="num">' + dash(m.lastContactMs, ms) + '</td><td class="num">' + dash(m.leaseRemainingMs, ms) + "</td>" +
      "<td>" + esc(m.version ? m.version + (m.gitCommit && m.gitCommit !== "unknown" ? " (" + m.gitCommit.slice(0, 7) + ")" : "") : m.error ? "–" : "?") + "</td>" +
      "<td>" + health + "</td></tr>";
  }).join("");
  remember(v.answeredBy.id, v.history);
  const history = merged();
  chart($("served-chart"), history, "served", "#1849a9");
  chart($("skipped-chart"), history, "skipped", "#b42318");
  $("busiest").innerHTML = v.busiest.length ? v.busiest.map((s) =>
    "<tr><td>" + esc(s.name) + '</td><td class="num">' + dash(s.next) + '</td><td class="num">' + esc(s.reserved) +
    '</td><td class="num">' + esc(s.block) + '</td><td class="num">' + esc(s.rate) + '</td><td class="num">' + esc(s.served) + "</td><td>" +
    skippedText(s.skipped) + "</td></tr>").join("")
    : '<tr><td colspan="7" class="kv">no sequence served by this leader yet</td></tr>';
  $("events").innerHTML = v.events.map((e) =>
    "<li><time>" + clock(e.at) + '</time><span class="kind">' + esc(e.kind) + "</span>" + esc(e.text) + "</li>").join("");
  document.body.classList.remove("stale");
}

async function tick() {
  try {
    const r = await fetch("status.json", { cache: "no-store" });
    if (!r.ok) throw new Error("HTTP " + r.status);
    render(await r.json());
  } catch (e) {
    document.body.classList.add("stale");
    $("note").textContent = "this node did not answer: " + e.message;
  } finally {
    setTimeout(tick, 1000);
  }
}
tick();
</script>
</body>
</html>
`;
