// Answers ticked but not yet sent: kept in this tab's sessionStorage, per participant, content key and page, so a
// language switch or a reload does not lose them; leaving the page with some asks first. The answered counter of
// the threats page follows them. Cleared once the page's answers are stored (the next page's load clears those of
// the pages before it), on the thank-you page, and when a browser starts as a new student, so that the next student
// on a shared computer never sees them.
"use strict";

(function () {
  const PREFIX = "threatlab:unsent:";
  let store = null;
  try {
    store = window.sessionStorage;
  } catch (error) {
    store = null; // storage disabled: the page works as before, without drafts
  }

  function forget(startingWith) {
    if (!store) return;
    const keys = [];
    for (let i = 0; i < store.length; i += 1) {
      const key = store.key(i);
      if (key && key.indexOf(PREFIX + startingWith) === 0) keys.push(key);
    }
    keys.forEach(function (key) { store.removeItem(key); });
  }

  // A consent page starts somebody new; "Start as a new student" leaves an earlier participant behind.
  if (document.querySelector("[data-new-student]")) forget("");
  document.addEventListener("submit", function (event) {
    if (event.submitter && event.submitter.hasAttribute("data-forget-unsent")) forget("");
  });
  const finished = document.querySelector("[data-finished]");
  if (finished) forget(finished.dataset.finished + ":");

  const form = document.querySelector("form[data-unsent]");
  if (!form) return;
  const key = PREFIX + form.dataset.unsent;
  const participant = form.dataset.unsent.split(":")[0];
  // The pages this participant left were stored (or their content changed): their drafts are done with.
  if (store) {
    const mine = [];
    for (let i = 0; i < store.length; i += 1) {
      const other = store.key(i);
      if (other && other.indexOf(PREFIX + participant + ":") === 0 && other !== key) mine.push(other);
    }
    mine.forEach(function (other) { store.removeItem(other); });
  }

  function fields() {
    return Array.prototype.filter.call(form.elements, function (field) {
      return field.name && (field.type === "radio" || field.type === "checkbox" || field.tagName === "TEXTAREA");
    });
  }

  function current() {
    const values = {};
    fields().forEach(function (field) {
      if ((field.type === "radio" || field.type === "checkbox") && field.checked) values[field.name] = field.value;
      else if (field.tagName === "TEXTAREA" && field.value) values[field.name] = field.value;
    });
    return values;
  }

  function restore() {
    let saved = null;
    try {
      saved = store && JSON.parse(store.getItem(key) || "null");
    } catch (error) {
      saved = null;
    }
    if (!saved || typeof saved !== "object") return;
    const now = current();
    fields().forEach(function (field) {
      // What the page itself shows (answers sent back with an error) wins over the draft.
      if (!Object.prototype.hasOwnProperty.call(saved, field.name) || now[field.name] !== undefined) return;
      if (field.type === "radio" || field.type === "checkbox") field.checked = field.value === saved[field.name];
      else field.value = saved[field.name];
    });
  }

  function save() {
    if (!store) return;
    const values = current();
    try {
      if (Object.keys(values).length) store.setItem(key, JSON.stringify(values));
      else store.removeItem(key);
    } catch (error) {
      // storage full: the answers still go with the form
    }
  }

  const counter = document.querySelector("[data-answered]");
  function count() {
    if (!counter) return;
    const answered = new Set();
    fields().forEach(function (field) {
      if (field.type === "radio" && field.checked && field.name.indexOf("threat_") === 0) answered.add(field.name);
    });
    const text = counter.dataset.pattern
      .replace("{answered}", String(answered.size))
      .replace("{total}", counter.dataset.total);
    // Only a change is written, so a screen reader hears each new count once.
    if (counter.textContent !== text) counter.textContent = text;
  }

  restore();
  count();
  form.addEventListener("change", function () { save(); count(); });
  form.addEventListener("input", save);

  // Submitting this form or the language chooser is not leaving the answers behind.
  let sending = false;
  document.addEventListener("submit", function () { sending = true; });
  window.addEventListener("pageshow", function () { sending = false; });
  window.addEventListener("beforeunload", function (event) {
    if (sending || !Object.keys(current()).length) return;
    event.preventDefault();
    event.returnValue = "";
  });
})();
