// Exposure: how long the page, and each diagram on it, were in view (page visible, element on screen).
// The seconds travel with the page's form as JSON in its hidden "exposure" field; without script it stays empty.
// While the diagram viewer (diagram_viewer.js) is open it covers the page: only its diagram counts, under the same
// key as the diagram's figure ("diagram_<slug>").
"use strict";

(function () {
  const form = document.querySelector("[data-exposure-form]");
  const field = form && form.querySelector("input[name=exposure]");
  if (!field) return;

  const seconds = { page: 0 };
  const inView = new Set();
  let viewing = null;
  let last = performance.now();

  function tick() {
    const now = performance.now();
    if (document.visibilityState === "visible") {
      const elapsed = (now - last) / 1000;
      seconds.page += elapsed;
      (viewing ? [viewing] : inView).forEach(function (key) { seconds[key] = (seconds[key] || 0) + elapsed; });
    }
    last = now;
  }

  const observer = new IntersectionObserver(function (entries) {
    tick();
    entries.forEach(function (entry) {
      const key = entry.target.dataset.exposure;
      // Counted as seen when at least a third of the diagram is on screen.
      if (entry.isIntersecting && entry.intersectionRatio >= 0.33) inView.add(key);
      else inView.delete(key);
    });
  }, { threshold: [0, 0.33, 0.66, 1] });

  document.querySelectorAll("[data-exposure]").forEach(function (el) { observer.observe(el); });
  document.addEventListener("visibilitychange", tick);
  document.addEventListener("diagramviewer:open", function (event) { tick(); viewing = event.detail.exposure; });
  document.addEventListener("diagramviewer:close", function () { tick(); viewing = null; });
  window.setInterval(tick, 1000);

  form.addEventListener("submit", function () {
    tick();
    const rounded = {};
    Object.keys(seconds).forEach(function (key) { rounded[key] = Math.round(seconds[key] * 10) / 10; });
    field.value = JSON.stringify(rounded);
  });
})();
