// On pages that embed GUI widgets: hand each sandboxed widget frame the files of the Python it
// boots (Pyodide's, or MicroPython's) and the client `anvil` runtime, size each frame to its
// content, reload a frame on request (the editor's preview), and open the log-in page when a frame's client code calls
// anvil.users.login_with_form() (the sign-up page for signup_with_form()). Frames can't touch
// this page; the only messages accepted from them are "the files, please", their height, "log
// in" and "sign up", and only from a frame this page embeds (the addresses are the page's own,
// in the frame's data-gui-login and data-gui-signup, never the message's).
(function () {
  "use strict";
  const MIN_HEIGHT = 120;
  const MAX_HEIGHT = 4000;

  // --- Python for the frames. A frame is an opaque origin, which Chromium gives no HTTP cache:
  // on its own it would download Pyodide (~40 MB unpacked) on every load. (A widget on
  // MicroPython needs 0.5 MB; the page's <meta> names the files either way.) This page downloads
  // the files (versioned URLs, so the HTTP cache keeps them for good) and hands
  // a copy of their bytes to each frame that asks. Only public static files cross over; the
  // frame gets nothing of this page, and this page takes nothing from the frame but the ask.
  // This script runs from the page's head (gui/_host_head.html), so the downloads start while
  // the page still parses: the frame asks for the files as soon as its own script runs, and the
  // snapshot alone takes a few hundred milliseconds even from the HTTP cache (it is unpacked).
  // The first frame's files come from those downloads; a frame that asks later (a reload) gets
  // them from the HTTP cache. Either way each answer is its own bytes, moved to the frame
  // rather than cloned: copying tens of megabytes into another process takes far longer.
  let preloaded = null;
  // A dropped connection or a server error (a busy server, a flaky network) is tried again.
  const DOWNLOAD_ATTEMPTS = 3;

  async function download(url) {
    for (let attempt = 1; ; attempt += 1) {
      let final = attempt >= DOWNLOAD_ATTEMPTS;
      try {
        // Without cookies: they aren't needed, and the site's answers vary on them (a session
        // cookie set since would make the browser revalidate its cached copy).
        const response = await fetch(url, { credentials: "omit" });
        if (response.ok) return await response.arrayBuffer();
        final = final || response.status < 500;  // a 404 won't change on a second try
        throw new Error(url + " answered " + response.status);
      } catch (error) {
        if (final) throw error;
      }
      await new Promise(function (resolve) { setTimeout(resolve, 200 * attempt); });
    }
  }

  // role -> URL, the same for every frame on the page.
  function runtimeUrls() {
    const meta = document.querySelector('meta[name="pyspace-gui-runtime"]');
    return JSON.parse(meta ? meta.content : "{}");
  }

  function downloadRuntime() {
    const urls = runtimeUrls();
    return Promise.all(Object.entries(urls).map(async function ([role, url]) {
      return [role, await download(url)];
    })).then(Object.fromEntries).catch(function (error) {
      console.warn("GUI frames will download Pyodide themselves:", error);
      return null;
    });
  }

  function runtimeFiles() {
    const files = preloaded || downloadRuntime();
    preloaded = null;
    return files;
  }

  // Frames already being answered: a frame may ask twice (see the offer below).
  const answering = new WeakSet();

  function handRuntime(frame) {
    const target = frame.contentWindow;
    if (answering.has(target)) return;
    answering.add(target);
    target.postMessage({ type: "pyspace:runtime-coming" }, "*");
    runtimeFiles().then(function (files) {
      answering.delete(target);
      // "*": an opaque origin can't be named. What is sent is public (static files).
      target.postMessage(
        { type: "pyspace:runtime", files: files }, "*", files ? Object.values(files) : [],
      );
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

  preloaded = downloadRuntime();

  // A frame that asked before this script listened (it loads async): tell it to ask again. (A
  // frame that hasn't started yet misses this, and asks once it starts.)
  function offerRuntime() {
    guiFrames().forEach(function (frame) {
      frame.contentWindow.postMessage({ type: "pyspace:runtime-offer" }, "*");
    });
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", offerRuntime);
  } else {
    offerRuntime();
  }

  document.addEventListener("click", function (event) {
    const button = event.target.closest("[data-gui-reload]");
    if (!button) return;
    const frame = document.getElementById(button.dataset.guiReload);
    if (frame) frame.src = frame.src;
  });
})();
