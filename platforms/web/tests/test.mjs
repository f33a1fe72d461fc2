// End-to-end tests of the st80 web page in Debian's Chromium (see test.sh, which builds the
// site, serves it with the images on 127.0.0.1 and runs this).
//
// Environment: ST80_WEB_URL (the server's base URL: the site at /, the images at /images/),
// ST80 (the native st80 binary), ST80_IMAGES, ST80_WEB_OUT (where screenshots go).

import { chromium } from 'playwright-core';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const base = process.env.ST80_WEB_URL;
const st80 = process.env.ST80;
const images = process.env.ST80_IMAGES;
const out = process.env.ST80_WEB_OUT;
const here = dirname(fileURLToPath(import.meta.url));

let passed = 0, failed = 0;
async function test(name, fn) {
  const t0 = Date.now();
  try {
    await fn();
    passed++;
    console.log(`ok   ${name} (${((Date.now() - t0) / 1000).toFixed(1)} s)`);
  } catch (e) {
    failed++;
    console.log(`FAIL ${name}: ${e.stack ?? e}`);
  }
}
function assertEq(actual, expected, what) {
  if (actual !== expected) {
    throw new Error(`${what}: expected ${JSON.stringify(expected)}, got ${JSON.stringify(actual)}`);
  }
}

// The native headless run's Display hash (printed on stderr as "... hash H)").
function nativeHash(image, cycles, replay) {
  const png = join(tmpdir(), `st80-web-native-${process.pid}.png`);
  const args = ['run', image, '--headless', '--cycles', String(cycles), '--screenshot', png];
  if (replay) args.push('--replay', replay);
  const run = spawnSync(st80, args, { stdio: ['ignore', 'ignore', 'pipe'], encoding: 'utf8' });
  rmSync(png, { force: true });
  const stderr = run.stderr ?? String(run.error);
  const m = stderr.match(/hash ([0-9a-f]{16})\)/);
  if (!m) throw new Error(`no hash in the native run's output: ${stderr}`);
  return m[1];
}

// The hash of what the canvas shows, by the Display hash's rule (black pixel = 1 bit): proves
// that drawing only the changed rectangles left the canvas equal to the Display.
async function canvasHash(page) {
  return page.evaluate(() => {
    const c = document.getElementById('display');
    const { width: w, height: h } = c;
    const px = c.getContext('2d').getImageData(0, 0, w, h).data;
    let hash = 0xcbf29ce484222325n;
    const prime = 0x100000001b3n, mask = (1n << 64n) - 1n;
    const put = (b) => { hash = ((hash ^ BigInt(b)) * prime) & mask; };
    for (const v of [w, h]) for (let i = 0; i < 4; i++) put((v >>> (8 * i)) & 255);
    for (let y = 0; y < h; y++) {
      for (let x0 = 0; x0 < w; x0 += 16) {
        let word = 0;
        for (let x = x0; x < x0 + 16; x++) {
          word <<= 1;
          if (x < w && px[(y * w + x) * 4] < 128) word |= 1;
        }
        put(word >> 8); put(word & 255);
      }
    }
    return hash.toString(16).padStart(16, '0');
  });
}

async function waitState(page, states, timeout = 120000) {
  await page.waitForFunction((s) => s.includes(document.body.dataset.state), states, { timeout, polling: 100 });
  const error = await page.evaluate(() => document.body.dataset.error);
  if (error) throw new Error(`the page shows an error: ${error}`);
}

// Runs the page in deterministic mode and answers its hash and speed.
async function deterministicRun(page, query) {
  await page.goto(`${base}/?${query}`);
  await waitState(page, ['done', 'error']);
  return page.evaluate(() => ({ ...document.body.dataset, title: document.title }));
}

const userDataDir = mkdtempSync(join(tmpdir(), 'st80-web-chromium-'));
const browser = await chromium.launchPersistentContext(userDataDir, {
  executablePath: '/usr/bin/chromium',
  headless: true,
  viewport: { width: 1300, height: 1040 },
  args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
         '--disable-component-update', '--disable-sync'],
});
await browser.grantPermissions(['clipboard-read', 'clipboard-write']);
const page = browser.pages()[0] ?? await browser.newPage();
page.on('pageerror', (e) => console.log(`page error: ${e.message}`));

await test('no image yet: the page says how to give one; the file picker starts it', async () => {
  await page.goto(`${base}/`);
  await waitState(page, ['waiting'], 20000);
  if (!(await page.locator('#welcome').isVisible())) throw new Error('no welcome text');
  await page.locator('#open').setInputFiles([join(images, 'dbanay/VirtualImageLSB')]);
  await waitState(page, ['idle'], 60000);
  assertEq(await page.evaluate(() => window.st80.evaluate('3 + 4')), '7', 'the picked image runs');
  const cursor = await page.evaluate(() => document.getElementById('display').style.cursor);
  if (!/url\("?data:image\/png/.test(cursor)) throw new Error(`the image's cursor is not the pointer: ${cursor}`);
});

const CYCLES = 3000000;
const wasmBytes = Number((await (await fetch(`${base}/st80_web_bg.wasm`)).arrayBuffer()).byteLength);

for (const [label, path] of [['big-endian (xerox-v2/VirtualImage)', 'xerox-v2/VirtualImage'],
                             ['little-endian (dbanay/VirtualImageLSB)', 'dbanay/VirtualImageLSB']]) {
  await test(`deterministic ${CYCLES} cycles, ${label}: same Display hash as st80 run --headless`, async () => {
    const expected = nativeHash(join(images, path), CYCLES);
    const r = await deterministicRun(page, `image=images/${path}&cycles=${CYCLES}`);
    assertEq(r.hash, expected, 'display hash');
    assertEq(r.title, `st80 ${expected}`, 'title');
    assertEq(r.cycles, String(CYCLES), 'cycles run');
    assertEq(await canvasHash(page), expected, 'the canvas (drawn from damaged rectangles)');
    console.log(`     hash ${r.hash}; ${(Number(r.bytecodesPerSecond) / 1e6).toFixed(1)} M bytecodes/s in Chromium`);
  });
}

await test('speed (report only): 30,000,000 bytecodes of the Xerox image in Chromium and natively', async () => {
  const cycles = 30000000;
  const r = await deterministicRun(page, `image=images/xerox-v2/VirtualImage&cycles=${cycles}`);
  const t0 = Date.now();
  nativeHash(join(images, 'xerox-v2/VirtualImage'), cycles);
  const native = cycles / ((Date.now() - t0) / 1000);
  console.log(`     Chromium ${(Number(r.bytecodesPerSecond) / 1e6).toFixed(1)} M bytecodes/s; ` +
              `native st80 run --headless ${(native / 1e6).toFixed(1)} M bytecodes/s (process start included)`);
});

await test('replayed session (screen menu, workspace, every printable ASCII character, print it) = native replay', async () => {
  const replay = join(here, 'ascii-session.txt');
  const cycles = 3500000;
  const expected = nativeHash(join(images, 'xerox-v2/VirtualImage'), cycles, replay);
  const r = await deterministicRun(page, `image=images/xerox-v2/VirtualImage&cycles=${cycles}&replay=ascii-session.txt`);
  assertEq(r.hash, expected, 'display hash');
  assertEq(await canvasHash(page), expected, 'the canvas');
  await page.locator('#display').screenshot({ path: join(out, 'web-replay.png') });
});

// Live mode: a real clock, real mouse and keyboard events, the session kept in IndexedDB.
await test('live: mouse opens a workspace, keyboard types, save, reload resumes the session', async () => {
  await page.goto(`${base}/?image=images/xerox-v2/VirtualImage`);
  await waitState(page, ['idle'], 60000);
  const box = await page.locator('#display').boundingBox();
  const scale = box.width / 640;
  const at = (x, y) => [box.x + (x + 0.5) * scale, box.y + (y + 0.5) * scale];
  const idle = () => waitState(page, ['idle'], 30000);
  // Screen menu (right button = yellow) on the background, "workspace", frame the window.
  await page.mouse.move(...at(620, 300));
  await page.mouse.down({ button: 'right' });
  await page.waitForTimeout(500);
  await page.mouse.move(...at(580, 248), { steps: 5 });
  await page.waitForTimeout(300);
  await page.mouse.up({ button: 'right' });
  await page.waitForTimeout(1000);
  await page.mouse.move(...at(120, 280), { steps: 5 });
  await page.mouse.down();
  await page.mouse.move(...at(420, 440), { steps: 10 });
  await page.waitForTimeout(300);
  await page.mouse.up();
  await page.waitForTimeout(1000);
  await idle();
  // The keyboard: shifted and unshifted characters of a US layout, one key event each.
  const typed = `Hello, World! 3 + 4 = 7 "quote" (x_y) #[1 2] ^ ~ {a|b} 'it''s' <&> ?@$%*`;
  await page.keyboard.type(typed);
  await page.keyboard.press('Enter');
  // Paste: the browser's paste event (what Ctrl+V gives), line ends become CR.
  await page.evaluate(() => {
    const data = new DataTransfer();
    data.setData('text/plain', 'pasted\r\nline');
    document.getElementById('display').dispatchEvent(new ClipboardEvent('paste', { clipboardData: data, bubbles: true }));
  });
  await page.waitForTimeout(1000);
  await idle();
  // What the image holds, read back through the image: the workspace's text.
  const text = await page.evaluate(() => window.st80.evaluate(
    '(ScheduledControllers scheduledControllers first view subViews first controller text) string'));
  assertEq(text, `'${typed.replace(/'/g, "''")}\npasted\nline'`, 'the workspace text (CR read back as LF)');
  // Copy out: the image's copy buffer to the browser's clipboard.
  await page.evaluate(() => window.st80.evaluate(
    "ParagraphEditor classPool at: #CurrentSelection put: ('it''s from', (String with: Character cr), 'the image') asText"));
  await page.click('#copy');
  await page.waitForFunction(() => /copied/.test(document.getElementById('status').textContent), null, { timeout: 20000 });
  assertEq(await page.evaluate(() => navigator.clipboard.readText()), "it's from\nthe image", 'clipboard after Copy out');
  // Idle: the VM sleeps (report only; no timing assertion).
  await idle();
  const c0 = await page.evaluate(() => window.st80.vm.cycles());
  await page.waitForTimeout(2000);
  const c1 = await page.evaluate(() => window.st80.vm.cycles());
  console.log(`     idle for 2 s: ${c1 - c0} bytecodes run`);
  await page.evaluate(() => window.st80.evaluate("Smalltalk at: #WebTest put: 'kept'"));
  await idle();
  const before = await canvasHash(page);
  await page.locator('#display').screenshot({ path: join(out, 'web-live-before-save.png') });
  await page.click('#save');
  await page.waitForFunction(() => document.body.dataset.saved === '1', null, { timeout: 60000 });
  await page.reload();
  await waitState(page, ['idle'], 60000);
  assertEq(await page.evaluate(() => document.body.dataset.resumed), 'true', 'resumed from the saved session');
  assertEq(await page.evaluate(() => window.st80.evaluate('Smalltalk at: #WebTest')), "'kept'", 'global after reload');
  await idle();
  await page.locator('#display').screenshot({ path: join(out, 'web-live-after-reload.png') });
  const after = await canvasHash(page);
  console.log(`     screen before save ${before}, after reload ${after}`);
  await page.screenshot({ path: join(out, 'web-page.png') });
});

await test("host files (dbanay's snapshot.im): a file the image writes is kept in the browser across a reload", async () => {
  await page.goto(`${base}/?image=images/dbanay/snapshot.im&sources=images/dbanay/Smalltalk-80.sources&changes=images/dbanay/Smalltalk-80.changes`);
  await waitState(page, ['idle', 'running'], 60000);
  assertEq(await page.evaluate(() => window.st80.evaluate(
    "| f | f _ FileStream fileNamed: 'web.txt'. f nextPutAll: 'written in the browser'. f close. Smalltalk at: #WebFiles put: 1. 3")),
    '3', 'writing a file');
  // The source code comes from the sources file (a method's text, through the file primitives).
  const source = await page.evaluate(() => window.st80.evaluate('(Object sourceCodeAt: #isNil) asString'));
  if (!/isNil/.test(source)) throw new Error(`no source code read: ${source}`);
  // Files are written back to IndexedDB within a second.
  await page.waitForTimeout(1500);
  await page.reload();
  await waitState(page, ['idle', 'running'], 60000);
  assertEq(await page.evaluate(() => document.body.dataset.resumed), 'true', 'resumed');
  assertEq(await page.evaluate(() => window.st80.evaluate("(FileStream oldFileNamed: 'web.txt') contentsOfEntireFile")),
    "'written in the browser'", 'the file after reload');
  assertEq(await page.evaluate(() => window.st80.evaluate('Smalltalk includesKey: #WebFiles')), 'false',
    'the image itself was not saved, so it resumed from the start');
});

await test('errors are shown on the page: a file that is not an image, an address that fails', async () => {
  await page.goto(`${base}/?image=index.html&cycles=10`);
  await waitState(page, ['error']).catch(() => {});
  const shown = await page.locator('#error').textContent();
  if (!/not a Smalltalk-80 image/.test(shown)) throw new Error(`error box says: ${shown}`);
  await page.goto(`${base}/?image=images/no-such-image&cycles=10`);
  await page.waitForFunction(() => document.body.dataset.state === 'error', null, { timeout: 20000 });
  const shown2 = await page.locator('#error').textContent();
  if (!/HTTP 404/.test(shown2)) throw new Error(`error box says: ${shown2}`);
});

console.log(`wasm: ${wasmBytes} bytes`);
await browser.close();
rmSync(userDataDir, { recursive: true, force: true });
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
