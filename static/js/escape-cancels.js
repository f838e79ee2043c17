// Escape inside an inline edit row ([data-escape-cancels]) presses its Cancel ([data-cancel]).
// A script rather than an htmx trigger filter: filters are compiled with eval, which the
// site's Content-Security-Policy forbids.
(function () {
  "use strict";
  document.addEventListener("keydown", function (event) {
    if (event.key !== "Escape") return;
    const row = event.target.closest && event.target.closest("[data-escape-cancels]");
    const cancel = row && row.querySelector("[data-cancel]");
    if (!cancel) return;
    event.preventDefault();
    cancel.click();
  });
})();
