// The editor's file list: shows one server module's pane at a time (all stay in the form, so
// Save and Ctrl/Cmd-S save every module). Before an add/rename/delete form is sent, the
// editor's typed code is saved, so the action never loses it.
(function () {
  "use strict";
  const tabs = Array.from(document.querySelectorAll("[data-module-tab]"));
  const panes = Array.from(document.querySelectorAll("[data-module-pane]"));
  if (panes.length < 2) return;

  function show(id) {
    if (!panes.some(function (p) { return p.id === id; })) id = panes[0].id;
    panes.forEach(function (pane) {
      pane.hidden = pane.id !== id;
      const cm = pane.querySelector(".CodeMirror");
      if (!pane.hidden && cm && cm.CodeMirror) cm.CodeMirror.refresh();
    });
    tabs.forEach(function (tab) {
      tab.setAttribute("aria-current", tab.hash === "#" + id ? "page" : "false");
    });
  }

  tabs.forEach(function (tab) {
    tab.addEventListener("click", function (event) {
      event.preventDefault();
      history.replaceState(null, "", tab.hash);
      show(tab.hash.slice(1));
    });
  });
  show(location.hash.slice(1));

  const editorForm = document.querySelector("[data-editor-form]");
  document.querySelectorAll("form[data-module-action]").forEach(function (form) {
    form.addEventListener("submit", function (event) {
      // Cancelled by its confirm question (htmx-feedback.js asks first), or nothing to save.
      if (event.defaultPrevented || !editorForm) return;
      event.preventDefault();
      document.querySelectorAll(".CodeMirror").forEach(function (el) {
        if (el.CodeMirror) el.CodeMirror.save();
      });
      fetch(editorForm.action, {method: "POST", body: new FormData(editorForm)})
        .then(function () { form.submit(); });
    });
  });
})();
