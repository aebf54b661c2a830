// The catalog browser: the table, a model's page, and the change stream. No dependencies.
"use strict";
const state = { models: [], sort: "model_id", desc: false, revision: null };
const $ = (selector) => document.querySelector(selector);

function text(tag, value, cls) {
  const node = document.createElement(tag);
  node.textContent = value === null || value === undefined ? "" : String(value);
  if (cls) node.className = cls;
  return node;
}

async function getJson(path) {
  const answer = await fetch(path, { headers: { Accept: "application/json" } });
  if (!answer.ok) throw new Error(path + ": " + answer.status);
  return answer.json();
}

async function loadAll() {
  let models = [], cursor = null, revision = null;
  do {
    const page = await getJson("/api/models?limit=1000" + (cursor ? "&cursor=" + encodeURIComponent(cursor) : ""));
    models = models.concat(page.data);
    revision = page.revision;
    cursor = page.next_cursor;
  } while (cursor);
  state.models = models;
  setRevision(revision);
  fillChoices();
  render();
}

function setRevision(revision) {
  state.revision = revision;
  $("#revision").textContent = "revision " + revision;
}

function quality(model) {
  const scores = Object.values(model.quality_scores || {});
  return scores.length ? scores.reduce((a, b) => a + b, 0) / scores.length : 0;
}

function sortValue(model, key) {
  if (key === "quality") return quality(model);
  const value = model[key];
  if (key.startsWith("cost_")) return Number(value);
  return value;
}

function fillChoices() {
  const providers = [...new Set(state.models.map((m) => m.provider))].sort();
  const select = $("#provider"), chosen = select.value;
  select.replaceChildren(text("option", "any provider"));
  select.firstChild.value = "";
  for (const name of providers) select.append(text("option", name));
  select.value = chosen;
  const names = [...new Set(state.models.flatMap((m) => Object.keys(m.capabilities).filter((k) => m.capabilities[k])))].sort();
  const box = $("#capabilities"), ticked = new Set([...box.querySelectorAll("input:checked")].map((i) => i.value));
  box.replaceChildren();
  for (const name of names) {
    const label = document.createElement("label"), input = document.createElement("input");
    input.type = "checkbox"; input.value = name; input.checked = ticked.has(name);
    input.addEventListener("change", () => render());
    label.append(input, " " + name.replace(/^supports_/, ""));
    box.append(label);
  }
}

function visible() {
  const search = $("#search").value.trim().toLowerCase();
  const provider = $("#provider").value, status = $("#status").value;
  const needed = [...document.querySelectorAll("#capabilities input:checked")].map((i) => i.value);
  const shown = state.models.filter((m) =>
    (!search || m.model_id.toLowerCase().includes(search) || m.display_name.toLowerCase().includes(search)) &&
    (!provider || m.provider === provider) && (!status || m.status === status) &&
    needed.every((name) => m.capabilities[name]));
  const key = state.sort, sign = state.desc ? -1 : 1;
  return shown.sort((a, b) => {
    const x = sortValue(a, key), y = sortValue(b, key);
    return (x < y ? -1 : x > y ? 1 : a.model_id < b.model_id ? -1 : 1) * sign;
  });
}

function render(changed) {
  const body = $("#models tbody");
  body.replaceChildren();
  for (const m of visible()) {
    const row = document.createElement("tr");
    row.dataset.id = m.model_id;
    if (changed && changed.has(m.model_id)) row.className = "changed";
    const link = document.createElement("a");
    link.href = "#/model/" + encodeURIComponent(m.model_id);
    link.textContent = m.model_id;
    const first = document.createElement("td"); first.append(link);
    row.append(first, text("td", m.display_name), text("td", m.provider), text("td", m.status, "status"),
      text("td", m.context_window, "num"), text("td", m.cost_per_1m_input_tokens, "num"),
      text("td", m.cost_per_1m_output_tokens, "num"), text("td", m.latency_p50_ms, "num"),
      text("td", quality(m).toFixed(2), "num"));
    body.append(row);
  }
  $("#count").textContent = body.children.length + " of " + state.models.length + " models";
  for (const th of document.querySelectorAll("th[data-sort]")) {
    th.className = (th.classList.contains("num") ? "num " : "") + (th.dataset.sort === state.sort ? (state.desc ? "desc" : "asc") : "");
  }
}

async function showModel(id) {
  const model = await getJson("/api/models/" + encodeURIComponent(id).replace(/%2F/g, "/"));
  $("#list").hidden = true; $("#detail").hidden = false;
  $("#detail-title").textContent = model.display_name + " (" + model.model_id + ")";
  const fields = $("#fields");
  fields.replaceChildren();
  for (const [key, value] of Object.entries(model)) {
    const row = document.createElement("tr");
    row.append(text("th", key), text("td", typeof value === "object" && value !== null ? JSON.stringify(value) : value));
    fields.append(row);
  }
  const path = "/api/models/" + encodeURIComponent(model.model_id).replace(/%2F/g, "/");
  $("#chart").src = path + "/prices.svg?r=" + state.revision;
  const history = await getJson(path + "/history");
  const list = $("#history");
  list.replaceChildren();
  for (const entry of history.data) {
    const item = text("li", "v" + entry.version + " " + entry.change + " " + entry.changed_at + " by " + entry.actor + (entry.reason ? ": " + entry.reason : ""));
    for (const change of entry.diff) item.append(text("div", change.field + ": " + JSON.stringify(change.old) + " → " + JSON.stringify(change.new), "diff"));
    list.append(item);
  }
}

function route() {
  const match = location.hash.match(/^#\/model\/(.+)$/);
  if (match) return showModel(decodeURIComponent(match[1]));
  $("#detail").hidden = true; $("#list").hidden = false;
  render();
}

function follow() {
  const source = new EventSource("/api/changes/stream" + (state.revision !== null ? "?since=" + state.revision : ""));
  source.addEventListener("open", () => { $("#live").textContent = "live"; $("#live").className = "on"; });
  source.addEventListener("change", async (event) => {
    const change = JSON.parse(event.data);
    const at = state.models.findIndex((m) => m.model_id === change.model_id);
    if (change.change === "removed") { if (at >= 0) state.models.splice(at, 1); }
    else {
      const model = await getJson("/api/models/" + encodeURIComponent(change.model_id).replace(/%2F/g, "/"));
      if (at >= 0) state.models[at] = model; else state.models.push(model);
    }
    setRevision(change.revision);
    fillChoices();
    if (!$("#list").hidden) render(new Set([change.model_id]));
    else if (location.hash.endsWith(encodeURIComponent(change.model_id))) showModel(change.model_id);
  });
  source.addEventListener("gone", () => { source.close(); loadAll().then(follow); });
  source.addEventListener("error", () => { $("#live").textContent = "reconnecting"; $("#live").className = "off"; });
}

document.querySelectorAll("th[data-sort]").forEach((th) => th.addEventListener("click", () => {
  state.desc = state.sort === th.dataset.sort ? !state.desc : false;
  state.sort = th.dataset.sort;
  render();
}));
["#search", "#provider", "#status"].forEach((s) => $(s).addEventListener("input", () => render()));
window.addEventListener("hashchange", route);
loadAll().then(() => { route(); follow(); });
