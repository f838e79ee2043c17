// Adds the viewer's local time beside UTC times (<time data-local-time datetime="…Z">) in the
// Scheduled Tasks and History panels, including panels htmx swaps in later.
(function () {
  "use strict";
  function localize(root) {
    root.querySelectorAll("time[data-local-time]:not([data-localized])").forEach(function (el) {
      var moment = new Date(el.getAttribute("datetime"));
      if (isNaN(moment.getTime())) return;
      el.setAttribute("data-localized", "");
      var local = document.createElement("small");
      local.className = "muted local-time";
      local.textContent = " (" + moment.toLocaleString([], {
        weekday: "short", hour: "2-digit", minute: "2-digit"
      }) + " your time)";
      el.after(local);
    });
  }
  document.addEventListener("DOMContentLoaded", function () { localize(document); });
  document.addEventListener("htmx:afterSwap", function (event) { localize(event.target); });
})();
