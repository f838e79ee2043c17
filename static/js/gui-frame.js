// Boots a GUI widget inside its sandboxed frame (an opaque origin with a strict CSP, see
// pyspace/gui/frame_policy.py): puts the widget's HTML in place, starts Python (Pyodide, or
// MicroPython when the widget's owner chose it), installs the client `anvil` runtime, runs the
// client code, and carries anvil.server.call to this widget's call route with the frame's call
// token — the only credential this frame has.

const CLIENT_FILENAME = "client_code.py";
performance.mark("pyspace:frame-script");
const boot = JSON.parse(document.getElementById("pyspace-boot").textContent);
const onMicroPython = boot.clientPython === "micropython";
const widgetRoot = document.getElementById("pyspace-widget");
const consoleOutput = document.getElementById("pyspace-console-output");
const statusLine = document.getElementById("pyspace-status");
const busy = document.getElementById("pyspace-busy");

function writeConsole(text, kind) {
  const line = document.createElement("span");
  line.className = "pyspace-line pyspace-line-" + kind;
  line.textContent = text + "\n";
  consoleOutput.appendChild(line);
  consoleOutput.scrollTop = consoleOutput.scrollHeight;
}

function showStatus(text, kind) {
  statusLine.textContent = text;
  statusLine.className = "pyspace-status pyspace-status-" + kind;
}

// A Python traceback raised through Pyodide starts deep in Pyodide's own machinery; the
// widget's author needs the part from their own code on.
function describeError(error) {
  const text = error && error.type && error.message ? error.message : String(error && error.stack || error);
  const lines = text.split("\n");
  const first = lines.findIndex((line) => line.includes('File "' + CLIENT_FILENAME + '"'));
  if (first < 0) return text.trim();
  return ["Traceback (most recent call last):"].concat(lines.slice(first)).join("\n").trim();
}

function reportError(error) {
  writeConsole(describeError(error), "error");
}

window.addEventListener("error", (event) => reportError(event.error || event.message));
window.addEventListener("unhandledrejection", (event) => reportError(event.reason));

// The page embedding this frame sizes it to fit; the message carries nothing but a height.
function reportHeight() {
  const height = Math.ceil(document.body.getBoundingClientRect().height);
  window.parent.postMessage({ type: "pyspace:frame-height", height: height }, "*");
}
new ResizeObserver(reportHeight).observe(document.body);

// anvil.users.login_with_form(): ask the embedding page to open the site's log-in page (it
// comes back to the widget afterwards). The message carries nothing but its type.
function requestLogin() {
  window.parent.postMessage({ type: "pyspace:login" }, "*");
}

// anvil.users.signup_with_form(): the same, for the site's sign-up page.
function requestSignup() {
  window.parent.postMessage({ type: "pyspace:signup" }, "*");
}

// --- The call channel: this widget's call route, authorized by the token alone (no cookies).

let callsInFlight = 0;

function callStarted() {
  callsInFlight += 1;
  busy.hidden = false;
}

function callEnded() {
  callsInFlight -= 1;
  if (callsInFlight === 0) busy.hidden = true;
}

function failure(type, message) {
  return JSON.stringify({ ok: false, error: { type: type, message: message } });
}

// The call route always answers JSON; anything else (a rate limit page, a proxy's error)
// becomes an error the client code can catch.
function answerText(status, contentType, text) {
  if ((contentType || "").startsWith("application/json")) return text;
  if (status === 429) return failure("RateLimited", "Too many calls: wait a moment and try again.");
  return failure("HTTPError", "The server answered " + status + ".");
}

// fnName is a server function's name, or "-/rows" / "-/task": the routes that answer questions
// about rows, searches and tasks a server function returned (pyspace/gui/values.py).
function callRequest(fnName) {
  const path = fnName.startsWith("-/") ? fnName : encodeURIComponent(fnName);
  return {
    url: boot.callUrl + path,
    headers: { "Content-Type": "application/json", [boot.callTokenHeader]: boot.callToken },
  };
}

// Python waits on this promise with run_sync (JavaScript Promise Integration), so the page
// stays alive and the spinner shows while the server works.
async function callServer(fnName, body) {
  const request = callRequest(fnName);
  callStarted();
  try {
    const response = await fetch(request.url, {
      method: "POST", credentials: "omit", cache: "no-store", headers: request.headers, body: body,
    });
    return answerText(response.status, response.headers.get("Content-Type"), await response.text());
  } catch (error) {
    return failure("ConnectionError", "Could not reach the server: " + error.message);
  } finally {
    callEnded();
  }
}

// The fallback when Python can't wait on a promise (MicroPython, a browser without JSPI, or a
// handler that JavaScript called directly, like element.onclick): a synchronous request. Same
// answer, but the frame is frozen until it arrives.
function callServerBlocking(fnName, body) {
  const request = callRequest(fnName);
  callStarted();
  try {
    const xhr = new XMLHttpRequest();
    xhr.open("POST", request.url, false);
    Object.entries(request.headers).forEach(([name, value]) => xhr.setRequestHeader(name, value));
    xhr.send(body);
    return answerText(xhr.status, xhr.getResponseHeader("Content-Type"), xhr.responseText);
  } catch (error) {
    return failure("ConnectionError", "Could not reach the server: " + error.message);
  } finally {
    callEnded();
  }
}

// Media client code shows or downloads: a blob: URL of its bytes (img-src and media-src allow
// blob:), and a download through a temporary link.
function mediaUrl(bytes, contentType) {
  return URL.createObjectURL(new Blob([bytes], { type: contentType }));
}

function downloadMedia(bytes, contentType, name) {
  const link = document.createElement("a");
  link.href = mediaUrl(bytes, contentType);
  link.download = name || "download";
  document.body.appendChild(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(link.href), 60000);
}

// --- Python event handlers: run them through callPromising, so anvil.server.call inside a
// handler can wait for the server without freezing the frame. Listeners written in JavaScript
// pass through untouched.

function captureOf(options) {
  return Boolean(typeof options === "object" && options !== null ? options.capture : options);
}

function runPythonHandlersPromising(pyodide) {
  const PyProxy = pyodide.ffi.PyProxy;
  const isSameObject = pyodide.runPython("lambda a, b: a is b");
  const listeners = [];
  const add = EventTarget.prototype.addEventListener;
  const remove = EventTarget.prototype.removeEventListener;

  EventTarget.prototype.addEventListener = function (type, listener, options) {
    if (!(listener instanceof PyProxy) || typeof listener.callPromising !== "function") {
      return add.call(this, type, listener, options);
    }
    // The argument is a borrowed proxy that Pyodide destroys when this call returns: keep a copy.
    const handler = listener.copy();
    const wrapper = (event) => handler.callPromising(event).catch(reportError);
    listeners.push({ target: this, type: type, capture: captureOf(options), handler: handler, wrapper: wrapper });
    return add.call(this, type, wrapper, options);
  };

  EventTarget.prototype.removeEventListener = function (type, listener, options) {
    if (!(listener instanceof PyProxy)) return remove.call(this, type, listener, options);
    const capture = captureOf(options);
    const index = listeners.findIndex((entry) => entry.target === this && entry.type === type &&
      entry.capture === capture && isSameObject(entry.handler, listener));
    if (index < 0) return undefined;
    const [entry] = listeners.splice(index, 1);
    remove.call(this, type, entry.wrapper, options);
    entry.handler.destroy();
    return undefined;
  };
}

// --- Boot.

// A download of one of the site's static files, its body read as `read` ("text" or
// "arrayBuffer"), tried again after a dropped connection or a server error (a busy server or a
// flaky network), so that one lost request doesn't cost the boot.
const DOWNLOAD_ATTEMPTS = 3;

async function download(url, read) {
  for (let attempt = 1; ; attempt += 1) {
    let final = attempt >= DOWNLOAD_ATTEMPTS;
    try {
      const response = await fetch(url, { credentials: "omit" });
      if (response.ok) return await response[read]();
      final = final || response.status < 500;  // a 404 won't change on a second try
      throw new Error(url + " answered " + response.status);
    } catch (error) {
      if (final) throw error;
    }
    await new Promise((resolve) => setTimeout(resolve, 200 * attempt));
  }
}

// The client runtime's files, [name, source] each, fetched one by one: a frame opened on its
// own, or whose page couldn't hand them over.
function fetchClientRuntime() {
  return Promise.all(boot.runtimeFiles.map(async (file) => {
    try {
      return [file, await download(boot.runtimeUrl + file, "text")];
    } catch (error) {
      throw new Error("Could not load the client runtime (" + file + "): " + error.message);
    }
  }));
}

async function installClientRuntime(pyodide, runtimeSources) {
  const sitePackages = pyodide.runPython("import site; site.getsitepackages()[0]");
  for (const [file, source] of await runtimeSources) {
    const path = sitePackages + "/" + file;
    pyodide.FS.mkdirTree(path.slice(0, path.lastIndexOf("/")));
    pyodide.FS.writeFile(path, source);
  }
  // Only site-packages' finder needs to notice the new files: importlib.invalidate_caches()
  // would also make the standard library's zip importer re-read its whole index (~0.5 s).
  pyodide.runPython(
    "import sys\n" +
    "finder = sys.path_importer_cache.get(" + JSON.stringify(sitePackages) + ")\n" +
    "if finder is not None: finder.invalidate_caches()\n" +
    "del finder",
  );
}

// --- Pyodide's files, handed over by the page embedding this frame (static/js/gui-host.js).
// This opaque origin gets no HTTP cache; that page has one. Bytes are all that cross over.

// role -> [file name in Pyodide's folder, the Content-Type Pyodide expects of it]
const HANDED_FILES = {
  wasm: ["pyodide.asm.wasm", "application/wasm"],
  stdlib: ["python_stdlib.zip", "application/zip"],
  lock: ["pyodide-lock.json", "application/json"],
};
// How long to wait for the embedding page to answer at all before downloading them here.
const HAND_OVER_WAIT_MS = 3000;

// MicroPython's WebAssembly, under the role the page hands it as (pyspace/gui/frame_boot.py).
const MICROPYTHON_WASM = ["micropython", "micropython.wasm"];

function handedFiles(files) {
  if (!files || typeof files !== "object") return null;
  const roles = onMicroPython ? [MICROPYTHON_WASM[0]]
    : Object.keys(HANDED_FILES).concat(boot.snapshotUrl ? ["snapshot"] : []);
  return roles.every((role) => files[role] instanceof ArrayBuffer) ? files : null;
}

// The client runtime's files as the embedding page handed them: one JSON document,
// [[name, source], ...] (pyspace/gui/frame_boot.py). A promise of them, or null: not handed.
function handedClientRuntime(handed) {
  if (!handed || !(handed.runtime instanceof ArrayBuffer)) return null;
  try {
    const files = JSON.parse(new TextDecoder().decode(handed.runtime));
    const wellFormed = Array.isArray(files) && files.every((file) => Array.isArray(file) &&
      file.length === 2 && typeof file[0] === "string" && typeof file[1] === "string");
    return wellFormed ? Promise.resolve(files) : null;
  } catch (error) {
    return null;
  }
}

// Resolves to {role: ArrayBuffer}, or null: then this frame downloads the files itself (opened
// on its own, or the page couldn't get them).
function runtimeFromEmbeddingPage() {
  if (window.parent === window) return Promise.resolve(null);
  return new Promise((resolve) => {
    let answered = false;
    const ask = () => window.parent.postMessage({ type: "pyspace:runtime-request" }, "*");
    const finish = (files) => {
      clearTimeout(timer);
      window.removeEventListener("message", listen);
      resolve(files);
    };
    const timer = setTimeout(() => finish(null), HAND_OVER_WAIT_MS);
    function listen(event) {
      const data = event.data;
      if (event.source !== window.parent || !data) return;
      if (data.type === "pyspace:runtime-coming") {
        answered = true;
        clearTimeout(timer);
      } else if (data.type === "pyspace:runtime-offer" && !answered) {
        ask();  // the page wasn't listening yet when this frame first asked
      } else if (data.type === "pyspace:runtime") {
        finish(handedFiles(data.files));
      }
    }
    window.addEventListener("message", listen);
    ask();
  });
}

// Pyodide and MicroPython fetch their files themselves (`fetch(indexURL + name)`); while they
// start, those requests are answered from the handed bytes. `answers` maps a URL to [bytes,
// Content-Type]. Returns the function that puts fetch back.
function answerFetchesFrom(answers) {
  const networkFetch = globalThis.fetch;
  globalThis.fetch = function (resource, options) {
    const answer = answers.get(resource instanceof Request ? resource.url : String(resource));
    if (!answer) return networkFetch.call(this, resource, options);
    return Promise.resolve(new Response(answer[0], { headers: { "Content-Type": answer[1] } }));
  };
  return () => { globalThis.fetch = networkFetch; };
}

async function fetchSnapshot(handed) {
  if (handed) return handed.snapshot;
  return await download(new URL(boot.snapshotUrl, location.href).href, "arrayBuffer");
}

// Restores the deployment's memory snapshot of a started Pyodide when there is one (a fraction
// of the time it takes Python to start); starts Python from scratch when there is none, or when
// the snapshot can't be used. It was made in Chromium with JSPI and records that: a browser
// without JSPI (anvil.server.call then uses a blocking request) must start from scratch.
async function startPyodide(handed) {
  const indexURL = new URL(boot.pyodideUrl, location.href).href;
  const restoreFetch = handed ? answerFetchesFrom(new Map(Object.entries(HANDED_FILES).map(
    ([role, [name, contentType]]) => [indexURL + name, [handed[role], contentType]]))) : () => {};
  try {
    return await loadPyodideSnapshotOrScratch(indexURL, handed);
  } finally {
    restoreFetch();
  }
}

async function loadPyodideSnapshotOrScratch(indexURL, handed) {
  // By its plain URL, as frame.html preloads it.
  const { loadPyodide } = await import(indexURL + "pyodide.mjs");
  if (boot.snapshotUrl && "Suspending" in WebAssembly) {
    try {
      const bytes = await fetchSnapshot(handed);
      performance.mark("pyspace:snapshot-bytes");
      const pyodide = await loadPyodide({ indexURL: indexURL, _loadSnapshot: bytes });
      // Pyodide imports `random` while it starts, so the snapshot holds a seeded generator that
      // every frame would share: seed it again from the browser's crypto.getRandomValues.
      pyodide.runPython("import random\nrandom.seed()\ndel random");
      document.documentElement.dataset.pyspaceStart = "snapshot";
      return pyodide;
    } catch (error) {
      console.warn("Starting Python without its snapshot:", error);
    }
  }
  document.documentElement.dataset.pyspaceStart = "scratch";
  return await loadPyodide({ indexURL: indexURL });
}

// --- MicroPython: starts in tens of milliseconds from a 0.4 MB WebAssembly file, against
// Pyodide's restore of 31 MB of memory. Client code gets the same `anvil` runtime; what differs
// is MicroPython's own language and library, and anvil.server.call always takes the blocking
// request (MicroPython can't suspend a plain function to wait for a promise).

// MicroPython's heap for the client code's objects (its default is 1 MB).
const MICROPYTHON_HEAP_BYTES = 16 * 1024 * 1024;
// Where the runtime goes: /lib is on MicroPython's sys.path; the stand-ins for the few modules
// of CPython and Pyodide it lacks (static/gui-runtime/_micropython/) go after everything else.
const MICROPYTHON_LIB = "/lib";

const micropythonBase = new URL(boot.micropythonUrl, location.href).href;
// Imported (by its plain URL, as frame.html preloads it) while the page hands the files over.
const micropythonLoader = onMicroPython ? import(micropythonBase + "micropython.mjs") : null;
// A failed import is reported when MicroPython starts, not as an unhandled rejection.
micropythonLoader?.catch(() => {});

async function startMicroPython(handed) {
  const wasmUrl = micropythonBase + MICROPYTHON_WASM[1];
  const restoreFetch = handed
    ? answerFetchesFrom(new Map([[wasmUrl, [handed[MICROPYTHON_WASM[0]], "application/wasm"]]]))
    : () => {};
  try {
    const { loadMicroPython } = await micropythonLoader;
    const micropython = await loadMicroPython({
      url: wasmUrl,
      heapsize: MICROPYTHON_HEAP_BYTES,
      stdout: (text) => writeConsole(text, "out"),
      stderr: (text) => writeConsole(text, "error"),
    });
    document.documentElement.dataset.pyspaceStart = "micropython";
    return micropython;
  } finally {
    restoreFetch();
  }
}

// The page hands MicroPython frames the runtime compiled to bytecode: `.mpy` files, base64.
function micropythonFile(file, text) {
  if (!file.endsWith(".mpy")) return text;
  return Uint8Array.from(atob(text), (character) => character.charCodeAt(0));
}

async function installMicroPythonRuntime(micropython, runtimeSources) {
  for (const [file, text] of await runtimeSources) {
    const path = MICROPYTHON_LIB + "/" + file;
    micropython.FS.mkdirTree(path.slice(0, path.lastIndexOf("/")));
    micropython.FS.writeFile(path, micropythonFile(file, text));
  }
  micropython.runPython("import sys\nsys.path.append(" +
    JSON.stringify(MICROPYTHON_LIB + "/_micropython") + ")\ndel sys");
}

async function bootOnMicroPython(started, handed, runtimeSources) {
  const micropython = await startMicroPython(handed);
  performance.mark("pyspace:python-started");
  micropython.registerJsModule("_pyspace_frame", frameChannel());
  await installMicroPythonRuntime(micropython, runtimeSources);
  performance.mark("pyspace:runtime-installed");
  showStatus("MicroPython ready in " + ((performance.now() - started) / 1000).toFixed(2) + " s", "ready");
  // Compiled under the same file name as on Pyodide, so tracebacks point at the client code.
  micropython.globals.set("_pyspace_client_code", boot.clientCode);
  return async () => micropython.runPython(
    "exec(compile(_pyspace_client_code, " + JSON.stringify(CLIENT_FILENAME) + ", 'exec'), " +
    "{'__name__': '__main__'})");
}

// What client code's `anvil` runtime reaches of this frame, as the module `_pyspace_frame`.
function frameChannel() {
  return {
    call: callServer, callBlocking: callServerBlocking, viewerUsername: boot.viewerUsername,
    mediaUrl: mediaUrl, downloadMedia: downloadMedia,
    viewerEmail: boot.viewerEmail, requestLogin: requestLogin, requestSignup: requestSignup,
  };
}

async function bootOnPyodide(started, handed, runtimeSources) {
  const pyodide = await startPyodide(handed);
  performance.mark("pyspace:python-started");
  pyodide.setStdout({ batched: (text) => writeConsole(text, "out") });
  pyodide.setStderr({ batched: (text) => writeConsole(text, "error") });
  pyodide.registerJsModule("_pyspace_frame", frameChannel());
  await installClientRuntime(pyodide, runtimeSources);
  performance.mark("pyspace:runtime-installed");
  runPythonHandlersPromising(pyodide);
  showStatus("Python ready in " + ((performance.now() - started) / 1000).toFixed(1) + " s", "ready");
  return () => pyodide.runPythonAsync(boot.clientCode, { filename: CLIENT_FILENAME });
}

async function bootWidget() {
  // The author's markup, inside this opaque-origin sandbox; the CSP blocks any inline script
  // or on* attribute in it, so behaviour comes from the client code.
  widgetRoot.innerHTML = boot.html;
  const started = performance.now();
  const handed = await runtimeFromEmbeddingPage();
  performance.mark("pyspace:runtime-handed");
  const runtimeSources = handedClientRuntime(handed) || fetchClientRuntime();
  // A failed download is reported when Python installs the runtime, not as an unhandled rejection.
  runtimeSources.catch(() => {});
  // Where Python's files came from: "handed" by the embedding page, or "fetched" here.
  document.documentElement.dataset.pyspaceFiles = handed ? "handed" : "fetched";
  // Each returns the function that runs the client code, once Python and the runtime are ready.
  const runClientCode =
    await (onMicroPython ? bootOnMicroPython : bootOnPyodide)(started, handed, runtimeSources);
  try {
    await runClientCode();
  } catch (error) {
    reportError(error);
  } finally {
    performance.mark("pyspace:client-code-run");
    // Tests and the load-time measurement wait for this: the client code's top level has run.
    document.documentElement.dataset.pyspace = "ready";
  }
}

bootWidget().catch((error) => {
  showStatus("Python could not start", "error");
  document.documentElement.dataset.pyspace = "failed";
  reportError(error);
});
