// On pages that embed GUI widgets: hand each sandboxed widget frame the Pyodide files it boots
// from, size each frame to its content, reload a frame on request (the editor's preview), and
// open the log-in page when a frame's client code calls anvil.users.login_with_form() (the
// sign-up page for signup_with_form()). Frames can't touch this page; the only messages
// accepted from them are "the Pyodide files, please", their height, "log in" and "sign up",
// and only from a frame this page embeds (the addresses are the page's own, in the frame's
// data-gui-login and data-gui-signup, never the message's).
(function () {
  "use strict";
  const MIN_HEIGHT = 120;
  const MAX_HEIGHT = 4000;

  // --- Pyodide for the frames. A frame is an opaque origin, which Chromium gives no HTTP cache:
  // on its own it would download Pyodide (~40 MB unpacked) on every load. This page downloads
  // the files once (gui/_frame.html preloads them; versioned URLs, cached for good) and hands
  // a copy of their bytes to each frame that asks. Only public static files cross over; the
  // frame gets nothing of this page, and this page takes nothing from the frame but the ask.
  let handedRuntime = null;

  function runtimeFiles(frame) {
    if (handedRuntime === null) {
      const urls = JSON.parse(frame.dataset.guiRuntime || "{}");
      handedRuntime = Promise.all(Object.entries(urls).map(async function ([role, url]) {
        // The same request as the page's <link rel=preload>, so it is answered from that.
        const response = await fetch(url, { mode: "cors", credentials: "same-origin" });
        if (!response.ok) throw new Error(url + " answered " + response.status);
        return [role, await response.arrayBuffer()];
      })).then(function (entries) {
        performance.mark("pyspace:runtime-fetched");
        return Object.fromEntries(entries);
      }).catch(function (error) {
        console.warn("GUI frames will download Pyodide themselves:", error);
        handedRuntime = null;  // try again for the next frame that asks
        return null;
      });
    }
    return handedRuntime;
  }

  // Frames already being answered: a frame may ask twice (see the offer below).
  const answering = new WeakSet();

  function handRuntime(frame) {
    const target = frame.contentWindow;
    if (answering.has(target)) return;
    answering.add(target);
    target.postMessage({ type: "pyspace:runtime-coming" }, "*");
    runtimeFiles(frame).then(function (files) {
      answering.delete(target);
      // Copies, moved rather than cloned (cloning tens of megabytes into another process takes
      // far longer), so this page keeps its own for the next frame that asks.
      const copies = files && Object.fromEntries(Object.entries(files).map(function ([role, bytes]) {
        return [role, bytes.slice(0)];
      }));
      // "*": an opaque origin can't be named. What is sent is public (static files).
      target.postMessage(
        { type: "pyspace:runtime", files: copies }, "*", copies ? Object.values(copies) : [],
      );
      performance.mark("pyspace:runtime-posted");
    });
  }

  function guiFrames() {
    return document.querySelectorAll("iframe[data-gui-frame]");
  }

  window.addEventListener("message", function (event) {
    const data = event.data;
    if (data && data.type === "pyspace:runtime-request") {
      guiFrames().forEach(function (frame) {
        if (frame.contentWindow === event.source) handRuntime(frame);
      });
      return;
    }
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

  // A frame that asked before this script listened: tell it to ask again. (A frame that
  // hasn't started yet misses this, and asks once it starts.)
  guiFrames().forEach(function (frame) {
    runtimeFiles(frame);
    frame.contentWindow.postMessage({ type: "pyspace:runtime-offer" }, "*");
  });

  document.addEventListener("click", function (event) {
    const button = event.target.closest("[data-gui-reload]");
    if (!button) return;
    const frame = document.getElementById(button.dataset.guiReload);
    if (frame) frame.src = frame.src;
  });
})();
