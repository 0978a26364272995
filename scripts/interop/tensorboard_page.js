// TensorBoard's graph page as a person sees it, in headless Chromium over the DevTools
// protocol: load the page, read the names of the drawn nodes (TensorBoard's `data-name`),
// double-click GROUP to expand it, read them again, save a screenshot, and print
// {"before": [...], "after": [...]} as JSON. Used by tensorboard-page.sh.
//   node --experimental-websocket tensorboard_page.js URL OUT.png GROUP
const { spawn } = require('child_process');
const fs = require('fs');
const [url, out, group] = process.argv.slice(2);
const port = 9000 + (process.pid % 500);
const profile = fs.mkdtempSync('/tmp/varscope-chromium-');
const chrome = spawn('chromium', ['--headless', '--no-sandbox', '--disable-gpu', '--window-size=1400,900',
  `--user-data-dir=${profile}`, `--remote-debugging-port=${port}`, 'about:blank'], { stdio: 'ignore' });
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const done = (code, msg) => {
  if (msg) console.log(msg);
  chrome.on('exit', () => { fs.rmSync(profile, { recursive: true, force: true }); process.exit(code); });
  chrome.kill();
};
// Every drawn graph node: its label and the centre of its box, through all shadow roots.
const LABELS = `(() => {
  const found = [];
  const walk = (root) => {
    for (const el of root.querySelectorAll('*')) {
      if (el.shadowRoot) walk(el.shadowRoot);
      if (el.matches && el.matches('g.node')) {
        const label = el.querySelector('text.nodelabel, text');
        const shape = el.querySelector('.nodeshape, rect, ellipse') || el;
        const r = shape.getBoundingClientRect();
        const name = el.getAttribute('data-name') || (label ? label.textContent.trim() : '');
        found.push({ text: name, attrs: el.getAttributeNames().join(' '), x: r.x + r.width / 2, y: r.y + Math.min(r.height / 2, 12) });
      }
    }
  };
  walk(document);
  return JSON.stringify(found);
})()`;
(async () => {
  let targets;
  for (let i = 0; i < 100 && !targets; i++) {
    try { targets = await (await fetch(`http://127.0.0.1:${port}/json`)).json(); } catch { await sleep(200); }
  }
  if (!targets) return done(1, 'chromium did not start');
  const ws = new WebSocket(targets.find((t) => t.type === 'page').webSocketDebuggerUrl);
  let id = 0; const pending = new Map();
  ws.onmessage = (m) => { const d = JSON.parse(m.data); if (d.id && pending.has(d.id)) { pending.get(d.id)(d); pending.delete(d.id); } };
  await new Promise((r) => { ws.onopen = r; });
  const send = (method, params = {}) => new Promise((r) => { const i = ++id; pending.set(i, r); ws.send(JSON.stringify({ id: i, method, params })); });
  const labels = async () => JSON.parse((await send('Runtime.evaluate', { expression: LABELS })).result.result.value);
  await send('Emulation.setDeviceMetricsOverride', { width: 1400, height: 900, deviceScaleFactor: 1, mobile: false });
  await send('Page.navigate', { url });
  let before = [];
  for (let i = 0; i < 60 && !before.some((n) => n.text === group); i++) { await sleep(500); before = await labels(); }
  const target = before.find((n) => n.text === group);
  if (!target) return done(1, `no node ${group} drawn; drawn: ${JSON.stringify(before)}`);
  for (const clickCount of [1, 2]) {
    for (const type of ['mousePressed', 'mouseReleased']) {
      await send('Input.dispatchMouseEvent', { type, x: target.x, y: target.y, button: 'left', clickCount });
    }
  }
  let after = before;
  for (let i = 0; i < 20 && after.length <= before.length; i++) { await sleep(500); after = await labels(); }
  await sleep(1000);
  const shot = await send('Page.captureScreenshot', { format: 'png' });
  fs.writeFileSync(out, Buffer.from(shot.result.data, 'base64'));
  done(0, JSON.stringify({ before: before.map((n) => n.text), after: after.map((n) => n.text) }));
})().catch((e) => done(1, String(e)));
