// clapsearch serve: search as you type, audition passages, find similar sounds. No framework, no network
// beyond this server. The server chooses every file by its index id; the page never sends a path.
"use strict";

const $ = (id) => document.getElementById(id);
const els = {
  q: $("q"), results: $("results"), status: $("status"), empty: $("empty"), player: $("player"),
  file: $("example-file"), drop: $("drop"), exportButton: $("export"),
  under: $("f-under"), ext: $("f-ext"), min: $("f-min"), max: $("f-max"), folders: $("folders"),
  not: $("f-not"), perFile: $("f-per-file"), modes: document.querySelectorAll("input[name=mode]"),
};
const MODE_NAMES = { hybrid: "", audio: "sound only", text: "words only" };
const state = { rows: [], selected: -1, playingId: null, playingRow: null, stopAt: null, title: "", request: null,
                info: null, maxUpload: 0, peaks: new Map() };
const DEBOUNCE_MS = 180;
const K = 30;

// ---- helpers ------------------------------------------------------------------------------------

function clock(seconds) {
  const m = Math.floor(seconds / 60), s = seconds - 60 * m;
  return `${m}:${s.toFixed(1).padStart(4, "0")}`;
}

function el(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(props)) {
    if (key === "class") node.className = value;
    else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else node.setAttribute(key, value);
  }
  for (const child of children) node.append(child);
  return node;
}

function debounce(fn, ms) {
  let timer;
  return (...args) => { clearTimeout(timer); timer = setTimeout(() => fn(...args), ms); };
}

function toast(text) {
  const note = el("div", { class: "toast", role: "status" }, text);
  document.body.append(note);
  setTimeout(() => note.remove(), 1800);
}

function filterParams() {
  const params = new URLSearchParams({ k: K });
  if (els.under.value.trim()) params.set("under", els.under.value.trim());
  if (els.ext.value) params.set("ext", els.ext.value);
  if (els.min.value) params.set("min_duration", els.min.value);
  if (els.max.value) params.set("max_duration", els.max.value);
  params.set("per_file", els.perFile.value);
  return params;
}

function mode() { return document.querySelector("input[name=mode]:checked").value; }

// The "not like" field: comma-separated descriptions, each sent as its own `not`.
function negatives() { return els.not.value.split(",").map((t) => t.trim()).filter(Boolean); }

async function getJSON(url, options = {}) {
  const response = await fetch(url, options);
  const body = await response.json().catch(() => ({ error: `The server answered ${response.status}.` }));
  if (!response.ok) throw new Error(body.error || `The server answered ${response.status}.`);
  return body;
}

// ---- status and empty states ------------------------------------------------------------------------

function setStatus(text, kind = "") {
  els.status.className = "status " + kind;
  els.status.replaceChildren(...(kind === "loading" ? [el("span", { class: "spinner" })] : []), text);
}

function showEmpty(kind) {
  const files = state.info ? state.info.files_indexed : 0;
  const wordsOnly = mode() === "text" && !state.title.startsWith("Sounds");
  const blocks = {
    start: [el("h2", {}, "Find a sound by describing it"),
            el("p", {}, `Search ${files.toLocaleString()} indexed files by what they sound like.`),
            el("p", { class: "hint" }, "Try “rain on a window”, “metallic impact” or “crowd murmur”; or drop a file anywhere to find sounds like it."),
            el("p", { class: "hint" }, "Add “-word” to leave out files with that word in their name, folder or tags, e.g. “door slam -car”.")],
    none: [el("h2", {}, "Nothing matches"),
           el("p", { class: "hint" }, wordsOnly
             ? "No file’s name, folder or tags contain these words. Try Hybrid or Sound, or clear a filter."
             : "No file passes the filters. Clear the folder, format or length filter and try again.")],
    error: [el("h2", {}, "Something went wrong"), el("p", { class: "hint" }, els.status.textContent)],
  };
  els.empty.replaceChildren(...(blocks[kind] || []));
  els.empty.hidden = !kind;
}

// ---- searching ------------------------------------------------------------------------------------------

async function run(title, url, options = {}) {
  if (state.request) state.request.abort();
  const request = new AbortController();
  state.request = request;
  setStatus("Searching…", "loading");
  els.results.classList.add("loading");
  try {
    const rows = await getJSON(url, { ...options, signal: request.signal });
    if (request !== state.request) return;
    state.title = title;
    showRows(rows);
    setStatus(rows.length ? `${title} · ${counted(rows)}` : title);
  } catch (error) {
    if (error.name === "AbortError") return;
    setStatus(error.message, "error");
    showRows([]);
    showEmpty("error");
  } finally {
    if (request === state.request) { els.results.classList.remove("loading"); state.request = null; }
  }
}

function counted(rows) {
  const files = new Set(rows.map((r) => r.id)).size;
  const text = `${files} file${files === 1 ? "" : "s"}`;
  return rows.length > files ? `${text}, ${rows.length} passages` : text;
}

function searchText() {
  const text = els.q.value.trim();
  if (!text) {
    if (state.request) state.request.abort();
    showRows([]); setStatus(""); showEmpty("start");
    return;
  }
  state.lastRerun = searchText;
  const params = filterParams();
  params.set("text", text);  // as typed: "-word" leaves files with that word out, on the server
  params.set("mode", mode());
  const without = negatives();
  for (const negative of without) params.append("not", negative);
  const notes = [MODE_NAMES[mode()], without.length ? `not like ${without.join(", ")}` : ""].filter(Boolean);
  run(`Results for “${text}”${notes.map((n) => ` · ${n}`).join("")}`, `/ui/query?${params}`);
}
const searchSoon = debounce(searchText, DEBOUNCE_MS);

function searchSimilar(row) {
  state.lastRerun = () => searchSimilar(row);
  const params = filterParams();
  params.set("id", row.id); params.set("start", row.start); params.set("end", row.end);
  run(`Sounds like ${row.name} ${clock(row.start)}–${clock(row.end)}`, `/ui/similar?${params}`);
}

function searchByFile(file) {
  if (!file) return;
  if (state.maxUpload && file.size > state.maxUpload) {
    setStatus(`${file.name} is larger than this server's upload limit of ${(state.maxUpload / 2 ** 20).toFixed(0)} MB.`, "error");
    return;
  }
  state.lastRerun = () => searchByFile(file);
  run(`Sounds like ${file.name}`, `/ui/similar?${filterParams()}`,
      { method: "POST", body: file, headers: { "X-Filename": encodeURIComponent(file.name) } });
}

// ---- the result list -------------------------------------------------------------------------------------

const PLAY_ICON = '<svg viewBox="0 0 12 12"><path d="M2 1l9 5-9 5z"/></svg>';
const PAUSE_ICON = '<svg viewBox="0 0 12 12"><path d="M2 1h3v10H2zM7 1h3v10H7z"/></svg>';

function showRows(rows) {
  state.rows = rows;
  state.selected = rows.length ? 0 : -1;
  els.results.replaceChildren(...rows.map(rowElement));
  els.exportButton.disabled = !rows.length;
  showEmpty(rows.length ? "" : (els.q.value.trim() || state.title.startsWith("Sounds") ? "none" : "start"));
  markSelected(false);
  rows.forEach(loadPeaks);
}

function rowElement(row, index) {
  const play = el("button", { class: "play", type: "button", tabindex: "-1", "aria-label": `Play ${row.name}`,
                              onclick: (e) => { e.stopPropagation(); select(index); toggle(); } });
  play.innerHTML = PLAY_ICON;  // a constant icon, never data
  const canvas = el("canvas", { class: "wave", width: 600, height: 80, "aria-hidden": "true",
                                onclick: (e) => { e.stopPropagation(); select(index); playAt(row, seekPosition(e, row)); } });
  const tags = el("div", { class: "tags" }, ...row.tags.map((t) => el("span", { class: "tag", title: `${(t.score * 100).toFixed(0)}%` }, t.label)));
  const actions = el("div", { class: "actions" },
    el("button", { type: "button", class: "link", tabindex: "-1", title: "Find sounds like this passage",
                   onclick: (e) => { e.stopPropagation(); searchSimilar(row); } }, "Similar"),
    el("button", { type: "button", class: "link", tabindex: "-1", title: row.path,
                   onclick: (e) => { e.stopPropagation(); copyPath(row); } }, "Copy path"),
    el("a", { class: "link button-link", href: `/audio/${row.id}?download=1`, tabindex: "-1", title: "Download the file (or drag the row out of the page)",
              onclick: (e) => e.stopPropagation() }, "Save"));
  const node = el("li", { class: "row", role: "option", id: `row-${index}`, draggable: "true", "aria-selected": "false",
                          onclick: () => { select(index); playFromStart(); }, ondragstart: (e) => dragOut(e, row) },
    play,
    el("div", { class: "what" }, el("div", { class: "name", title: row.name }, row.name),
       el("div", { class: "folder", title: row.folder }, "\u200e" + row.folder), tags, whyElement(row)),
    canvas,
    el("div", { class: "when" }, el("b", {}, `${clock(row.start)}–${clock(row.end)}`), el("br"), `of ${clock(row.duration)}`),
    el("div", { class: "score" }, row.score.toFixed(3), el("small", {}, "score")),
    actions);
  return node;
}

// Why a row matched, when the search says: its rank by sound, its rank by words and the words.
function whyElement(row) {
  const parts = [];
  if (row.audio_rank) parts.push(el("span", { class: "rank", title: "Rank of this file by sound" }, `sound #${row.audio_rank}`));
  if (row.text_rank) parts.push(el("span", { class: "rank", title: "Rank of this file by its words (name, folder, tags)" }, `words #${row.text_rank}`));
  for (const word of row.words || []) parts.push(el("span", { class: "word", title: "A word of the query found in this file’s name, folder or tags" }, word));
  return el("div", { class: "why" }, ...parts);
}

function seekPosition(event, row) {
  const box = event.currentTarget.getBoundingClientRect();
  return Math.max(0, Math.min(1, (event.clientX - box.left) / box.width)) * row.duration;
}

async function loadPeaks(row) {
  if (!state.peaks.has(row.id)) {
    try {
      state.peaks.set(row.id, (await getJSON(`/ui/peaks/${row.id}`)).peaks);
    } catch (error) {
      state.peaks.set(row.id, []);
    }
  }
  drawWave(row);
}

function drawWave(row, playhead = null) {
  const index = state.rows.indexOf(row);
  const canvas = index >= 0 && document.querySelector(`#row-${index} canvas`);
  if (!canvas) return;
  const ctx = canvas.getContext("2d"), w = canvas.width, h = canvas.height;
  const css = getComputedStyle(document.documentElement);
  const peaks = state.peaks.get(row.id) || [];
  const x0 = (row.start / row.duration) * w, x1 = (row.end / row.duration) * w;
  ctx.clearRect(0, 0, w, h);
  ctx.fillStyle = css.getPropertyValue("--passage");
  ctx.fillRect(x0, 0, Math.max(2, x1 - x0), h);
  const bar = w / Math.max(1, peaks.length);
  peaks.forEach((p, i) => {
    const x = i * bar, inside = x + bar > x0 && x < x1;
    ctx.fillStyle = css.getPropertyValue(inside ? "--wave-on" : "--wave");
    const height = Math.max(2, p * (h - 6));
    ctx.fillRect(x + bar * 0.15, (h - height) / 2, Math.max(1, bar * 0.7), height);
  });
  if (playhead !== null) {
    ctx.fillStyle = css.getPropertyValue("--ink");
    ctx.fillRect((playhead / row.duration) * w - 1, 0, 2, h);
  }
}

function select(index, scroll = true) {
  if (index < 0 || index >= state.rows.length) return;
  state.selected = index;
  markSelected(scroll);
}

function markSelected(scroll) {
  [...els.results.children].forEach((node, i) => {
    node.classList.toggle("selected", i === state.selected);
    node.setAttribute("aria-selected", i === state.selected ? "true" : "false");
  });
  if (state.selected >= 0) {
    els.results.setAttribute("aria-activedescendant", `row-${state.selected}`);
    if (scroll) els.results.children[state.selected].scrollIntoView({ block: "nearest" });
  }
}

// ---- playing ------------------------------------------------------------------------------------------------

function selectedRow() { return state.rows[state.selected]; }

function playAt(row, seconds, stopAt = row.end) {
  const player = els.player;
  if (state.playingId !== row.id) {
    player.src = `/audio/${row.id}`;
    state.playingId = row.id;
  }
  state.playingRow = row;  // a file may show several passages: the one played is this row
  state.stopAt = seconds < row.end ? stopAt : null;  // a click past the passage plays on to the end
  const start = () => { player.currentTime = seconds; player.play().catch((e) => setStatus(`Cannot play ${row.name}: ${e.message}`, "error")); };
  if (player.readyState >= 1) start(); else player.addEventListener("loadedmetadata", start, { once: true });
  if (player.readyState < 1) player.load();
}

function playFromStart() { const row = selectedRow(); if (row) playAt(row, row.start); }

function toggle() {
  const row = selectedRow(), player = els.player;
  if (!row) return;
  if (isPlaying(row) && !player.paused) { player.pause(); return; }
  const inside = isPlaying(row) && player.currentTime >= row.start && player.currentTime < row.end - 0.05;
  playAt(row, inside ? player.currentTime : row.start);
}

// The row being played: the same passage (file and start) in the current results, if it is there.
function isPlaying(row) {
  const p = state.playingRow;
  return Boolean(p && row && row.id === p.id && row.start === p.start);
}

function playingRow() { return state.rows.find(isPlaying); }

function onTime() {
  const player = els.player, row = playingRow();
  if (state.stopAt !== null && player.currentTime >= state.stopAt) { player.pause(); state.stopAt = null; }
  if (row) drawWave(row, player.currentTime);
}

function onPlayState() {
  [...els.results.children].forEach((node, i) => {
    const on = isPlaying(state.rows[i]) && !els.player.paused;
    node.classList.toggle("playing", on);
    node.querySelector(".play").innerHTML = on ? PAUSE_ICON : PLAY_ICON;
  });
}

function tick() { if (!els.player.paused) onTime(); requestAnimationFrame(tick); }

// ---- copy, drag out, export -------------------------------------------------------------------------------

async function copyPath(row) {
  try { await navigator.clipboard.writeText(row.path); toast("Path copied"); }
  catch (error) { window.prompt("Copy this path:", row.path); }
}

// What /audio/ID sends for each extension; any other format comes decoded, as WAV.
const SENT_AS = { wav: "audio/wav", flac: "audio/flac", ogg: "audio/ogg", oga: "audio/ogg", opus: "audio/ogg", mp3: "audio/mpeg" };

function dragOut(event, row) {
  const url = new URL(`/audio/${row.id}?download=1`, location.href).href;
  const type = SENT_AS[row.ext] || "audio/wav";
  const name = SENT_AS[row.ext] ? row.name : row.name.replace(/\.[^.]*$/, "") + ".wav";
  // Chrome turns DownloadURL drag data into a file dropped on the desktop or a DAW.
  event.dataTransfer.setData("DownloadURL", `${type}:${name}:${url}`);
  event.dataTransfer.setData("text/uri-list", url);
  event.dataTransfer.setData("text/plain", row.path);
}

function exportM3U() {
  const lines = ["#EXTM3U", ...state.rows.flatMap((r) => [`#EXTINF:${Math.round(r.duration)},${r.name}`, r.path])];
  const link = el("a", { href: URL.createObjectURL(new Blob([lines.join("\n") + "\n"], { type: "audio/x-mpegurl" })),
                         download: "clapsearch-results.m3u" });
  link.click();
  setTimeout(() => URL.revokeObjectURL(link.href), 1000);
}

// ---- keyboard and drop ---------------------------------------------------------------------------------------

function onKey(event) {
  const typing = event.target === els.q || ["INPUT", "SELECT", "TEXTAREA"].includes(event.target.tagName);
  if (event.key === "/" && !typing) { event.preventDefault(); els.q.focus(); els.q.select(); return; }
  if (event.key === "Escape") { els.player.pause(); if (event.target !== els.q) els.q.focus(); return; }
  if (!state.rows.length) return;
  if (event.key === "ArrowDown" || event.key === "ArrowUp") {
    if (typing && event.target !== els.q) return;
    event.preventDefault();
    if (event.target === els.q) els.results.focus();
    select(state.selected + (event.key === "ArrowDown" ? 1 : -1));
    return;
  }
  if (typing && !(event.target === els.q && event.key === "Enter")) return;
  if (event.key === "Enter") { event.preventDefault(); if (event.target === els.q) els.results.focus(); playFromStart(); }
  else if (event.key === " ") { event.preventDefault(); toggle(); }
  else if (event.key.toLowerCase() === "s" && !event.ctrlKey && !event.metaKey) { const row = selectedRow(); if (row) searchSimilar(row); }
}

function setUpDrop() {
  let depth = 0;
  const hasFile = (e) => e.dataTransfer && [...e.dataTransfer.types].includes("Files");
  window.addEventListener("dragenter", (e) => { if (hasFile(e)) { depth++; els.drop.hidden = false; } });
  window.addEventListener("dragleave", (e) => { if (hasFile(e) && --depth <= 0) { depth = 0; els.drop.hidden = true; } });
  window.addEventListener("dragover", (e) => { if (hasFile(e)) e.preventDefault(); });
  window.addEventListener("drop", (e) => {
    if (!hasFile(e)) return;
    e.preventDefault(); depth = 0; els.drop.hidden = true;
    searchByFile(e.dataTransfer.files[0]);
  });
}

// ---- start --------------------------------------------------------------------------------------------------------

async function loadFacets() {
  try {
    const [info, facets] = await Promise.all([getJSON("/api/info"), getJSON("/ui/facets")]);
    state.info = info; state.maxUpload = facets.max_upload_bytes;
    els.folders.replaceChildren(...facets.folders.map((f) => el("option", { value: f })));
    els.ext.append(...facets.extensions.map((x) => el("option", { value: x }, x)));
    els.q.placeholder = `Describe a sound in ${info.files_indexed.toLocaleString()} files — “dog barking in the rain”`;
    if (!els.q.value.trim()) showEmpty("start");
  } catch (error) {
    setStatus(error.message, "error");
    showEmpty("error");
  }
}

function start() {
  els.q.addEventListener("input", searchSoon);
  document.getElementById("search-form").addEventListener("submit", (e) => e.preventDefault());
  for (const input of [els.under, els.min, els.max]) input.addEventListener("input", debounce(rerun, 300));
  els.ext.addEventListener("change", rerun);
  els.perFile.addEventListener("change", rerun);
  els.modes.forEach((radio) => radio.addEventListener("change", rerun));
  els.not.addEventListener("input", debounce(rerun, DEBOUNCE_MS));
  els.file.addEventListener("change", () => { searchByFile(els.file.files[0]); els.file.value = ""; });
  els.exportButton.addEventListener("click", exportM3U);
  els.player.addEventListener("timeupdate", onTime);
  for (const type of ["play", "pause", "ended"]) els.player.addEventListener(type, onPlayState);
  els.player.addEventListener("error", () => setStatus("The browser could not play this file.", "error"));
  document.addEventListener("keydown", onKey);
  setUpDrop();
  requestAnimationFrame(tick);
  showEmpty("start");
  loadFacets();
}

function rerun() { (state.lastRerun || searchText)(); }

start();
