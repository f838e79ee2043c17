// "Save & run" in the editor: htmx posts the widget form, so the code editors must first
// copy their text into the form's textareas (CodeMirror only does that on a real submit).
(function () {
  "use strict";
  document.addEventListener("click", function (event) {
    if (!event.target.closest("[data-save-and-run]")) return;
    document.querySelectorAll("#widget-form .CodeMirror").forEach(function (wrapper) {
      if (wrapper.CodeMirror) wrapper.CodeMirror.save();
    });
  }, true);  // capture: runs before htmx reads the form on the same click
})();
