// Live monitor: fetch the session's numbers every few seconds and redraw the two tables in place.
"use strict";

(function () {
  const root = document.getElementById("monitor");
  if (!root) return;
  const url = root.dataset.url;
  const interval = Number(root.dataset.interval) || 4000;

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
    document.getElementById("monitor-status").textContent = data.session.status;
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
      tr.append(code, cell("td", p.arm), cell("td", p.stage), cell("td", p.last), cell("td", p.bot ? "yes" : ""));
      return tr;
    }));
    document.getElementById("monitor-updated").textContent =
      "Updated " + new Date().toLocaleTimeString() + ".";
  }

  async function refresh() {
    try {
      const response = await fetch(url, { headers: { Accept: "application/json" }, credentials: "same-origin" });
      if (response.ok) render(await response.json());
      else document.getElementById("monitor-updated").textContent = "Update failed (HTTP " + response.status + ").";
    } catch (error) {
      document.getElementById("monitor-updated").textContent = "Offline; retrying.";
    }
    window.setTimeout(refresh, interval);
  }

  window.setTimeout(refresh, interval);
})();
