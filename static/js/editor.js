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

  function leadingSpaces(text) {
    return text.match(/^\s*/)[0].length;
  }

  // The indentation the mode (Python, HTML) expects for `line`, or null if it has no opinion.
  function smartIndent(cm, line) {
    const mode = cm.getMode();
    if (!mode.indent) return null;
    if (line === 0) return 0;
    const text = cm.getLine(line);
    const wanted = mode.indent(cm.getStateAfter(line - 1, true), text.trimStart(), text);
    return typeof wanted === "number" ? wanted : null;
  }

  function previousIndent(cm, line) {
    for (let n = line - 1; n >= 0; n--) {
      const text = cm.getLine(n);
      if (text.trim()) return leadingSpaces(text);
    }
    return 0;
  }

  // Tab in a line's indentation moves the line to the next 4-space stop, but never deeper
  // than the code allows there: the mode's smart indentation or one level below the line
  // above. Enter after "def x():" has already indented the new line, so the Tab that people
  // press from habit must not indent it a second time (Python would call that an error).
  function indentWithTab(cm) {
    if (cm.somethingSelected()) { cm.indentSelection("add"); return; }
    const unit = cm.getOption("indentUnit");
    const cursor = cm.getCursor();
    const text = cm.getLine(cursor.line);
    const current = leadingSpaces(text);
    if (cursor.ch > current) {
      // Inside the code: pad with spaces to the next stop, as a typewriter tab would.
      cm.replaceSelection(" ".repeat(unit - (cursor.ch % unit)), "end");
      return;
    }
    const smart = smartIndent(cm, cursor.line);
    const deepest = Math.max(smart === null ? 0 : smart, previousIndent(cm, cursor.line) + unit);
    const next = (Math.floor(current / unit) + 1) * unit;
    let target = current;
    if (next <= deepest) target = next;
    else if (smart !== null && current < smart) target = smart;
    if (target !== current) cm.indentLine(cursor.line, target - current);
    cm.setCursor({line: cursor.line, ch: target});
  }

  // Backspace in a line's indentation removes one level, not one space.
  function dedentWithBackspace(cm) {
    const cursor = cm.getCursor();
    const before = cm.getLine(cursor.line).slice(0, cursor.ch);
    if (cm.somethingSelected() || cursor.ch === 0 || /\S/.test(before)) return CodeMirror.Pass;
    const unit = cm.getOption("indentUnit");
    const stop = Math.ceil(cursor.ch / unit) * unit - unit;
    cm.replaceRange("", {line: cursor.line, ch: stop}, cursor);
  }

  const narrowScreen = window.matchMedia("(max-width: 600px)").matches;

  form.querySelectorAll("textarea[data-editor]").forEach(function (textarea) {
    const editor = CodeMirror.fromTextArea(textarea, {
      mode: textarea.dataset.editor,
      lineNumbers: true,
      // On a phone, long lines wrap: a box that scrolls sideways hides code from people who
      // navigate without a mouse (and the page itself must not get wider than the screen).
      lineWrapping: narrowScreen,
      indentUnit: 4,
      tabSize: 4,
      matchBrackets: true,
      viewportMargin: Infinity,
      extraKeys: {
        // Tab indents with spaces, as Python wants; Shift-Tab dedents.
        Tab: indentWithTab,
        "Shift-Tab": function (cm) { cm.indentSelection("subtract"); },
        Backspace: dedentWithBackspace,
        // Escape leaves the editor, so keyboard users are never trapped by Tab.
        Esc: function (cm) { cm.getInputField().blur(); },
      },
    });
    // A line wider than the box makes the code scroll sideways: that scrolling area must be
    // reachable from the keyboard (axe: scrollable-region-focusable). Coming back to it with
    // Shift-Tab puts the cursor in the editor; after Escape left the editor, Tab stops on it
    // once (the arrow keys scroll it) and the next Tab goes on, so nobody is trapped.
    const scroller = editor.getScrollerElement();
    scroller.tabIndex = 0;
    scroller.addEventListener("focus", function (event) {
      const from = event.relatedTarget;
      if (from && !editor.getWrapperElement().contains(from)) editor.focus();
    });
    editor.getWrapperElement().setAttribute("aria-label", textarea.labels[0] ? textarea.labels[0].textContent.trim() : "Code");
    editor.on("change", markDirty);
    editors.push(editor);
  });

  function markClean() {
    dirty = false;
    if (indicator) indicator.hidden = true;
  }

  // A save that failed validation comes back with the user's text still unsaved.
  if (form.hasAttribute("data-unsaved")) markDirty();
  form.addEventListener("input", markDirty);
  form.addEventListener("change", markDirty);
  form.addEventListener("submit", function () {
    editors.forEach(function (editor) { editor.save(); });
    markClean();  // leaving by saving is not "losing changes"
  });
  // "Save & run" saved the form through htmx (the server sends this event via HX-Trigger).
  document.body.addEventListener("widget-saved", markClean);

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
