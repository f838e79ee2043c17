// Hide value: take a revealed secret value out of the page without asking the server again,
// and put View value back where it was. Without JavaScript the link reloads the panel instead.
(function () {
  "use strict";
  document.addEventListener("click", function (event) {
    const hide = event.target.closest && event.target.closest("[data-hide-value]");
    if (!hide) return;
    const row = hide.closest(".secret-row");
    const revealed = row && row.querySelector("[data-revealed]");
    const view = row && row.querySelector("[data-reveal-form]");
    if (!revealed || !view) return;
    event.preventDefault();
    revealed.remove();
    view.hidden = false;
    hide.remove();
    const button = view.querySelector("button");
    if (button) button.focus();
  });
})();
