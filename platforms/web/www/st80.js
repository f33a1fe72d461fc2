// The page side of the st80 web host: loads an image, runs the VM (st80_web.wasm) in time
// slices, draws the rectangles the image changed, turns mouse and keyboard into the image's
// input, and keeps the session (snapshot and files) in IndexedDB.
//
// URL parameters:
//   ?image=URL&sources=URL&changes=URL  load an image (and its files) from addresses
//   &cycles=N      deterministic mode: the headless host's virtual clock, exactly N bytecodes,
//                  then the Display hash in <body data-hash> and the title (no storage)
//   &replay=URL    input log in the `st80 run --replay` format, delivered at its cycles

import init, { Vm } from './st80_web.js';

// The Rust host asks for the time zone (see platforms/web/src/host.rs).
globalThis.st80TimezoneOffset = () => new Date().getTimezoneOffset();

const SLICE = 20000;        // bytecodes per vm.run call
const FRAME_BUDGET_MS = 12; // VM time per animation frame (the rest is the browser's)
const SOURCES = 'Smalltalk-80.sources';
const CHANGES = 'Smalltalk-80.changes';

const $ = (id) => document.getElementById(id);
const canvas = $('display');
const ctx = canvas.getContext('2d');
const params = new URLSearchParams(location.search);
const maxCycles = Number(params.get('cycles') || 0);
const deterministic = maxCycles > 0;

let vm = null;
let state = 'starting';     // also on <body data-state>: starting, running, idle, done, quit, error
let wakeTimer = null;
let framePending = false;
let pendingEval = null;     // { resolve, reject } of the evaluation started by the page
let started = 0;            // performance.now() and cycles when the run started (bytecodes/s)
let startCycles = 0;

function setState(s) {
  state = s;
  document.body.dataset.state = s;
}

function status(text) {
  $('status').textContent = text;
}

function showError(message) {
  const box = $('error');
  box.textContent = message;
  box.hidden = false;
  setState('error');
  document.body.dataset.error = message;
}

window.addEventListener('error', (e) => showError(`Error: ${e.message}`));
window.addEventListener('unhandledrejection', (e) => showError(`Error: ${e.reason?.message ?? e.reason}`));

// ---- storage: one saved session in IndexedDB --------------------------------------------
// Keys: 'session' -> { source }, 'image' -> bytes, 'file:NAME' -> bytes of a host file.

let dbPromise = null;
function db() {
  dbPromise ??= new Promise((resolve, reject) => {
    const req = indexedDB.open('st80', 1);
    req.onupgradeneeded = () => req.result.createObjectStore('kv');
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error);
  });
  return dbPromise;
}

async function store(mode, fn) {
  const d = await db();
  return new Promise((resolve, reject) => {
    const tx = d.transaction('kv', mode);
    const req = fn(tx.objectStore('kv'));
    tx.oncomplete = () => resolve(req?.result);
    tx.onerror = () => reject(tx.error);
    tx.onabort = () => reject(tx.error ?? new Error('storage transaction aborted'));
  });
}
const idbGet = (key) => store('readonly', (s) => s.get(key));
const idbPut = (key, value) => store('readwrite', (s) => s.put(value, key));
const idbDelete = (key) => store('readwrite', (s) => s.delete(key));
const idbKeys = () => store('readonly', (s) => s.getAllKeys());
async function idbClear() { await store('readwrite', (s) => s.clear()); }

// Files the image changed are written back at most once a second.
const changedFiles = new Set();
let persistTimer = null;
function notePersist() {
  if (deterministic || !vm) return;
  for (const name of vm.take_changed_files().split('\n').filter(Boolean)) changedFiles.add(name);
  if (changedFiles.size && !persistTimer) persistTimer = setTimeout(persistFiles, 1000);
}
async function persistFiles() {
  persistTimer = null;
  const names = [...changedFiles];
  changedFiles.clear();
  for (const name of names) {
    const bytes = vm.file(name);
    if (bytes) await idbPut('file:' + name, bytes);
    else await idbDelete('file:' + name);
  }
}

async function storeSnapshot(bytes) {
  await idbPut('image', bytes);
  await persistFiles();
  $('reset').disabled = false;
  status(`saved ${new Date().toLocaleTimeString()} (kept in this browser)`);
  document.body.dataset.saved = String((Number(document.body.dataset.saved) || 0) + 1);
}

// ---- loading ------------------------------------------------------------------------------

async function fetchBytes(url, what) {
  let resp;
  try {
    resp = await fetch(url);
  } catch (e) {
    throw new Error(`cannot fetch the ${what} ${url}: ${e.message}`);
  }
  if (!resp.ok) throw new Error(`cannot fetch the ${what} ${url}: HTTP ${resp.status} ${resp.statusText}`);
  return new Uint8Array(await resp.arrayBuffer());
}

function makeVm(imageBytes, name) {
  try {
    return new Vm(imageBytes, maxCycles);
  } catch (e) {
    throw new Error(`${name}: ${e.message ?? e}`);
  }
}

// Starts a new session from an image and its optional files, replacing the stored one.
async function startFresh(source, name, imageBytes, files) {
  const v = makeVm(imageBytes, name);
  for (const [fname, bytes] of Object.entries(files)) v.put_file(fname, bytes);
  if (!deterministic) {
    await idbClear();
    await idbPut('session', { source, name });
    await idbPut('image', imageBytes);
    for (const [fname, bytes] of Object.entries(files)) await idbPut('file:' + fname, bytes);
  }
  return v;
}

// Resumes the session kept in IndexedDB.
async function resumeStored(session) {
  const v = makeVm(await idbGet('image'), `the saved session (${session.name})`);
  for (const key of await idbKeys()) {
    if (typeof key === 'string' && key.startsWith('file:')) v.put_file(key.slice(5), await idbGet(key));
  }
  return v;
}

async function boot() {
  document.body.dataset.deterministic = String(deterministic);
  await init();
  const imageUrl = params.get('image');
  const stored = deterministic ? null : await idbGet('session').catch(() => null);
  let v;
  if (imageUrl && !(stored && stored.source === imageUrl)) {
    const name = imageUrl.split('/').pop();
    status(`loading ${name}…`);
    const files = {};
    const image = await fetchBytes(imageUrl, 'image');
    if (params.get('sources')) files[SOURCES] = await fetchBytes(params.get('sources'), 'sources file');
    if (params.get('changes')) files[CHANGES] = await fetchBytes(params.get('changes'), 'changes file');
    v = await startFresh(imageUrl, name, image, files);
  } else if (stored) {
    status(`resuming ${stored.name}…`);
    v = await resumeStored(stored);
    document.body.dataset.resumed = 'true';
  } else {
    $('welcome').hidden = false;
    setState('waiting');
    status('no image');
    return;
  }
  if (params.get('replay')) {
    const log = new TextDecoder().decode(await fetchBytes(params.get('replay'), 'replay log'));
    try { v.add_script(log); } catch (e) { throw new Error(`replay log: ${e.message ?? e}`); }
  }
  run(v);
}

// Files from the picker or a drop: the image, and .sources / .changes by their endings.
async function openFiles(fileList) {
  const list = [...fileList];
  const byEnd = (end) => list.find((f) => f.name.toLowerCase().endsWith(end));
  const sources = byEnd('.sources');
  const changes = byEnd('.changes');
  const others = list.filter((f) => f !== sources && f !== changes);
  if (!others.length) return showError('No image among the files given (only .sources/.changes).');
  const image = others.reduce((a, b) => (b.size > a.size ? b : a));
  const files = {};
  if (sources) files[SOURCES] = new Uint8Array(await sources.arrayBuffer());
  if (changes) files[CHANGES] = new Uint8Array(await changes.arrayBuffer());
  try {
    const v = await startFresh('file:' + image.name, image.name, new Uint8Array(await image.arrayBuffer()), files);
    $('error').hidden = true;
    run(v);
  } catch (e) {
    showError(e.message ?? String(e));
  }
}

// ---- running --------------------------------------------------------------------------------

function run(v) {
  if (vm) vm.free();
  vm = v;
  $('welcome').hidden = true;
  canvas.hidden = false;
  for (const b of ['save', 'download', 'copy']) $(b).disabled = deterministic;
  $('reset').disabled = deterministic;
  layout();
  canvas.focus();
  started = performance.now();
  startCycles = vm.cycles();
  setState('running');
  status('running');
  schedule();
}

function schedule() {
  if (framePending || !vm) return;
  framePending = true;
  // Deterministic runs go as fast as they can; live ones share each frame with the browser.
  if (deterministic) setTimeout(frame, 0);
  else requestAnimationFrame(frame);
}

// Input and page actions wake a sleeping VM at once.
function wake() {
  if (state !== 'idle') return;
  clearTimeout(wakeTimer);
  setState('running');
  schedule();
}

function frame() {
  framePending = false;
  if (!vm || !['running', 'idle'].includes(state)) return;
  const budget = deterministic ? 100 : FRAME_BUDGET_MS;
  const t0 = performance.now();
  let result;
  try {
    do {
      result = vm.run(SLICE);
    } while (result === 'running' && performance.now() - t0 < budget);
  } catch (e) {
    // A trap in the VM (e.g. out of memory) ends the session; the page stays.
    present();
    return showError(`The virtual machine failed: ${e.message ?? e}`);
  }
  present();
  const snapshot = vm.take_snapshot();
  if (snapshot.length && !deterministic) storeSnapshot(snapshot).catch((e) => showError(`Not saved: ${e.message}`));
  notePersist();
  const [verb, ...rest] = result.split(' ');
  const text = rest.join(' ');
  switch (verb) {
    case 'running':
      setState('running');
      return schedule();
    case 'idle':
      setState('idle');
      wakeTimer = setTimeout(wake, Math.max(1, Number(text)));
      return;
    case 'done': return finishDeterministic();
    case 'quit':
      setState('quit');
      return status('the image quit (reload the page to resume the last save)');
    case 'error':
      return showError(`The virtual machine stopped: ${text}`);
    case 'value':
    case 'failed': {
      const p = pendingEval;
      pendingEval = null;
      if (p) (verb === 'value' ? p.resolve(text) : p.reject(new Error(text)));
      setState('running');
      return schedule();
    }
  }
}

function finishDeterministic() {
  const seconds = (performance.now() - started) / 1000;
  const cycles = vm.cycles() - startCycles;
  const hash = vm.display_hash() ?? 'none';
  document.body.dataset.hash = hash;
  document.body.dataset.cycles = String(vm.cycles());
  document.body.dataset.bytecodesPerSecond = String(Math.round(cycles / Math.max(seconds, 1e-6)));
  document.title = `st80 ${hash}`;
  status(`ran ${vm.cycles()} bytecodes in ${seconds.toFixed(2)} s: hash ${hash}`);
  setState('done');
}

// Runs a Smalltalk expression started by `startFn` (the VM's start_save / start_copy /
// evaluate) and resolves with its printString.
function evaluate(startFn) {
  if (pendingEval) return Promise.reject(new Error('busy with another evaluation'));
  return new Promise((resolve, reject) => {
    try { startFn(); } catch (e) { return reject(new Error(e.message ?? String(e))); }
    pendingEval = { resolve, reject };
    wake();
    schedule();
  });
}

// ---- drawing --------------------------------------------------------------------------------

function present() {
  const w = vm.width(), h = vm.height();
  if (w && h && (canvas.width !== w || canvas.height !== h)) {
    canvas.width = w;
    canvas.height = h;
    layout();
  }
  for (;;) {
    const d = vm.take_damage();
    if (!d.length) break;
    const [x, y, dw, dh] = d;
    const pixels = new Uint8ClampedArray(vm.rgba(x, y, dw, dh).buffer);
    ctx.putImageData(new ImageData(pixels, dw, dh), x, y);
  }
  const cursor = vm.take_cursor();
  if (cursor.length === 16) setCursor(cursor);
}

// Largest integer number of device pixels per Display pixel that fits the stage.
function layout() {
  const w = canvas.width, h = canvas.height;
  if (!w || !h) return;
  const dpr = window.devicePixelRatio || 1;
  const stage = $('stage');
  const scale = Math.max(1, Math.floor(Math.min(stage.clientWidth * dpr / w, stage.clientHeight * dpr / h)));
  canvas.style.width = `${w * scale / dpr}px`;
  canvas.style.height = `${h * scale / dpr}px`;
  canvas.dataset.scale = String(scale);
  lastCursor && setCursor(lastCursor);
}
window.addEventListener('resize', layout);
// devicePixelRatio changes (zoom, moving to another screen) do not always fire resize.
(function watchDpr() {
  matchMedia(`(resolution: ${window.devicePixelRatio}dppx)`).addEventListener('change', () => { layout(); watchDpr(); }, { once: true });
})();

// The image's cursor as the mouse pointer: black where the cursor has a 1 bit, transparent
// elsewhere, drawn at the Display's scale (hot spot top left, as on the desktop).
let lastCursor = null;
function setCursor(bits) {
  lastCursor = bits;
  const cssPerPixel = canvas.getBoundingClientRect().width / canvas.width || 1;
  const px = Math.max(1, Math.min(8, Math.round(cssPerPixel * (window.devicePixelRatio || 1))));
  const c = document.createElement('canvas');
  c.width = c.height = 16 * px;
  const g = c.getContext('2d');
  g.fillStyle = '#000';
  for (let y = 0; y < 16; y++) {
    for (let x = 0; x < 16; x++) {
      if (bits[y] & (0x8000 >> x)) g.fillRect(x * px, y * px, px, px);
    }
  }
  const dpr = window.devicePixelRatio || 1;
  const url = c.toDataURL();
  // image-set tells the browser the cursor's device-pixel density; where a browser does not
  // take it for cursors, the assignment is ignored and the plain image is used.
  canvas.style.cursor = `image-set(url(${url}) ${dpr}x) 0 0, default`;
  if (!canvas.style.cursor.includes('url(')) canvas.style.cursor = `url(${url}) 0 0, default`;
}

// ---- input ----------------------------------------------------------------------------------

function displayPoint(e) {
  const r = canvas.getBoundingClientRect();
  return [Math.floor((e.clientX - r.left) * canvas.width / r.width),
          Math.floor((e.clientY - r.top) * canvas.height / r.height)];
}

// Smalltalk buttons: 0 red, 1 yellow, 2 blue. Left = red (Ctrl+click yellow, Alt/Cmd+click
// blue), right = yellow, middle = blue, as on the desktop.
function smalltalkButton(e) {
  if (e.button === 0) return e.ctrlKey ? 1 : (e.altKey || e.metaKey) ? 2 : 0;
  if (e.button === 2) return 1;
  if (e.button === 1) return 2;
  return null;
}
const pressed = new Map(); // physical button -> Smalltalk button, for the release

canvas.addEventListener('mousedown', (e) => {
  e.preventDefault();
  canvas.focus();
  if (!vm || deterministicInputBlocked()) return;
  const b = smalltalkButton(e);
  if (b === null) return;
  vm.mouse_move(...displayPoint(e));
  if (pressed.has(e.button)) vm.button(pressed.get(e.button), false);
  pressed.set(e.button, b);
  vm.button(b, true);
  wake();
});
window.addEventListener('mouseup', (e) => {
  if (!vm || !pressed.has(e.button)) return;
  vm.button(pressed.get(e.button), false);
  pressed.delete(e.button);
  wake();
});
window.addEventListener('mousemove', (e) => {
  if (!vm || canvas.hidden || deterministicInputBlocked()) return;
  if (e.target !== canvas && !pressed.size) return;
  vm.mouse_move(...displayPoint(e));
  wake();
});
canvas.addEventListener('contextmenu', (e) => e.preventDefault());
canvas.addEventListener('auxclick', (e) => e.preventDefault());

// Deterministic runs take no live input (it would arrive at unpredictable cycles).
function deterministicInputBlocked() { return deterministic; }

const TYPING_KEYS = { Backspace: 8, Tab: 9, Enter: 13, Escape: 27, Delete: 127 };

function typingTarget(e) {
  const t = e.target;
  return vm && !canvas.hidden && !deterministicInputBlocked()
    && !(t instanceof HTMLInputElement || t instanceof HTMLTextAreaElement);
}

window.addEventListener('keydown', (e) => {
  if (!typingTarget(e)) return;
  if (e.key === 'Shift') {
    if (!e.repeat) vm.modifier(e.code === 'ShiftRight' ? 1 : 0, true);
  } else if (e.key === 'Control') {
    if (!e.repeat) vm.modifier(2, true);
  } else if ((e.ctrlKey || e.metaKey) && !e.altKey && e.key.toLowerCase() === 'v') {
    return; // the browser's paste event brings the clipboard's text
  } else if (e.key in TYPING_KEYS) {
    vm.type_code(TYPING_KEYS[e.key]);
  } else if (e.metaKey) {
    return; // Cmd+key stays the browser's
  } else if (e.key.length === 1) {
    // Every printable ASCII character arrives as typed (any keyboard layout); others are
    // characters the image does not have.
    const code = e.key.charCodeAt(0);
    if (code >= 32 && code < 127) vm.type_code(code);
  } else {
    return; // function keys, arrows, dead keys...
  }
  e.preventDefault();
  wake();
});
window.addEventListener('keyup', (e) => {
  if (!typingTarget(e)) return;
  if (e.key === 'Shift') vm.modifier(e.code === 'ShiftRight' ? 1 : 0, false);
  else if (e.key === 'Control') vm.modifier(2, false);
  else return;
  wake();
});
// Keys released while the page had no focus would stay down in the image.
window.addEventListener('blur', () => {
  if (!vm || deterministic) return;
  vm.modifier(0, false);
  vm.modifier(1, false);
  vm.modifier(2, false);
  for (const b of pressed.values()) vm.button(b, false);
  pressed.clear();
  wake();
});

document.addEventListener('paste', (e) => {
  if (!typingTarget(e)) return;
  const text = e.clipboardData?.getData('text/plain');
  if (text) {
    vm.paste(text);
    wake();
  }
  e.preventDefault();
});

// ---- buttons, picker, drop --------------------------------------------------------------------

function download(bytes, name) {
  const a = document.createElement('a');
  a.href = URL.createObjectURL(new Blob([bytes]));
  a.download = name;
  a.click();
  setTimeout(() => URL.revokeObjectURL(a.href), 10000);
}

async function save() {
  status('saving…');
  await evaluate(() => vm.start_save());
}

$('save').addEventListener('click', () => save().catch((e) => showError(`Not saved: ${e.message}`)));

$('download').addEventListener('click', async () => {
  try {
    await save();
    const session = await idbGet('session');
    download(await idbGet('image'), session?.name?.replace(/^file:/, '') || 'snapshot.im');
    const changes = vm.file(CHANGES);
    if (changes) download(changes, CHANGES);
  } catch (e) {
    showError(`Not downloaded: ${e.message}`);
  }
});

// The image's copy buffer (filled by its text menu's "copy") to the host clipboard.
$('copy').addEventListener('click', async () => {
  try {
    const printed = await evaluate(() => vm.start_copy());
    // A String's printString: quoted, inner quotes doubled, CR line ends.
    const text = printed.replace(/^'|'$/g, '').replace(/''/g, "'").replace(/\r/g, '\n');
    await navigator.clipboard.writeText(text);
    status(`copied ${text.length} characters`);
  } catch (e) {
    showError(`Not copied: ${e.message}`);
  }
});

$('reset').addEventListener('click', async () => {
  if (!confirm('Forget the session kept in this browser? Unsaved work is lost.')) return;
  await idbClear();
  location.reload();
});

$('open').addEventListener('change', (e) => openFiles(e.target.files));
const stage = $('stage');
stage.addEventListener('dragover', (e) => { e.preventDefault(); stage.classList.add('dragging'); });
stage.addEventListener('dragleave', () => stage.classList.remove('dragging'));
stage.addEventListener('drop', (e) => {
  e.preventDefault();
  stage.classList.remove('dragging');
  if (e.dataTransfer?.files?.length) openFiles(e.dataTransfer.files);
});

// For tests and the curious: the running VM and a way to evaluate Smalltalk.
window.st80 = {
  get vm() { return vm; },
  get state() { return state; },
  evaluate: (source) => evaluate(() => vm.evaluate(source)),
  save,
};

boot().catch((e) => showError(e.message ?? String(e)));
