// Live monitor: fetch the session's numbers every few seconds and redraw the two tables in place.
// The texts it writes come translated from the page (data-text-* on #monitor): the script has no catalogue.
"use strict";

(function () {
  const root = document.getElementById("monitor");
  if (!root) return;
  const url = root.dataset.url;
  const interval = Number(root.dataset.interval) || 4000;
  const texts = {
    updated: root.dataset.textUpdated || "Updated %(time)s.",
    failed: root.dataset.textFailed || "Update failed (HTTP %(status)s).",
    offline: root.dataset.textOffline || "Offline; retrying.",
    bot: root.dataset.textBot || "yes",
  };

  // Fill in a text's %(name)s placeholders, as Django's translations write them.
  function format(text, values) {
    return text.replace(/%\((\w+)\)s/g, function (match, name) {
      return name in values ? String(values[name]) : match;
    });
  }

  // The time in the page's language; an unknown language tag falls back to the browser's own.
  function now() {
    try {
      return new Date().toLocaleTimeString(document.documentElement.lang || undefined);
    } catch (error) {
      return new Date().toLocaleTimeString();
    }
  }

  function say(text) {
    document.getElementById("monitor-updated").textContent = text;
  }

  function cell(tag, text, scope) {
    const el = document.createElement(tag);
    el.textContent = text;
    if (scope) el.scope = scope;
    return el;
  }

  function fill(tbody, rows) {
    tbody.replaceChildren(...rows);
  }

  function render(data) {
    document.getElementById("monitor-status").textContent = data.session.status_label || data.session.status;
    document.getElementById("monitor-declined").textContent = data.session.declined;
    document.getElementById("monitor-total").textContent = data.participants.length;
    fill(document.querySelector("#monitor-counts tbody"), data.arms.map(function (arm, i) {
      const tr = document.createElement("tr");
      tr.append(cell("th", arm, "row"), ...data.counts[i].map(function (n) { return cell("td", n); }));
      return tr;
    }));
    fill(document.querySelector("#monitor-participants tbody"), data.participants.map(function (p) {
      const tr = document.createElement("tr");
      const code = document.createElement("td");
      code.append(cell("code", p.code));
      tr.append(code, cell("td", p.arm), cell("td", p.stage_label || p.stage), cell("td", p.last),
        cell("td", p.bot ? texts.bot : ""));
      return tr;
    }));
    say(format(texts.updated, { time: now() }));
  }

  async function refresh() {
    try {
      const response = await fetch(url, { headers: { Accept: "application/json" }, credentials: "same-origin" });
      if (response.ok) render(await response.json());
      else say(format(texts.failed, { status: response.status }));
    } catch (error) {
      say(texts.offline);
    }
    window.setTimeout(refresh, interval);
  }

  window.setTimeout(refresh, interval);
})();
