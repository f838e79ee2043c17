// Feedback the user must never miss: toasts sent by the server (HX-Trigger: {"toast": ...}),
// htmx errors (shown, never silently dropped), and confirmations for dangerous forms.
(function () {
  "use strict";

  function showToast(message, level) {
    const box = document.getElementById("toasts");
    if (!box || !message) return;
    const toast = document.createElement("div");
    toast.className = "toast toast-" + (level || "info");
    toast.textContent = message;
    box.appendChild(toast);
    setTimeout(function () { toast.remove(); }, level === "error" ? 8000 : 4000);
  }

  document.body.addEventListener("toast", function (event) {
    const detail = event.detail || {};
    showToast(detail.message || detail.value, detail.level);
  });

  // A 4xx/5xx answer to an htmx request: show the server's message, whatever the target.
  document.body.addEventListener("htmx:responseError", function (event) {
    const xhr = event.detail.xhr;
    const text = (new DOMParser().parseFromString(xhr.responseText || "", "text/html").body.textContent || "").trim();
    showToast(text && text.length < 300 ? text : "Request failed (" + xhr.status + "). Please try again.", "error");
  });
  document.body.addEventListener("htmx:sendError", function () {
    showToast("Could not reach the server. Check your connection and try again.", "error");
  });

  // <form data-confirm="…"> asks before submitting (works with or without htmx).
  document.addEventListener("submit", function (event) {
    const message = event.target.dataset && event.target.dataset.confirm;
    if (message && !window.confirm(message)) event.preventDefault();
  }, true);
})();
