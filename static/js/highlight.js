// Highlights read-only code blocks (<pre data-highlight="mode">) with CodeMirror's runmode.
(function () {
  "use strict";
  if (!window.CodeMirror || !CodeMirror.runMode) return;
  document.querySelectorAll("pre[data-highlight]").forEach(function (pre) {
    const code = pre.textContent;
    pre.textContent = "";
    CodeMirror.runMode(code, pre.dataset.highlight, pre);
  });
})();
