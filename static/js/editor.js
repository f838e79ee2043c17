// Turns each <textarea data-editor="mode"> of the widget form into a CodeMirror editor.
// The textareas stay the source of truth on submit, so the form also works without JavaScript.
(function () {
  "use strict";
  const form = document.querySelector("[data-editor-form]");
  if (!form || !window.CodeMirror) return;

  const indicator = document.querySelector("[data-unsaved-indicator]");
  const editors = [];
  let dirty = false;

  function markDirty() {
    if (dirty) return;
    dirty = true;
    if (indicator) indicator.hidden = false;
  }

  form.querySelectorAll("textarea[data-editor]").forEach(function (textarea) {
    const editor = CodeMirror.fromTextArea(textarea, {
      mode: textarea.dataset.editor,
      lineNumbers: true,
      indentUnit: 4,
      tabSize: 4,
      matchBrackets: true,
      viewportMargin: Infinity,
      extraKeys: {
        // Tab indents (spaces, as Python wants); Shift-Tab dedents.
        Tab: function (cm) {
          if (cm.somethingSelected()) cm.indentSelection("add");
          else cm.replaceSelection(" ".repeat(cm.getOption("indentUnit")), "end");
        },
        "Shift-Tab": function (cm) { cm.indentSelection("subtract"); },
        // Escape leaves the editor, so keyboard users are never trapped by Tab.
        Esc: function (cm) { cm.getInputField().blur(); },
      },
    });
    editor.getWrapperElement().setAttribute("aria-label", textarea.labels[0] ? textarea.labels[0].textContent.trim() : "Code");
    editor.on("change", markDirty);
    editors.push(editor);
  });

  form.addEventListener("input", markDirty);
  form.addEventListener("change", markDirty);
  form.addEventListener("submit", function () {
    editors.forEach(function (editor) { editor.save(); });
    dirty = false;  // leaving by saving is not "losing changes"
  });

  // Ctrl/Cmd-S saves instead of opening the browser's "save page" dialog.
  document.addEventListener("keydown", function (event) {
    if ((event.ctrlKey || event.metaKey) && event.key.toLowerCase() === "s") {
      event.preventDefault();
      form.requestSubmit();
    }
  });

  window.addEventListener("beforeunload", function (event) {
    if (!dirty) return;
    event.preventDefault();
    event.returnValue = "";
  });
})();
