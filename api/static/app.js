// kesu operations dashboard: KPIs, open alerts by tier with live SLA countdowns, actions.
// Plain JS, no build step. Data arrives over the API with the key in a header; text from the
// API is only ever set with textContent (never HTML).
"use strict";

const TIER_STATE = new Map(); // alert_id -> alert (active ones)
let KEY = null;
let ROLE = null;
let lastEventId = null;
let focusShown = false; // a card's "查看详情" link opens /#alert=<id>: scroll to it once

const $ = (id) => document.getElementById(id);
const OPERATOR_ROLES = new Set(["operator", "admin"]);
const EMOTIONS = { anger: "愤怒型", disappointment: "失望型", apathy: "冷漠型", anxiety: "焦虑", helplessness: "无助", neutral: "中性", positive: "正面" };

function takeKeyFromUrl() {
  const hash = new URLSearchParams(location.hash.slice(1));
  const key = hash.get("key");
  if (key) {
    sessionStorage.setItem("kesu-key", key);
    hash.delete("key");
    history.replaceState(null, "", location.pathname + (hash.toString() ? "#" + hash : ""));
  }
  return sessionStorage.getItem("kesu-key");
}

async function api(path, options = {}) {
  const headers = Object.assign({ Authorization: "Bearer " + KEY }, options.headers || {});
  const response = await fetch(path, Object.assign({}, options, { headers }));
  if (response.status === 401) {
    sessionStorage.removeItem("kesu-key");
    showLogin("密钥无效或已撤销，请重新输入。");
    throw new Error("unauthorised");
  }
  return response;
}

function showLogin(message) {
  $("app").hidden = true;
  $("login").hidden = false;
  $("login-error").textContent = message || "";
}

function toast(text) {
  const box = $("toast");
  box.textContent = text;
  box.hidden = false;
  clearTimeout(toast.timer);
  toast.timer = setTimeout(() => { box.hidden = true; }, 3000);
}

function duration(seconds) {
  if (seconds === null || seconds === undefined) return "–";
  const s = Math.abs(Math.round(seconds));
  const h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60), sec = s % 60;
  const two = (n) => String(n).padStart(2, "0");
  return h ? `${h}:${two(m)}:${two(sec)}` : `${m}:${two(sec)}`;
}

function humanDuration(seconds) {
  if (seconds === null || seconds === undefined) return "–";
  if (seconds < 60) return `${Math.round(seconds)} 秒`;
  if (seconds < 3600) return `${Math.round(seconds / 60)} 分钟`;
  return `${(seconds / 3600).toFixed(1)} 小时`;
}

// -- alerts ---------------------------------------------------------------------------------

function isActive(alert) {
  return alert.status !== "resolved" && alert.status !== "closed";
}

function slaText(alert, now) {
  const sla = alert.sla || {};
  if (sla.state === "paused") return { text: "等待客户（计时暂停）", cls: "" };
  if (!sla.due_at) return { text: sla.state === "met" ? "已按时响应" : sla.state === "missed" ? "响应超时" : "无时限", cls: "" };
  const remaining = (Date.parse(sla.due_at) - now) / 1000;
  const label = sla.kind === "first_action" ? "首次响应" : "闭环";
  if (remaining <= 0 || sla.state === "breached") return { text: `${label}已超时 ${duration(remaining)}`, cls: "breached" };
  return { text: `${label}剩余 ${duration(remaining)}`, cls: sla.state === "warned" ? "warned" : "" };
}

function renderAlerts() {
  const now = Date.now();
  for (const tier of [1, 2, 3]) {
    const list = $("alerts-" + tier);
    const alerts = [...TIER_STATE.values()].filter((a) => a.tier === tier)
      .sort((a, b) => (a.sla && a.sla.due_at ? Date.parse(a.sla.due_at) : Infinity) - (b.sla && b.sla.due_at ? Date.parse(b.sla.due_at) : Infinity));
    $("count-" + tier).textContent = String(alerts.length);
    list.replaceChildren(...alerts.map((alert) => renderAlert(alert, now)));
  }
  const focused = document.querySelector(".alert.focused");
  if (focused && !focusShown) { focusShown = true; focused.scrollIntoView({ block: "center" }); }
}

function focusedAlertId() {
  return new URLSearchParams(location.hash.slice(1)).get("alert");
}

function renderAlert(alert, now) {
  const row = $("alert-row").content.firstElementChild.cloneNode(true);
  row.dataset.alertId = alert.alert_id;
  row.querySelector(".customer").textContent = alert.customer_id || alert.case_key;
  row.querySelector(".category").textContent = (alert.labels && alert.labels.category) || "";
  row.querySelector(".emotion").textContent = (alert.labels && alert.labels.emotion) || EMOTIONS[alert.emotion] || "";
  row.querySelector(".status").textContent = (alert.labels && alert.labels.status) || alert.status;
  // A detected condition has no customer quote: its title; a parent says what it stands for.
  let excerpt = alert.excerpt || alert.title || "";
  if (alert.group) {
    const facets = (alert.group.facets || []).map((f) => f.value).slice(0, 3).join("、");
    excerpt = `${alert.title}（成员 ${alert.group.member_count}${facets ? "，另见 " + facets : ""}）`;
    const quotes = (alert.group.examples || []).slice(0, 2).join(" / ");
    if (quotes) excerpt += ` 例：${quotes}`;
  }
  row.querySelector(".excerpt").textContent = excerpt;
  if (alert.suppressed) {
    const held = row.querySelector(".held");
    held.hidden = false;
    held.textContent = "推送暂停：" + alert.suppressed.text;
    row.classList.add("suppressed");
  }
  const sla = slaText(alert, now);
  row.querySelector(".sla").textContent = sla.text;
  if (sla.cls) row.classList.add(sla.cls);
  if (alert.alert_id === focusedAlertId()) row.classList.add("focused");
  const reasons = (alert.why || []).slice(0, 3).map((cue) => cue.term).join("、");
  row.querySelector(".why").textContent = `规则 ${alert.rule_id}${reasons ? "：" + reasons : ""}`;
  if (alert.compensation) {
    const c = alert.compensation;
    row.querySelector(".comp").textContent = `${c.label} ${c.amount_yuan} 元${c.needs_approval ? "（需审批）" : ""}`;
  }
  const canAct = OPERATOR_ROLES.has(ROLE);
  const ack = row.querySelector(".ack"), resolve = row.querySelector(".resolve");
  ack.hidden = !canAct || alert.status !== "open";
  resolve.hidden = !canAct;
  ack.addEventListener("click", () => act(alert.alert_id, "ack", ack));
  resolve.addEventListener("click", () => act(alert.alert_id, "resolve", resolve));
  return row;
}

async function act(alertId, verb, button) {
  button.disabled = true;
  const response = await api(`/v1/alerts/${encodeURIComponent(alertId)}/${verb}`, {
    method: "POST",
    headers: { "Idempotency-Key": crypto.randomUUID(), "Content-Type": "application/json" },
    body: "{}",
  });
  if (response.status === 202) {
    toast(verb === "ack" ? "已确认，等待引擎更新…" : "已提交解决，等待引擎更新…");
  } else {
    const body = await response.json().catch(() => ({}));
    toast(`操作失败：${(body.error && body.error.message) || response.status}`);
    button.disabled = false;
  }
}

function applyAlert(alert) {
  const known = TIER_STATE.get(alert.alert_id);
  if (known && known.version >= alert.version) return;
  if (isActive(alert)) TIER_STATE.set(alert.alert_id, alert);
  else TIER_STATE.delete(alert.alert_id);
}

async function loadAlerts() {
  const response = await api("/v1/alerts?status=active&limit=500");
  const page = await response.json();
  TIER_STATE.clear();
  for (const alert of page.items) applyAlert(alert);
  renderAlerts();
}

// -- live stream (fetch-based SSE, so the key travels in a header) ---------------------------

async function stream() {
  let delay = 1000;
  for (;;) {
    try {
      const headers = lastEventId ? { "Last-Event-ID": lastEventId } : {};
      const response = await api("/v1/alerts/stream", { headers });
      if (!response.ok || !response.body) throw new Error("stream " + response.status);
      setConnection("live", "实时");
      delay = 1000;
      const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
      let buffer = "";
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        buffer += value;
        let end;
        while ((end = buffer.indexOf("\n\n")) >= 0) {
          handleEvent(buffer.slice(0, end));
          buffer = buffer.slice(end + 2);
        }
      }
    } catch (error) {
      if (String(error.message) === "unauthorised") return;
    }
    setConnection("retrying", "重连中…");
    await new Promise((resolve) => setTimeout(resolve, delay));
    delay = Math.min(delay * 2, 15000);
  }
}

function handleEvent(block) {
  const fields = {};
  for (const line of block.split("\n")) {
    if (!line || line.startsWith(":")) continue;
    const at = line.indexOf(": ");
    const name = at < 0 ? line : line.slice(0, at);
    const value = at < 0 ? "" : line.slice(at + 2);
    fields[name] = fields[name] ? fields[name] + "\n" + value : value;
  }
  if (fields.id) lastEventId = fields.id;
  if (fields.event === "reset") { loadAlerts(); return; }
  if (fields.event === "alert") {
    const payload = JSON.parse(fields.data);
    applyAlert(payload.alert);
    renderAlerts();
  }
}

function setConnection(state, text) {
  const badge = $("conn");
  badge.dataset.state = state;
  badge.textContent = text;
}

// -- KPIs ---------------------------------------------------------------------------------------

async function loadStatus() {
  const status = await (await api("/v1/status")).json();
  const share = status.negative_share;
  $("kpi-negative").textContent = share === null ? "–" : (share * 100).toFixed(1) + "%";
  $("kpi-negative-sub").textContent = `近 ${status.window_hours} 小时 ${status.negative} / ${status.contacts} 次联系`;
  $("kpi-contacts").textContent = String(status.contacts);
  const channels = { call: "呼叫中心", social: "社交媒体", logistics: "物流" };
  $("kpi-channels").textContent = Object.entries(status.by_channel).map(([k, v]) => `${channels[k] || k} ${v}`).join(" · ");
  const alerts = status.alerts;
  $("kpi-open").textContent = String(alerts.open_total);
  $("kpi-open-tiers").textContent = `一级 ${alerts.open_by_tier["1"]} · 二级 ${alerts.open_by_tier["2"]} · 三级 ${alerts.open_by_tier["3"]}`;
  const sla = alerts.sla;
  $("kpi-sla").textContent = `${sla.breached} 超时`;
  $("kpi-sla-sub").textContent = `计时中 ${sla.running} · 预警 ${sla.warned} · 达成 ${sla.met}`;
  $("kpi-mtta").textContent = humanDuration(alerts.mean_time_to_acknowledge_seconds);
  $("kpi-mttr").textContent = humanDuration(alerts.mean_time_to_resolve_seconds);
  $("kpi-followups").textContent = `${alerts.follow_ups.due} / ${alerts.follow_ups.done}`;
  drawTrend(status.negative_share_series);
  await loadOptionalPanels();
}

function drawTrend(series) {
  const svg = $("trend");
  $("trend-empty").hidden = series.length > 0;
  svg.replaceChildren();
  if (!series.length) return;
  const ns = "http://www.w3.org/2000/svg";
  const step = series.length > 1 ? 580 / (series.length - 1) : 0;
  const points = series.map((p, i) => [10 + i * step, 112 - p.negative_share * 100]);
  if (points.length === 1) points.push([590, points[0][1]]);  // one bucket: a level line
  const line = document.createElementNS(ns, "polyline");
  line.setAttribute("points", points.map(([x, y]) => `${x.toFixed(1)},${y.toFixed(1)}`).join(" "));
  svg.appendChild(line);
  series.forEach((p, i) => {
    const dot = document.createElementNS(ns, "circle");
    dot.setAttribute("cx", String(10 + i * step));
    dot.setAttribute("cy", String(112 - p.negative_share * 100));
    dot.setAttribute("r", "3");
    const title = document.createElementNS(ns, "title");
    title.textContent = `${new Date(p.bucket_start).toLocaleTimeString("zh-CN")} 负面 ${(p.negative_share * 100).toFixed(0)}%（${p.negative}/${p.contacts}）`;
    dot.appendChild(title);
    svg.appendChild(dot);
  });
  const last = series[series.length - 1];
  const label = document.createElementNS(ns, "text");
  label.setAttribute("x", "590");
  label.setAttribute("y", "14");
  label.setAttribute("text-anchor", "end");
  label.textContent = `当前 ${(last.negative_share * 100).toFixed(0)}%`;
  svg.appendChild(label);
}

async function loadOptionalPanels() {
  // Panels for surges and the logistics delay map appear when the API offers them.
  for (const [path, panel, fill] of [["/v1/surges", "surges-panel", fillSurges], ["/v1/logistics/delays", "delays-panel", fillDelays]]) {
    const response = await api(path);
    $(panel).hidden = response.status !== 200;
    if (response.status === 200) fill(await response.json());
  }
}

function fillSurges(body) {
  const items = (body.items || []).map((surge) => {
    const li = document.createElement("li");
    const keywords = (surge.keywords || []).slice(0, 3).join("、");
    li.textContent = surge.kind === "emerging_issue"
      ? `${surge.label} · ${surge.count} 位客户（新问题，无基线）`
      : `${surge.label || surge.key} · ${surge.count} 次（基线 ${surge.expected}，${surge.ratio}×）${keywords}`;
    return li;
  });
  $("surges").replaceChildren(...items);
}

function fillDelays(body) {
  const rows = (body.items || []).map((cell) => {
    const tr = document.createElement("tr");
    for (const value of [cell.region, cell.carrier, cell.delayed, cell.exception, cell.lost, cell.mean_delay_hours]) {
      const td = document.createElement("td");
      td.textContent = value === null || value === undefined ? "–" : String(value);
      tr.appendChild(td);
    }
    return tr;
  });
  $("delays").querySelector("tbody").replaceChildren(...rows);
}

// -- silences and messages ------------------------------------------------------------------------

function beijing(iso) {
  return new Date(iso).toLocaleString("zh-CN", { timeZone: "Asia/Shanghai", hour12: false });
}

function matcherText(m) {
  return `${m.name}${m.op}${m.value}`;
}

async function loadSilences() {
  const response = await api("/v1/silences");
  if (response.status !== 200) return;
  const rows = (await response.json()).map((s) => {
    const tr = document.createElement("tr");
    if (!s.in_effect) tr.classList.add("ended");
    const ended = s.expired_at ? `${beijing(s.expired_at)}（${s.expired_by} 提前结束）` : beijing(s.ends_at);
    for (const value of [s.matchers.map(matcherText).join("，"), s.comment, `${s.created_by} · ${beijing(s.created_at)}`, ended, s.in_effect ? "生效中" : "未生效"]) {
      const td = document.createElement("td");
      td.textContent = value;
      tr.appendChild(td);
    }
    const td = document.createElement("td");
    if (s.in_effect && OPERATOR_ROLES.has(ROLE)) {
      const button = document.createElement("button");
      button.type = "button";
      button.textContent = "结束";
      button.addEventListener("click", () => expireSilence(s.silence_id, button));
      td.appendChild(button);
    }
    tr.appendChild(td);
    return tr;
  });
  $("silences").querySelector("tbody").replaceChildren(...rows);
}

async function addSilence(event) {
  event.preventDefault();
  const matchers = $("silence-matchers").value.split(/[,，\n]/).map((m) => m.trim()).filter(Boolean);
  const response = await api("/v1/silences", {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ matchers, duration: $("silence-duration").value, comment: $("silence-comment").value }),
  });
  const body = await response.json().catch(() => ({}));
  if (response.status === 201) {
    toast("已添加静默");
    $("silence-form").reset();
    await loadSilences();
    await loadAlerts();
  } else {
    toast(`添加失败：${(body.error && body.error.message) || response.status}`);
  }
}

async function expireSilence(silenceId, button) {
  button.disabled = true;
  const response = await api(`/v1/silences/${encodeURIComponent(silenceId)}`, { method: "DELETE" });
  toast(response.status === 200 ? "静默已结束" : `操作失败：${response.status}`);
  await loadSilences();
  await loadAlerts();
}

async function showDigest() {
  const id = new URLSearchParams(location.hash.slice(1)).get("digest");
  $("digest-panel").hidden = !id;
  if (!id) return;
  const response = await api(`/v1/messages/${encodeURIComponent(id)}`);
  if (response.status !== 200) {
    $("digest-sub").textContent = "（这条消息已不在记录中）";
    return;
  }
  const body = await response.json();
  const tiers = { 1: "即时响应", 2: "深度响应", 3: "预防性响应" };
  $("digest-sub").textContent = `（${body.alerts.length} 条，${beijing(body.delivery.created_at)} 发送）`;
  $("digest").replaceChildren(...body.alerts.map((alert) => {
    const li = document.createElement("li");
    li.textContent = `【${tiers[alert.tier]}】${alert.title || alert.customer_id || alert.case_key} · ${(alert.labels && alert.labels.status) || alert.status} · ${alert.excerpt || ""}`;
    return li;
  }));
  $("digest-panel").scrollIntoView({ block: "start" });
}

// -- start ----------------------------------------------------------------------------------------

async function start() {
  KEY = takeKeyFromUrl();
  if (!KEY) { showLogin(); return; }
  let me;
  try {
    const response = await api("/v1/whoami");
    if (response.status === 403) { showLogin("该密钥没有查看权限。"); return; }
    me = await response.json();
  } catch (error) { return; }
  ROLE = me.role;
  $("who").textContent = `${me.name} · ${me.role_label}`;
  $("login").hidden = true;
  $("app").hidden = false;
  stream();                      // subscribe first, so nothing between list and stream is missed
  await loadAlerts();
  await loadStatus();
  $("silence-form").hidden = !OPERATOR_ROLES.has(ROLE);
  await loadSilences();
  await showDigest();
  setInterval(renderAlerts, 1000);   // countdowns
  setInterval(() => loadStatus().catch(() => {}), 10000);
  setInterval(() => loadSilences().catch(() => {}), 30000);
}

$("silence-form").addEventListener("submit", (event) => { addSilence(event).catch(() => {}); });

$("login-form").addEventListener("submit", (event) => {
  event.preventDefault();
  const key = $("login-key").value.trim();
  if (key) { sessionStorage.setItem("kesu-key", key); start(); }
});

start();
