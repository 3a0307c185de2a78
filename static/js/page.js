// On every page: the copy button beside the participant code, and the history entry of a page with form errors.
"use strict";

(function () {
  // A page that answers a POST with form errors (status 400) stands in the history as that POST: Back to it, or a
  // reload, would make the browser ask to send the form again. Its own address, which a GET serves, replaces it;
  // the language chooser's "next" field holds that address (the start page for /join/ and /resume/).
  const errors = document.getElementById("form-errors");
  const own = document.querySelector(".language-chooser input[name=next]");
  if (errors && own && own.value.charAt(0) === "/") {
    window.history.replaceState(null, "", own.value);
  }

  // Copying needs a secure context (HTTPS or localhost); elsewhere the button stays hidden and the code is typed.
  document.querySelectorAll("button[data-copy]").forEach(function (button) {
    const source = document.getElementById(button.dataset.copy);
    const status = button.parentElement.querySelector("[data-copy-status]");
    if (!source || !navigator.clipboard || !window.isSecureContext) return;
    button.hidden = false;
    button.addEventListener("click", function () {
      navigator.clipboard.writeText(source.textContent.trim()).then(function () {
        if (status) status.textContent = button.dataset.copied;
      });
    });
  });
})();
