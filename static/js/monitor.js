// Live monitor: fetch the session's numbers every few seconds and redraw the tables in place.
// The texts it writes come translated from the page (data-text-* on #monitor): the script has no catalogue.
// Times arrive as ISO 8601 in UTC with the server's "now"; they are shown relative ("2 minutes ago", through the
// browser's Intl in the page's language) and, on hover, as an absolute time in the browser's time zone.
"use strict";

(function () {
  const root = document.getElementById("monitor");
  if (!root) return;
  const url = root.dataset.url;
  const interval = Number(root.dataset.interval) || 4000;
  const lang = document.documentElement.lang || undefined;
  const texts = {
    updated: root.dataset.textUpdated || "Updated %(time)s.",
    failed: root.dataset.textFailed || "Update failed (HTTP %(status)s).",
    offline: root.dataset.textOffline || "Offline; retrying.",
    idle: root.dataset.textIdle || "idle",
    bot: root.dataset.textBot || "yes",
  };

  // Fill in a text's %(name)s placeholders, as Django's translations write them.
  function format(text, values) {
    return text.replace(/%\((\w+)\)s/g, function (match, name) {
      return name in values ? String(values[name]) : match;
    });
  }

  // Intl in the page's language; an unknown language tag falls back to the browser's own.
  function intl(make) {
    try {
      return make(lang);
    } catch (error) {
      return make(undefined);
    }
  }
  const relative = intl(function (tag) { return new Intl.RelativeTimeFormat(tag, { numeric: "auto" }); });
  const absolute = intl(function (tag) {
    return new Intl.DateTimeFormat(tag, { dateStyle: "medium", timeStyle: "medium" });
  });
  const clock = intl(function (tag) { return new Intl.DateTimeFormat(tag, { timeStyle: "medium" }); });

  // "2 minutes ago", counted on the server's clock: a browser whose clock is off still says how long it has been.
  function ago(then, serverNow) {
    const seconds = Math.max(0, Math.round((serverNow - then) / 1000));
    if (seconds < 60) return relative.format(-seconds, "second");
    const minutes = Math.round(seconds / 60);
    if (minutes < 60) return relative.format(-minutes, "minute");
    const hours = Math.round(minutes / 60);
    if (hours < 48) return relative.format(-hours, "hour");
    return relative.format(-Math.round(hours / 24), "day");
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

  function total(tag, text) {
    const el = cell(tag, text);
    el.className = "total";
    return el;
  }

  function timeCell(p, serverNow) {
    const td = document.createElement("td");
    const then = new Date(p.last);
    const time = cell("time", ago(then, serverNow));
    time.dateTime = p.last;
    time.title = absolute.format(then);
    td.append(time);
    if (p.idle) {
      const flag = cell("strong", texts.idle);
      flag.className = "idle-flag";
      td.append(" ", flag);
    }
    return td;
  }

  function fill(tbody, rows) {
    tbody.replaceChildren(...rows);
  }

  function render(data) {
    const serverNow = new Date(data.now);
    document.getElementById("monitor-status").textContent = data.session.status_label || data.session.status;
    document.getElementById("monitor-declined").textContent = data.session.declined;
    document.getElementById("monitor-total").textContent = data.total;
    document.getElementById("monitor-idle").textContent = data.idle;
    fill(document.querySelector("#monitor-counts tbody"), data.arms.map(function (arm, i) {
      const tr = document.createElement("tr");
      tr.append(cell("th", arm, "row"), ...data.counts[i].map(function (n) { return cell("td", n); }),
        total("td", data.arm_totals[i]));
      return tr;
    }));
    const foot = document.querySelector("#monitor-counts tfoot tr");
    foot.replaceChildren(foot.firstElementChild, ...data.stage_totals.map(function (n) { return total("td", n); }),
      total("td", data.total));
    fill(document.querySelector("#monitor-participants tbody"), data.participants.map(function (p) {
      const tr = document.createElement("tr");
      if (p.idle) tr.className = "idle";
      const code = document.createElement("td");
      code.append(cell("code", p.code));
      tr.append(code, cell("td", p.arm), cell("td", p.stage_label || p.stage), timeCell(p, serverNow),
        cell("td", p.bot ? texts.bot : ""));
      return tr;
    }));
  }

  async function refresh() {
    try {
      const response = await fetch(url, { headers: { Accept: "application/json" }, credentials: "same-origin" });
      if (response.ok) {
        render(await response.json());
        say(format(texts.updated, { time: clock.format(new Date()) }));
      } else {
        say(format(texts.failed, { status: response.status }));
      }
    } catch (error) {
      say(texts.offline);
    }
    window.setTimeout(refresh, interval);
  }

  // The page as served says "5 minutes ago" on the server's clock in UTC; redraw it at once in the browser's zone.
  const initial = document.getElementById("monitor-initial");
  if (initial) render(JSON.parse(initial.textContent));
  window.setTimeout(refresh, interval);
})();
