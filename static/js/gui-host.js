// On pages that embed GUI widgets: size each sandboxed widget frame to its content, and reload
// a frame on request (the editor's preview), and open the log-in page when a frame's client
// code calls anvil.users.login_with_form() (the sign-up page for signup_with_form()). Frames
// can't touch this page; the only messages accepted from them are their height, "log in" and
// "sign up", and only from a frame this page embeds (the addresses are the page's own, in the
// frame's data-gui-login and data-gui-signup, never the message's).
(function () {
  "use strict";
  const MIN_HEIGHT = 120;
  const MAX_HEIGHT = 4000;

  window.addEventListener("message", function (event) {
    const data = event.data;
    if (data && data.type === "pyspace:login") {
      document.querySelectorAll("iframe[data-gui-login]").forEach(function (frame) {
        if (frame.contentWindow === event.source) window.location.assign(frame.dataset.guiLogin);
      });
      return;
    }
    if (data && data.type === "pyspace:signup") {
      document.querySelectorAll("iframe[data-gui-signup]").forEach(function (frame) {
        if (frame.contentWindow === event.source) window.location.assign(frame.dataset.guiSignup);
      });
      return;
    }
    if (!data || data.type !== "pyspace:frame-height" || typeof data.height !== "number") return;
    document.querySelectorAll("iframe[data-gui-frame]").forEach(function (frame) {
      if (frame.contentWindow !== event.source) return;
      const borders = frame.offsetHeight - frame.clientHeight;  // the height set is border-box
      const content = Math.min(MAX_HEIGHT, Math.max(MIN_HEIGHT, Math.ceil(data.height)));
      frame.style.height = content + borders + "px";
    });
  });

  document.addEventListener("click", function (event) {
    const button = event.target.closest("[data-gui-reload]");
    if (!button) return;
    const frame = document.getElementById(button.dataset.guiReload);
    if (frame) frame.src = frame.src;
  });
})();
