// The full-screen diagram viewer: the <dialog> of templates/includes/diagram_viewer.html, opened by any
// [data-viewer-open] button on the diagram that button names. Panzoom (static/vendor/panzoom) moves and scales the
// <img> by setting its element.style, which the Content-Security-Policy allows: drag, pinch and the mouse wheel come
// from it; the keys (+ - 0 and the arrows) and the buttons are handled here. Escape is the dialog's own cancel; on
// close the focus returns to the button that opened it. Open and close are announced to exposure.js as events, so
// the viewer's seconds count for its diagram.
"use strict";

(function () {
  const dialog = document.querySelector("[data-diagram-viewer]");
  if (!dialog || typeof Panzoom !== "function" || typeof dialog.showModal !== "function") return;
  const stage = dialog.querySelector("[data-viewer-stage]");
  const image = document.createElement("img");
  image.draggable = false;
  image.dataset.viewerImage = "";
  stage.appendChild(image);
  const title = dialog.querySelector("[data-viewer-title]");
  // Each step doubles or halves the size: a diagram drawn for a laptop (1200 units wide, 13-unit labels) that opens
  // at a phone's width reads at full size after two steps.
  const STEP = Math.log(2);
  const MAX_SCALE = 4;
  // An arrow key moves the diagram by a tenth of the screen.
  const ARROW_SHARE = 0.1;
  let panzoom = null;
  let opener = null;
  let exposure = null;

  // The start: the diagram at its own size, or the screen's width when that is narrower; centred where it is
  // smaller than the screen, from its top where it is taller. Panzoom scales about the image's centre (its
  // transform-origin) and translates in unscaled pixels, hence the conversions.
  function start(width, height) {
    const box = stage.getBoundingClientRect();
    const scale = Math.min(1, box.width / width);
    const left = Math.max(0, (box.width - width * scale) / 2);
    const top = Math.max(0, (box.height - height * scale) / 2);
    return {
      startScale: scale,
      startX: (left - (width / 2) * (1 - scale)) / scale,
      startY: (top - (height / 2) * (1 - scale)) / scale,
      // Zooming out goes as far as the whole diagram on screen.
      minScale: Math.min(scale, box.width / width, box.height / height),
    };
  }

  function zoomBy(factor) {
    const box = stage.getBoundingClientRect();
    const centre = { clientX: box.left + box.width / 2, clientY: box.top + box.height / 2 };
    panzoom.zoomToPoint(panzoom.getScale() * factor, centre);
  }

  function show() {
    if (panzoom) panzoom.destroy();
    const width = image.naturalWidth || stage.clientWidth;
    const height = image.naturalHeight || stage.clientHeight;
    image.width = width;
    image.height = height;
    panzoom = Panzoom(image, Object.assign(start(width, height), {
      canvas: true,
      cursor: "grab",
      maxScale: MAX_SCALE,
      step: STEP,
    }));
  }

  function open(button) {
    opener = button;
    exposure = button.dataset.viewerExposure;
    title.textContent = button.dataset.viewerTitle;
    image.alt = button.dataset.viewerTitle;
    image.setAttribute("aria-describedby", button.dataset.viewerDescription);
    dialog.showModal();
    // The dialog itself takes the focus, not its first button: its keys work from anywhere in it, and a screen reader
    // announces its title.
    dialog.focus();
    document.dispatchEvent(new CustomEvent("diagramviewer:open", { detail: { exposure: exposure } }));
    const source = new URL(button.dataset.viewerSrc, document.baseURI).href;
    if (image.src === source && image.complete) {
      show();
    } else {
      image.addEventListener("load", show, { once: true });
      image.src = source;
    }
  }

  const keys = {
    "+": function () { zoomBy(Math.exp(STEP)); },
    "=": function () { zoomBy(Math.exp(STEP)); },
    "-": function () { zoomBy(Math.exp(-STEP)); },
    "_": function () { zoomBy(Math.exp(-STEP)); },
    "0": function () { panzoom.reset(); },
    ArrowLeft: function () { move(1, 0); },
    ArrowRight: function () { move(-1, 0); },
    ArrowUp: function () { move(0, 1); },
    ArrowDown: function () { move(0, -1); },
  };

  function move(dx, dy) {
    const box = stage.getBoundingClientRect();
    const scale = panzoom.getScale();
    panzoom.pan((dx * box.width * ARROW_SHARE) / scale, (dy * box.height * ARROW_SHARE) / scale, {
      relative: true,
      animate: false,
    });
  }

  dialog.addEventListener("keydown", function (event) {
    const action = keys[event.key];
    if (!action || !panzoom || event.altKey || event.ctrlKey || event.metaKey) return;
    event.preventDefault();
    action();
  });

  dialog.querySelectorAll("[data-viewer-zoom]").forEach(function (button) {
    button.addEventListener("click", function () {
      if (!panzoom) return;
      const direction = button.dataset.viewerZoom;
      if (direction === "reset") panzoom.reset();
      else zoomBy(Math.exp(direction === "in" ? STEP : -STEP));
    });
  });

  stage.addEventListener("wheel", function (event) { if (panzoom) panzoom.zoomWithWheel(event); }, { passive: false });
  dialog.querySelector("[data-viewer-close]").addEventListener("click", function () { dialog.close(); });

  dialog.addEventListener("close", function () {
    image.removeEventListener("load", show);
    if (panzoom) panzoom.destroy();
    panzoom = null;
    document.dispatchEvent(new CustomEvent("diagramviewer:close", { detail: { exposure: exposure } }));
    if (opener) opener.focus();
    opener = null;
  });

  document.querySelectorAll("[data-viewer-open], [data-viewer-bar]").forEach(function (element) {
    element.hidden = false;
  });
  document.querySelectorAll("[data-viewer-open]").forEach(function (button) {
    button.addEventListener("click", function () { open(button); });
  });
})();
