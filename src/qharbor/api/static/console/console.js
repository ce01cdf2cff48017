// qharbor's web console: a small framework-free client of the public API (/v0.4), nothing else.
// The key lives in sessionStorage (this browser tab's session only); every call sends it as
// `Authorization: apiKey <key>`, exactly as any SDK does. Pages are drawn from the URL
// (/console/jobs, /console/jobs/{id}, /console/sessions, /console/backends, /console/usage, and
// for admin keys /console/keys, /console/project, /console/audit over the admin API, /admin/v1).
"use strict";

const API = "/v0.4";
const ADMIN = "/admin/v1"; // the admin API: admin keys only (403 for members)
const KEY = "qharbor.apiKey";
const PAGE_SIZE = 100;
const TOP_OUTCOMES = 32; // histogram bars; the rest are summed into one
const POLL_MS = 2000; // while the event stream is down
const UNFINISHED = new Set(["submitted", "ready", "started"]);
const DRAW_QUBITS = 24; // circuits drawn up to this many qubits
const DRAW_GATES = 200; // and this many gates; larger ones get a line with their counts
const main = document.getElementById("main");
let me = null; // GET /whoami of the signed-in key (its project and role), asked once per sign-in

// ---------- helpers ----------

function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === null || v === undefined || v === false) continue;
    if (k.startsWith("on")) el.addEventListener(k.slice(2), v);
    else el.setAttribute(k, v === true ? "" : v);
  }
  for (const c of children.flat()) {
    if (c !== null && c !== undefined) el.append(c instanceof Node ? c : String(c));
  }
  return el;
}

function svg(tag, attrs, ...children) {
  const el = document.createElementNS("http://www.w3.org/2000/svg", tag);
  for (const [k, v] of Object.entries(attrs || {})) el.setAttribute(k, v);
  for (const c of children) el.append(c instanceof Node ? c : String(c));
  return el;
}

class ApiError extends Error {
  constructor(status, message) { super(message); this.status = status; }
}

async function api(path, options = {}, key = sessionStorage.getItem(KEY), base = API) {
  const headers = { Authorization: `apiKey ${key}`, ...(options.headers || {}) };
  if (options.body !== undefined) headers["Content-Type"] = "application/json";
  const response = await fetch(base + path, { ...options, headers });
  const text = await response.text();
  let body = null;
  try { body = text ? JSON.parse(text) : null; } catch { body = text; }
  if (!response.ok) {
    if (response.status === 401 && key === sessionStorage.getItem(KEY) && path !== "/whoami") signOut();
    throw new ApiError(response.status, (body && body.message) || `${response.status} ${response.statusText}`);
  }
  return body;
}

// The admin API, with the same key (its 403 for members is shown as any API error is).
const admin = (path, options = {}) => api(path, options, sessionStorage.getItem(KEY), ADMIN);

const when = (iso) => (iso ? new Date(iso).toLocaleString() : "");

function duration(job) {
  if (job.execution_duration_ms != null) return `${(job.execution_duration_ms / 1000).toFixed(2)} s`;
  if (job.started_at && job.completed_at) return `${((Date.parse(job.completed_at) - Date.parse(job.started_at)) / 1000).toFixed(2)} s`;
  return "";
}

function go(path) {
  history.pushState(null, "", path);
  route();
}

document.addEventListener("click", (event) => {
  const a = event.target.closest("a");
  if (a && a.origin === location.origin && a.pathname.startsWith("/console") && !a.hasAttribute("download")
      && !event.ctrlKey && !event.metaKey && !event.shiftKey) {
    event.preventDefault();
    go(a.pathname + a.search);
  }
});
window.addEventListener("popstate", () => route());

function show(...nodes) {
  stopLive();
  main.replaceChildren(...nodes.flat().filter((n) => n !== null && n !== undefined));
}

function failure(error) {
  return h("p", { class: "error", role: "alert" }, error.message);
}

// ---------- live updates: GET /v0.4/jobs/events, else polling ----------

let live = null; // {controller, poller}

function stopLive() {
  if (live) {
    live.stopped = true;
    live.controller.abort();
    clearInterval(live.poller);
    live = null;
  }
}

// Calls onJob(job) for every job event and onDeleted(id) for every deleted job; while the stream
// is down, calls poll() every POLL_MS and reconnects. fetch (not EventSource) so the key goes in
// the Authorization header.
function follow(onJob, poll, indicator, onDeleted = () => {}) {
  stopLive();
  const state = { controller: new AbortController(), poller: null, stopped: false };
  live = state;
  const mode = (text) => { if (indicator) indicator.textContent = text; };
  const fallBack = () => {
    if (state.stopped) return;
    mode("polling");
    if (!state.poller) state.poller = setInterval(poll, POLL_MS);
    setTimeout(connect, POLL_MS);
  };
  async function connect() {
    if (state.stopped) return;
    state.controller = new AbortController();
    try {
      const response = await fetch(`${API}/jobs/events`, {
        headers: { Authorization: `apiKey ${sessionStorage.getItem(KEY)}` }, signal: state.controller.signal });
      if (!response.ok) throw new Error(String(response.status));
      clearInterval(state.poller);
      state.poller = null;
      mode("live");
      poll(); // whatever changed while the stream was down
      const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
      let buffer = "";
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        buffer += value;
        let end;
        while ((end = buffer.indexOf("\n\n")) >= 0) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          const lines = block.split("\n");
          const type = (lines.find((l) => l.startsWith("event:")) || "event: message").slice(6).trim();
          const data = lines.filter((l) => l.startsWith("data:")).map((l) => l.slice(5).trim()).join("\n");
          if (type === "job" && data) onJob(JSON.parse(data));
          else if (type === "deleted" && data) onDeleted(JSON.parse(data).id);
        }
      }
    } catch (error) {
      if (state.stopped) return;
    }
    fallBack();
  }
  connect();
}

// ---------- sign in / out ----------

function signOut() {
  sessionStorage.removeItem(KEY);
  me = null;
  stopLive();
  document.getElementById("nav").hidden = true;
  if (location.pathname !== "/console") history.pushState(null, "", "/console");
  route();
}
document.getElementById("sign-out").addEventListener("click", signOut);

function signIn() {
  const message = h("p", { id: "sign-in-error", class: "error", role: "alert" });
  const input = h("input", { id: "api-key", name: "key", type: "password", autocomplete: "off", required: true });
  const form = h("form", { class: "stack", "aria-label": "Sign in" },
    h("h1", {}, "Sign in"),
    h("p", {}, "Sign in with an API key (from ", h("code", {}, "qharbor serve"), " or ",
      h("code", {}, "qharbor keys create"), "). It is kept for this browser tab's session only."),
    h("label", { for: "api-key" }, "API key"), input, " ",
    h("button", { type: "submit" }, "Sign in"), message);
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    message.textContent = "";
    try {
      await api("/whoami", {}, input.value.trim());
      sessionStorage.setItem(KEY, input.value.trim());
      route();
    } catch (error) {
      message.textContent = error.message;
    }
  });
  show(form);
  input.focus();
}

// ---------- jobs ----------

const COLUMNS = ["ID", "Name", "Backend", "Status", "Qubits", "Shots", "Submitted", "Duration"];

function jobCells(job) {
  return [
    h("td", { class: "id" }, h("a", { href: `/console/jobs/${job.id}` }, job.id)),
    h("td", {}, job.name || ""),
    h("td", {}, job.backend),
    h("td", { class: `status status-${job.status}` }, job.status),
    h("td", {}, job.stats ? job.stats.qubits : ""),
    h("td", {}, job.shots),
    h("td", {}, when(job.submitted_at)),
    h("td", {}, duration(job)),
  ];
}

function jobRow(job) {
  return h("tr", { "data-job-id": job.id, "data-status": job.status, "data-submitted": job.submitted_at }, jobCells(job));
}

async function jobsPage() {
  const params = new URLSearchParams(location.search);
  const backends = await api("/backends").catch(() => []);
  const field = (name, label, control) => h("label", {}, label, control);
  const status = h("select", { name: "status" }, h("option", { value: "" }, "any"),
    ["submitted", "ready", "started", "completed", "failed", "canceled"].map((s) => h("option", { value: s }, s)));
  const backend = h("select", { name: "target" }, h("option", { value: "" }, "any"),
    backends.map((b) => h("option", { value: b.backend }, b.backend)));
  const session = h("input", { name: "session_id", size: 36 });
  const since = h("input", { name: "since", type: "date" });
  const search = h("input", { name: "q", type: "search", size: 30 });
  for (const [control, name] of [[status, "status"], [backend, "target"], [session, "session_id"], [since, "since"], [search, "q"]]) {
    control.value = params.get(name) || "";
  }
  const filters = h("form", { class: "filters", role: "search", "aria-label": "Filter jobs" },
    field("status", "Status", status), field("target", "Backend", backend), field("session", "Session", session),
    field("since", "Submitted on or after", since), field("q", "Search by id or name", search),
    h("button", { type: "submit" }, "Apply"));
  filters.addEventListener("submit", (event) => {
    event.preventDefault();
    const next = new URLSearchParams();
    for (const [k, v] of new FormData(filters)) if (v) next.set(k, v);
    go(`/console/jobs${next.toString() ? "?" + next : ""}`);
  });
  const tbody = h("tbody");
  const table = h("table", { "aria-label": "Jobs" },
    h("thead", {}, h("tr", {}, COLUMNS.map((c) => h("th", { scope: "col" }, c)))), tbody);
  const info = h("span", { id: "page-info" });
  const previous = h("button", { type: "button", id: "previous-page" }, "Previous page");
  const next = h("button", { type: "button", id: "next-page" }, "Next page");
  const indicator = h("span", { class: "live", id: "live" }, "connecting");
  const message = h("div");
  show(h("h1", {}, "Jobs"), filters, message, table, h("div", { class: "pager" }, previous, next, info, indicator));

  // The query the API serves; name and date are checked here, on the page's jobs.
  const term = (params.get("q") || "").trim();
  const isId = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(term);
  const sinceMs = params.get("since") ? Date.parse(params.get("since") + "T00:00:00") : null;
  // Filters checked here read the API's largest pages, so a page shows what 1,000 jobs hold.
  const query = new URLSearchParams({ limit: String((term && !isId) || sinceMs !== null ? 1000 : PAGE_SIZE) });
  for (const name of ["status", "target", "session_id"]) if (params.get(name)) query.set(name, params.get(name));
  if (isId) query.set("ids", term);
  const shown = (job) => (!term || isId || (job.name || "").toLowerCase().includes(term.toLowerCase()))
    && (sinceMs === null || Date.parse(job.submitted_at) >= sinceMs)
    && (!params.get("status") || job.status === params.get("status"))
    && (!params.get("target") || job.backend === params.get("target"))
    && (!params.get("session_id") || job.session_id === params.get("session_id"));

  const cursors = [null]; // the cursor of each page seen; the last is the current page's
  let nextCursor = null;
  let during = null; // events that arrived while a page was loading: applied again on top of it
  let loads = 0; // only the latest load draws: an earlier one answered later is stale
  async function load() {
    const q = new URLSearchParams(query);
    const cursor = cursors[cursors.length - 1];
    if (cursor) q.set("next", cursor);
    const arrived = during = [];
    const mine = ++loads;
    let page;
    try {
      page = await api(`/jobs?${q}`);
    } catch (error) {
      if (mine === loads) message.replaceChildren(failure(error));
      return;
    }
    if (mine !== loads) return;
    message.replaceChildren();
    nextCursor = page.next || null;
    tbody.replaceChildren(...page.jobs.filter(shown).map(jobRow));
    if (during === arrived) during = null;
    arrived.forEach(apply);
    previous.disabled = cursors.length === 1;
    next.disabled = !nextCursor;
    info.textContent = `page ${cursors.length}`;
  }
  function apply(job) {
    if (job.deleted) {
      const gone = tbody.querySelector(`tr[data-job-id="${job.deleted}"]`);
      if (gone) gone.remove();
      return;
    }
    if (job.parent_job_id) return;
    const row = tbody.querySelector(`tr[data-job-id="${job.id}"]`);
    if (row) {
      if (shown(job)) {
        row.replaceChildren(...jobCells(job));
        row.dataset.status = job.status;
      } else {
        row.remove();
      }
    } else if (cursors.length === 1 && shown(job)
               && (!tbody.rows.length || job.submitted_at >= tbody.rows[0].dataset.submitted)) { // new: on top of page 1
      tbody.prepend(jobRow(job));
      while (tbody.rows.length > PAGE_SIZE) tbody.lastElementChild.remove();
    }
  }
  previous.addEventListener("click", () => { cursors.pop(); load(); });
  next.addEventListener("click", () => { if (nextCursor) { cursors.push(nextCursor); load(); } });
  await load();

  const event = (change) => {
    if (during) during.push(change);
    apply(change);
  };
  follow(event, () => { if (cursors.length === 1 || tbody.querySelector('tr[data-status="started"], tr[data-status="ready"], tr[data-status="submitted"]')) load(); },
    indicator, (id) => event({ deleted: id }));
}

// ---------- job detail ----------

function bitstring(key, width) {
  return Number(key).toString(2).padStart(width, "0");
}

// The top outcomes of a probability map as bars (bitstrings on the axis), the rest summed.
function histogram(jobId, probabilities, width, label) {
  const entries = Object.entries(probabilities);
  // Top TOP_OUTCOMES without sorting everything (a map may hold 65,536 outcomes or more).
  let top = [];
  let floor = -1;
  let total = 0;
  for (const entry of entries) {
    total += entry[1];
    if (top.length < TOP_OUTCOMES || entry[1] > floor) {
      top.push(entry);
      if (top.length > TOP_OUTCOMES * 4) {
        top.sort((a, b) => b[1] - a[1]);
        top.length = TOP_OUTCOMES;
        floor = top[TOP_OUTCOMES - 1][1];
      }
    }
  }
  top.sort((a, b) => b[1] - a[1] || Number(a[0]) - Number(b[0]));
  top = top.slice(0, TOP_OUTCOMES);
  const restCount = entries.length - top.length;
  const restSum = restCount > 0 ? Math.max(0, total - top.reduce((s, [, p]) => s + p, 0)) : 0;
  const bars = top.map(([k, p]) => ({ key: k, text: width === null ? k : bitstring(k, width), p, rest: false }));
  if (restCount > 0) bars.push({ key: "rest", text: `${restCount} more`, p: restSum, rest: true });
  const maxP = Math.max(...bars.map((b) => b.p), 1e-12);
  const labelLen = Math.max(...bars.map((b) => b.text.length));
  const barW = 26, gap = 6, plotH = 180, axisH = Math.max(40, labelLen * 7 + 10), left = 40;
  const chartW = left + bars.length * (barW + gap) + 10;
  const described = `Histogram of job ${jobId}${label ? ` (${label})` : ""}: ${top.length} outcomes drawn`
    + (restCount > 0 ? `, ${restCount} more summed` : "");
  const root = svg("svg", { class: "histogram", role: "img", "aria-label": described,
    width: chartW, height: plotH + axisH + 10, viewBox: `0 0 ${chartW} ${plotH + axisH + 10}` });
  root.append(svg("title", {}, described));
  root.append(svg("line", { x1: left - 4, y1: plotH + 5, x2: chartW, y2: plotH + 5, stroke: "#999" }));
  root.append(svg("text", { x: 0, y: 12 }, maxP.toFixed(3)));
  bars.forEach((bar, i) => {
    const x = left + i * (barW + gap);
    const height = Math.max(1, (bar.p / maxP) * (plotH - 10));
    const rect = svg("rect", { class: bar.rest ? "rest" : "bar", x, y: plotH + 5 - height, width: barW, height,
      "data-outcome": bar.key, "data-probability": String(bar.p) });
    rect.append(svg("title", {}, `${bar.text}: ${bar.p}`));
    root.append(rect);
    const tx = x + barW / 2 + 4, ty = plotH + 12;
    root.append(svg("text", { x: tx, y: ty, transform: `rotate(90 ${tx} ${ty})` }, bar.text));
  });
  return h("figure", {}, root, h("figcaption", {}, described));
}

async function resultsSection(job) {
  const section = h("section", {}, h("h2", {}, "Results"));
  if (job.status !== "completed" || !job.results || !Object.keys(job.results).length) {
    section.append(h("p", {}, job.dry_run ? "A dry run: no results." : "Results appear once the job completes."));
    return section;
  }
  try {
    if (job.type === "ionq.qasm3.v1") {
      const doc = await api(`/jobs/${job.id}/artifacts/ionq.result.probabilities.json.v2`);
      for (const [name, map] of Object.entries(doc.probabilities.registers)) {
        section.append(h("h3", {}, `Register ${name}`), histogram(job.id, map, null, `register ${name}`));
      }
    } else if (job.type === "ionq.multi-circuit.v1") {
      const doc = await api(`/jobs/${job.id}/results/probabilities`);
      const children = await Promise.all(Object.keys(doc).map(readJob));
      children.forEach((child, i) => {
        section.append(h("h3", {}, `Circuit ${i + 1}: `, h("a", { href: `/console/jobs/${child.id}` }, child.name || child.id)),
          histogram(job.id, doc[child.id], child.stats.qubits, `circuit ${i + 1}`));
      });
    } else {
      const doc = await api(`/jobs/${job.id}/results/probabilities`);
      section.append(histogram(job.id, doc, job.stats.qubits, null));
    }
  } catch (error) {
    section.append(failure(error));
  }
  const downloads = h("ul", { class: "downloads" });
  const formats = [...new Set(Object.values(job.results).map((d) => d.format))];
  for (const format of formats) {
    const link = h("a", { href: `${API}/jobs/${job.id}/artifacts/${format}`, "data-format": format }, `Download ${format}`);
    link.addEventListener("click", async (event) => { // the key goes in a header, so fetch, then save
      event.preventDefault();
      const blob = new Blob([JSON.stringify(await api(`/jobs/${job.id}/artifacts/${format}`), null, 2)],
        { type: "application/json" });
      const save = h("a", { href: URL.createObjectURL(blob), download: `${job.id}.${format}.json` });
      document.body.append(save);
      save.click();
      save.remove();
      setTimeout(() => URL.revokeObjectURL(save.href), 10000);
    });
    downloads.append(h("li", {}, link));
  }
  section.append(h("h3", {}, "Downloads"), downloads);
  return section;
}

// ---------- circuit drawing (GET /v0.4/jobs/{id}/program, qharbor's extension) ----------

// A gate of the program, whatever form it came in (IonQ's wire form, or the compiled form an
// OpenQASM 3 or QIR job is stored in), as {name, targets, controls, title}.
function wireGate(g) {
  const targets = g.targets || [g.target];
  const controls = g.controls || (g.control !== undefined ? [g.control] : []);
  const param = g.rotation ?? g.phase ?? g.angle ?? (g.phases ? g.phases.join(", ") : undefined);
  return { name: g.gate, targets, controls, title: param === undefined ? g.gate : `${g.gate}(${param})` };
}

function compiledGates(ops) {
  return ops.map(([kind, ...rest]) => {
    if (kind === "g") {
      const [name, targets, controls, params] = rest;
      return { name, targets, controls, title: params.length ? `${name}(${params.join(", ")})` : name };
    }
    if (kind === "m") return { name: "M", targets: [rest[0]], controls: [], title: `measure q${rest[0]} → bit ${rest[1]}` };
    return { name: "|0⟩", targets: [rest[0]], controls: [], title: `reset q${rest[0]}` };
  });
}

// One-qubit gate names: a one-qubit gate on several targets is that gate on each (no link).
const ONE_QUBIT_NAMES = new Set(["x", "y", "z", "h", "s", "si", "t", "ti", "v", "vi", "rx", "ry", "rz", "gpi", "gpi2", "not"]);

// One circuit as SVG: a wire per qubit, gates packed into columns (a gate takes the first
// column after every qubit it spans is free), boxes with gate names, control dots, ⊕ on the
// target of a controlled x, × on swapped qubits.
function circuitSvg(label, qubits, gates) {
  const rowH = 34, top = 20, left = 44;
  const boxW = (g) => Math.max(26, g.name.length * 7 + 10);
  const free = new Array(qubits).fill(0);
  const widths = [];
  const placed = gates.map((g) => {
    const span = [...g.targets, ...g.controls];
    const lo = Math.min(...span), hi = Math.max(...span);
    let col = 0;
    for (let q = lo; q <= hi; q++) col = Math.max(col, free[q]);
    for (let q = lo; q <= hi; q++) free[q] = col + 1;
    widths[col] = Math.max(widths[col] || 0, boxW(g) + 12);
    return { g, col, lo, hi };
  });
  const xs = [];
  let x = left + 10;
  for (let c = 0; c < widths.length; c++) { xs.push(x + widths[c] / 2); x += widths[c]; }
  const width = x + 20, height = top + qubits * rowH;
  const y = (q) => top + q * rowH;
  const described = `${label}: ${qubits} qubits, ${gates.length} gates`;
  const root = svg("svg", { class: "circuit", role: "img", "aria-label": described, width, height,
    viewBox: `0 0 ${width} ${height}` });
  root.append(svg("title", {}, described));
  for (let q = 0; q < qubits; q++) {
    root.append(svg("text", { x: 4, y: y(q) + 4 }, `q${q}`));
    root.append(svg("line", { class: "wire", x1: left, y1: y(q), x2: width - 10, y2: y(q) }));
  }
  for (const { g, col, lo, hi } of placed) {
    const cx = xs[col];
    const group = svg("g", { class: "gate", "data-gate": g.name });
    group.append(svg("title", {}, `${g.title} on ${g.targets.map((t) => `q${t}`).join(", ")}`
      + (g.controls.length ? `, controlled by ${g.controls.map((c) => `q${c}`).join(", ")}` : "")));
    const linked = g.controls.length > 0 || (g.targets.length > 1 && !ONE_QUBIT_NAMES.has(g.name));
    if (linked && hi > lo) group.append(svg("line", { class: "link", x1: cx, y1: y(lo), x2: cx, y2: y(hi) }));
    for (const c of g.controls) group.append(svg("circle", { class: "control", cx, cy: y(c), r: 4 }));
    for (const t of g.targets) {
      if (g.name === "x" && g.controls.length) {
        const plus = svg("g", { class: "oplus" });
        plus.append(svg("circle", { cx, cy: y(t), r: 9 }), svg("line", { x1: cx - 9, y1: y(t), x2: cx + 9, y2: y(t) }),
          svg("line", { x1: cx, y1: y(t) - 9, x2: cx, y2: y(t) + 9 }));
        group.append(plus);
      } else if (g.name === "swap") {
        group.append(svg("path", { class: "swap", d: `M${cx - 6} ${y(t) - 6}L${cx + 6} ${y(t) + 6}M${cx - 6} ${y(t) + 6}L${cx + 6} ${y(t) - 6}` }));
      } else {
        const w = boxW(g);
        group.append(svg("rect", { class: "box", x: cx - w / 2, y: y(t) - 11, width: w, height: 22, rx: 3 }),
          svg("text", { x: cx, y: y(t) + 4, "text-anchor": "middle" }, g.name));
      }
    }
    root.append(group);
  }
  return root;
}

function tooLarge(job, qubits, gates) {
  const counts = job.stats && job.stats.gate_counts ? Object.entries(job.stats.gate_counts).map(([k, v]) => `${k}: ${v}`).join(", ") : "";
  return h("p", { class: "too-large" }, `Too large to draw (at most ${DRAW_QUBITS} qubits and ${DRAW_GATES} gates): `
    + `${qubits} qubits` + (gates === null ? "" : `, ${gates} gates`) + (counts ? `; gate counts ${counts}` : "") + ".");
}

async function circuitSection(job) {
  const section = h("section", {}, h("h2", {}, "Circuit"));
  if (job.stats && job.stats.qubits > DRAW_QUBITS) { // too wide whatever it holds: not fetched
    section.append(tooLarge(job, job.stats.qubits, null));
    return section;
  }
  let program;
  try {
    program = await api(`/jobs/${encodeURIComponent(job.id)}/program`);
  } catch (error) {
    section.append(failure(error));
    return section;
  }
  let circuits;
  if (program.compiled) {
    if (program.compiled.ops.some(([kind]) => kind === "if")) { // feed-forward: shown as stored, not drawn
      section.append(h("p", {}, "The program as stored (compiled; its source text is not kept):"),
        h("pre", { class: "program" }, JSON.stringify(program.compiled, null, 1)));
      return section;
    }
    circuits = [{ id: job.id, qubits: program.compiled.qubits, gates: compiledGates(program.compiled.ops) }];
  } else if (program.circuits) {
    circuits = program.circuits.map((c, i) => ({ id: c.id, name: c.name || `circuit ${i + 1}`, qubits: c.qubits, gates: c.circuit.map(wireGate) }));
  } else {
    circuits = [{ id: job.id, qubits: program.qubits, gates: program.circuit.map(wireGate) }];
  }
  const total = circuits.reduce((n, c) => n + c.gates.length, 0);
  const widest = Math.max(...circuits.map((c) => c.qubits));
  if (widest > DRAW_QUBITS || total > DRAW_GATES) {
    section.append(tooLarge(job, widest, total));
    return section;
  }
  circuits.forEach((c, i) => {
    const drawing = circuitSvg(`circuit of job ${c.id}`, c.qubits, c.gates);
    section.append(h("figure", { class: "circuit" }, circuits.length > 1 ? h("figcaption", {}, `Circuit ${i + 1}: ${c.name}`) : null,
      h("div", { class: "scroll" }, drawing)));
  });
  return section;
}

function metaList(pairs) {
  return h("dl", { class: "meta" }, pairs.filter(([, v]) => v !== undefined).flatMap(([k, v]) =>
    [h("dt", {}, k), h("dd", {}, v === null ? "—" : typeof v === "object" ? h("code", {}, JSON.stringify(v)) : String(v))]));
}

// A job as the list reads it (`GET /jobs?ids=`): answered at once, where `GET /jobs/{id}` of an
// unfinished job waits a moment for it to finish (the long poll SDKs rely on). The list holds
// top-level jobs only: a multi-circuit job's children, and the API's 404, come from `/jobs/{id}`.
async function readJob(id) {
  const found = await api(`/jobs?ids=${encodeURIComponent(id)}`);
  return found.jobs.length ? found.jobs[0] : api(`/jobs/${encodeURIComponent(id)}`);
}

async function jobPage(id) {
  let job;
  try {
    job = await readJob(id);
  } catch (error) {
    show(h("h1", {}, "Job"), failure(error));
    return;
  }
  const stages = [["submitted", job.submitted_at], ["started", job.started_at], [job.status === "completed" ? "completed"
    : job.status === "failed" ? "failed" : job.status === "canceled" ? "canceled" : "finished", job.completed_at]];
  const timeline = h("ol", { class: "timeline", "aria-label": "Status timeline" },
    stages.map(([name, at]) => h("li", { class: at ? "done" : "" }, h("strong", {}, name), h("br"), at ? when(at) : "—")));
  const message = h("div");
  const act = (label, fn) => h("button", { type: "button", onclick: async () => {
    message.replaceChildren();
    try { await fn(); } catch (error) { message.replaceChildren(failure(error)); }
  } }, label);
  const shots = h("input", { id: "clone-shots", type: "number", min: 1, value: job.shots });
  const backend = h("input", { id: "clone-backend", value: job.backend, size: 18 });
  const actions = h("div", { class: "actions" },
    UNFINISHED.has(job.status) ? act("Cancel job", async () => {
      await api(`/jobs/${job.id}/status/cancel`, { method: "PUT" });
      jobPage(job.id);
    }) : null,
    h("label", { for: "clone-shots" }, "Shots"), shots,
    h("label", { for: "clone-backend" }, "Backend"), backend,
    act("Clone job", async () => {
      const made = await api(`/jobs/${job.id}/clone`, { method: "POST",
        body: JSON.stringify({ shots: Number(shots.value), backend: backend.value }) });
      go(`/console/jobs/${made.id}`);
    }),
    act("Delete job", async () => {
      if (!confirm(`Delete job ${job.id} and its results?`)) return;
      await api(`/jobs/${job.id}`, { method: "DELETE" });
      go("/console/jobs");
    }));
  const failureInfo = job.failure ? h("p", { class: "error" }, `${job.failure.code}: ${job.failure.message}`) : null;
  show(
    h("p", {}, h("a", { href: "/console/jobs" }, "← Jobs")),
    h("h1", {}, `${job.name || "Job"} `, h("code", {}, job.id)),
    h("p", {}, "Status: ", h("span", { id: "job-status", class: `status status-${job.status}` }, job.status)),
    timeline, failureInfo, actions, message,
    h("section", {}, h("h2", {}, "Details"), metaList([
      ["Type", job.type], ["Backend", job.backend], ["Shots", job.shots], ["Session", job.session_id],
      ["Noise model", job.noise && job.noise.model], ["Seed", job.noise && job.noise.seed],
      ["Qubits", job.stats.qubits], ["Circuits", job.stats.circuits], ["Gate counts", job.stats.gate_counts],
      ["Duration", duration(job) || null], ["Output", job.output], ["Settings", job.settings],
      ["Metadata", job.metadata], ["Parent job", job.parent_job_id],
    ])),
    await circuitSection(job),
    await resultsSection(job),
  );
  if (UNFINISHED.has(job.status)) {
    const indicator = h("span", { class: "live" });
    main.append(indicator);
    follow((event) => { if (event.id === job.id && event.status !== job.status) jobPage(job.id); },
      async () => { const now = await readJob(job.id).catch(() => null); if (now && now.status !== job.status) jobPage(job.id); },
      indicator);
  }
}

// ---------- sessions, backends, usage ----------

async function sessionsPage() {
  try {
    const page = await api("/sessions?limit=100");
    show(h("h1", {}, "Sessions"), h("table", { "aria-label": "Sessions" },
      h("thead", {}, h("tr", {}, ["ID", "Backend", "Status", "Created", "Ended", "Limits", "Jobs"].map((c) => h("th", { scope: "col" }, c)))),
      h("tbody", {}, page.sessions.map((s) => h("tr", {},
        h("td", { class: "id" }, s.id), h("td", {}, s.backend), h("td", {}, s.status), h("td", {}, when(s.created_at)),
        h("td", {}, when(s.ended_at)), h("td", {}, h("code", {}, JSON.stringify(s.settings))),
        h("td", {}, h("a", { href: `/console/jobs?session_id=${s.id}` }, "jobs")))))));
  } catch (error) {
    show(h("h1", {}, "Sessions"), failure(error));
  }
}

// Connectivity as a graph: qubits on a circle, one line per coupled pair.
function connectivity(name, qubits, pairs) {
  const size = 220, r = 90, c = size / 2;
  const at = (q) => [c + r * Math.cos((2 * Math.PI * q) / qubits - Math.PI / 2), c + r * Math.sin((2 * Math.PI * q) / qubits - Math.PI / 2)];
  const root = svg("svg", { role: "img", "aria-label": `Connectivity of ${name}: ${qubits} qubits, ${pairs.length} couplings`,
    width: size, height: size, viewBox: `0 0 ${size} ${size}` });
  for (const [a, b] of pairs) {
    const [x1, y1] = at(a), [x2, y2] = at(b);
    root.append(svg("line", { x1, y1, x2, y2, stroke: "#9aa5b1", "stroke-width": 0.5 }));
  }
  for (let q = 0; q < qubits; q++) {
    const [x, y] = at(q);
    root.append(svg("circle", { cx: x, cy: y, r: 3, fill: "#2457c5" }));
  }
  return root;
}

async function backendsPage() {
  try {
    const backends = await api("/backends");
    const rows = [];
    const details = [];
    for (const b of backends) {
      rows.push(h("tr", {}, h("td", {}, b.backend), h("td", {}, b.qubits), h("td", {}, b.status),
        h("td", {}, (b.supported_error_mitigations || []).join(", "))));
      const found = await api(`/backends/${b.backend}/characterizations`).catch(() => null);
      const ch = found && found.characterizations && found.characterizations[0];
      if (ch) {
        details.push(h("section", {}, h("h2", {}, b.backend), metaList([
          ["Measured", when(ch.date)], ["Fidelity", ch.fidelity], ["Timing (s)", ch.timing]]),
          ch.qubits <= 64 ? connectivity(b.backend, ch.qubits, ch.connectivity || []) : null));
      }
    }
    show(h("h1", {}, "Backends"), h("table", { "aria-label": "Backends" },
      h("thead", {}, h("tr", {}, ["Backend", "Qubits", "Status", "Error mitigation"].map((c) => h("th", { scope: "col" }, c)))),
      h("tbody", {}, rows)), details);
  } catch (error) {
    show(h("h1", {}, "Backends"), failure(error));
  }
}

async function usagePage() {
  try {
    const page = await api("/jobs?limit=1000");
    const days = new Map();
    for (const job of page.jobs) {
      const day = job.submitted_at.slice(0, 10);
      const d = days.get(day) || { jobs: 0, shots: 0, ms: 0, failed: 0 };
      d.jobs += 1; d.shots += job.shots; d.ms += job.execution_duration_ms || 0;
      if (job.status === "failed") d.failed += 1;
      days.set(day, d);
    }
    show(h("h1", {}, "Usage"), h("p", {}, `Per day (UTC), over the newest ${page.jobs.length} jobs.`),
      h("table", { "aria-label": "Usage per day" },
        h("thead", {}, h("tr", {}, ["Day", "Jobs", "Failed", "Shots", "Execution time"].map((c) => h("th", { scope: "col" }, c)))),
        h("tbody", {}, [...days].map(([day, d]) => h("tr", {}, h("td", {}, day), h("td", {}, d.jobs), h("td", {}, d.failed),
          h("td", {}, d.shots), h("td", {}, `${(d.ms / 1000).toFixed(2)} s`))))));
  } catch (error) {
    show(h("h1", {}, "Usage"), failure(error));
  }
}

// ---------- admin pages: keys, project, audit (the admin API; admin keys only) ----------

function whoami() {
  if (!me) me = api("/whoami").catch((error) => { me = null; throw error; });
  return me;
}

// Shows the navigation; the admin entries only for an admin key (a member opening one of their
// pages by URL gets the admin API's 403, in words).
async function showNav() {
  const nav = document.getElementById("nav");
  nav.hidden = false;
  try {
    const who = await whoami();
    document.getElementById("who").textContent = `project ${who.project_id}`;
    for (const a of nav.querySelectorAll("a.admin")) a.hidden = who.role !== "admin";
  } catch { /* a 401 signs out; anything else leaves the admin entries hidden */ }
}

function keyRows(keys, onRevoke) {
  return keys.map((k) => h("tr", { "data-key-id": k.id },
    h("td", { class: "id" }, k.id), h("td", {}, k.name), h("td", { class: "id" }, k.project_id), h("td", {}, k.role),
    h("td", {}, k.created_at ? new Date(k.created_at * 1000).toLocaleString() : ""),
    h("td", {}, k.expires_at ? new Date(k.expires_at * 1000).toLocaleString() : "never"),
    h("td", {}, k.revoked_at ? new Date(k.revoked_at * 1000).toLocaleString() : ""),
    onRevoke ? h("td", {}, k.revoked_at ? "" : h("button", { type: "button", "aria-label": `Revoke key ${k.name}`,
      onclick: () => onRevoke(k) }, "Revoke")) : null));
}

const KEY_COLUMNS = ["ID", "Name", "Project", "Role", "Created", "Expires", "Revoked"];

async function keysPage() {
  let keys;
  try {
    keys = (await admin("/keys")).keys;
  } catch (error) {
    show(h("h1", {}, "Keys"), failure(error));
    return;
  }
  const who = await whoami();
  const message = h("div");
  const created = h("div", { id: "new-key" });
  const tbody = h("tbody");
  const draw = (list) => tbody.replaceChildren(...keyRows(list.slice().reverse(), revoke));
  async function refresh() { draw((await admin("/keys")).keys); }
  async function revoke(k) {
    if (!confirm(`Revoke key ${k.name} (${k.id})? Requests with it are refused from then on.`)) return;
    message.replaceChildren();
    created.replaceChildren(); // a new key's secret is shown until the next action, never again
    try {
      await admin(`/keys/${encodeURIComponent(k.id)}`, { method: "DELETE" });
      message.replaceChildren(h("p", { role: "status" }, `Key ${k.name} revoked.`));
      await refresh();
    } catch (error) { message.replaceChildren(failure(error)); }
  }
  const name = h("input", { id: "key-name", name: "name", required: true, maxlength: 200 });
  const project = h("input", { id: "key-project", name: "project_id", size: 36, maxlength: 36, value: who.project_id });
  const role = h("select", { id: "key-role", name: "role" }, h("option", { value: "member" }, "member"),
    h("option", { value: "admin" }, "admin"));
  const days = h("input", { id: "key-expires", name: "expires_days", type: "number", min: 0, step: "any" });
  const form = h("form", { class: "filters", "aria-label": "Create a key" },
    h("label", { for: "key-name" }, "Name", name),
    h("label", { for: "key-project" }, "Project (empty: a new one)", project),
    h("label", { for: "key-role" }, "Role", role),
    h("label", { for: "key-expires" }, "Expires after days (empty: never)", days),
    h("button", { type: "submit" }, "Create key"));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    message.replaceChildren();
    created.replaceChildren();
    const body = { name: name.value.trim(), role: role.value };
    if (project.value.trim()) body.project_id = project.value.trim();
    if (days.value) body.expires_days = Number(days.value);
    try {
      const made = await admin("/keys", { method: "POST", body: JSON.stringify(body) });
      created.replaceChildren(h("div", { class: "secret", role: "status" },
        h("p", {}, `Key ${made.name} created (${made.role}, project ${made.project_id}). Its secret, shown this once only:`),
        h("code", { id: "new-secret" }, made.secret),
        h("p", {}, "Copy it now: only its hash is stored, so it cannot be shown again.")));
      name.value = "";
      days.value = "";
      await refresh();
    } catch (error) { message.replaceChildren(failure(error)); }
  });
  show(h("h1", {}, "Keys"), h("h2", {}, "Create a key"), form, created, message,
    h("h2", {}, "All keys"),
    h("table", { "aria-label": "Keys" }, h("thead", {}, h("tr", {}, [...KEY_COLUMNS, ""].map((c) => h("th", { scope: "col" }, c)))), tbody));
  draw(keys);
}

async function projectPage() {
  const wanted = new URLSearchParams(location.search).get("id");
  let who, project, keys;
  try {
    who = await whoami();
    project = await admin(`/projects/${encodeURIComponent(wanted || who.project_id)}`);
    keys = (await admin("/keys")).keys.filter((k) => k.project_id === project.id);
  } catch (error) {
    show(h("h1", {}, "Project"), failure(error));
    return;
  }
  const backends = await api("/backends").catch(() => []);
  const pick = h("input", { id: "project-id", name: "id", size: 36, value: project.id });
  const chooser = h("form", { class: "filters", "aria-label": "Choose a project" },
    h("label", { for: "project-id" }, "Project ID", pick), h("button", { type: "submit" }, "Show project"));
  chooser.addEventListener("submit", (event) => {
    event.preventDefault();
    go(`/console/project?id=${encodeURIComponent(pick.value.trim())}`);
  });
  const field = (id, label, control) => h("label", { for: id }, label, control);
  const org = h("input", { id: "project-org", required: true, maxlength: 64, size: 36, value: project.organization_id });
  const title = h("input", { id: "project-name", maxlength: 200, value: project.name ?? "" });
  const most = h("input", { id: "project-max", type: "number", min: 0, step: 1, value: project.max_unfinished_jobs ?? "" });
  const budget = h("input", { id: "project-budget", type: "number", min: 0, step: "any", value: project.budget ?? "" });
  const allowed = new Set(project.allowed_backends || []);
  const all = h("input", { id: "project-all-backends", type: "checkbox", checked: project.allowed_backends === null });
  const boxes = backends.map((b) => h("input", { type: "checkbox", id: `backend-${b.backend}`, value: b.backend,
    checked: allowed.has(b.backend) }));
  const message = h("div");
  const settings = h("form", { class: "stack settings", "aria-label": "Project settings" },
    field("project-org", "Organization ID", org), field("project-name", "Name (empty: none)", title),
    field("project-max", "Most unfinished jobs (empty: no limit)", most),
    field("project-budget", "Budget, in the rate card's currency (empty: none)", budget),
    h("fieldset", {}, h("legend", {}, "Allowed backends"),
      h("label", { for: "project-all-backends", class: "check" }, all, " every backend (no limit)"),
      backends.map((b, i) => h("label", { for: `backend-${b.backend}`, class: "check" }, boxes[i], ` ${b.backend}`))),
    h("button", { type: "submit" }, "Save settings"), message);
  settings.addEventListener("submit", async (event) => {
    event.preventDefault();
    message.replaceChildren();
    const body = {
      organization_id: org.value.trim(), name: title.value.trim() || null,
      max_unfinished_jobs: most.value === "" ? null : Number(most.value),
      allowed_backends: all.checked ? null : boxes.filter((b) => b.checked).map((b) => b.value),
      budget: budget.value === "" ? null : Number(budget.value),
    };
    try {
      await admin(`/projects/${encodeURIComponent(project.id)}`, { method: "PUT", body: JSON.stringify(body) });
      message.replaceChildren(h("p", { role: "status" }, "Saved."));
    } catch (error) { message.replaceChildren(failure(error)); }
  });
  show(h("h1", {}, "Project"), chooser, h("h2", {}, `Settings and quotas of `, h("code", {}, project.id)), settings,
    h("h2", {}, "Members"), h("p", {}, "The keys that share this project's jobs (manage them on ",
      h("a", { href: "/console/keys" }, "Keys"), ")."),
    h("table", { "aria-label": "Members" }, h("thead", {}, h("tr", {}, KEY_COLUMNS.map((c) => h("th", { scope: "col" }, c)))),
      h("tbody", {}, keyRows(keys, null))));
}

const AUDIT_ACTIONS = ["job.create", "job.cancel", "job.delete", "key.create", "key.revoke", "project.update"];

async function auditPage() {
  const params = new URLSearchParams(location.search);
  const query = new URLSearchParams({ limit: "100" });
  for (const name of ["action", "project_id", "target", "next"]) if (params.get(name)) query.set(name, params.get(name));
  let page;
  try {
    page = await admin(`/audit?${query}`);
  } catch (error) {
    show(h("h1", {}, "Audit"), failure(error));
    return;
  }
  const action = h("select", { id: "audit-action", name: "action" }, h("option", { value: "" }, "any"),
    AUDIT_ACTIONS.map((a) => h("option", { value: a }, a)));
  const project = h("input", { id: "audit-project", name: "project_id", size: 36 });
  const target = h("input", { id: "audit-target", name: "target", size: 36 });
  action.value = params.get("action") || "";
  project.value = params.get("project_id") || "";
  target.value = params.get("target") || "";
  const filters = h("form", { class: "filters", role: "search", "aria-label": "Filter the audit log" },
    h("label", { for: "audit-action" }, "Action", action), h("label", { for: "audit-project" }, "Project", project),
    h("label", { for: "audit-target" }, "Target", target), h("button", { type: "submit" }, "Apply"));
  filters.addEventListener("submit", (event) => {
    event.preventDefault();
    const next = new URLSearchParams();
    for (const [k, v] of new FormData(filters)) if (v) next.set(k, v);
    go(`/console/audit${next.toString() ? "?" + next : ""}`);
  });
  const older = new URLSearchParams(params);
  if (page.next) older.set("next", page.next);
  show(h("h1", {}, "Audit"), filters,
    h("table", { "aria-label": "Audit log" },
      h("thead", {}, h("tr", {}, ["When", "Action", "Target", "Key", "Project", "Request", "Client", "Detail"].map((c) => h("th", { scope: "col" }, c)))),
      h("tbody", {}, page.entries.map((e) => h("tr", {},
        h("td", {}, new Date(e.at * 1000).toLocaleString()), h("td", {}, e.action), h("td", { class: "id" }, e.target ?? ""),
        h("td", { class: "id" }, e.key_id ?? "cli"), h("td", { class: "id" }, e.project_id ?? ""), h("td", {}, e.request_id ?? ""),
        h("td", {}, e.client ?? ""), h("td", {}, e.detail ? h("code", {}, JSON.stringify(e.detail)) : ""))))),
    h("div", { class: "pager" }, params.get("next") ? h("a", { href: "/console/audit" + (params.get("action") ? `?action=${params.get("action")}` : "") }, "Newest entries") : null,
      page.next ? h("a", { href: `/console/audit?${older}` }, "Older entries") : null));
}

// ---------- routing ----------

async function route() {
  stopLive();
  if (!sessionStorage.getItem(KEY)) {
    document.getElementById("nav").hidden = true;
    signIn();
    return;
  }
  if (document.getElementById("nav").hidden) showNav();
  const path = location.pathname.replace(/\/+$/, "");
  const job = path.match(/^\/console\/jobs\/([^/]+)$/);
  if (job) await jobPage(decodeURIComponent(job[1]));
  else if (path === "/console/sessions") await sessionsPage();
  else if (path === "/console/backends") await backendsPage();
  else if (path === "/console/usage") await usagePage();
  else if (path === "/console/keys") await keysPage();
  else if (path === "/console/project") await projectPage();
  else if (path === "/console/audit") await auditPage();
  else await jobsPage();
  document.title = `${(main.querySelector("h1") || { textContent: "" }).textContent} · qharbor console`;
}

route();
