// The hosted pages' defences (API.md §11): CSP without inline scripts and
// no framing, nosniff, no referrer, and cross-origin form posts refused.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import {
  PASSWORD, SIGIL, SPA, button, field, launch, openPage, signUp, uniqueEmail,
} from './helpers.mjs';

let browser;
before(async () => { browser = await launch(); });
after(async () => { await browser?.close(); });

// csp parses a Content-Security-Policy into directive → sources.
function csp(header) {
  const out = new Map();
  for (const part of header.split(';')) {
    const [name, ...sources] = part.trim().split(/\s+/);
    if (name) out.set(name.toLowerCase(), sources);
  }
  return out;
}

// checkHeaders asserts the headers every hosted HTML page must send.
function checkHeaders(path, res) {
  const policy = csp(res.headers.get('content-security-policy') ?? '');
  assert.deepEqual(policy.get('frame-ancestors'), ["'none'"], `${path}: frame-ancestors`);
  const scripts = policy.get('script-src') ?? policy.get('default-src');
  assert.ok(scripts, `${path}: CSP has neither script-src nor default-src`);
  assert.ok(!scripts.includes("'unsafe-inline'"), `${path}: script-src allows 'unsafe-inline'`);
  assert.equal(res.headers.get('x-content-type-options'), 'nosniff', `${path}: X-Content-Type-Options`);
  assert.equal(res.headers.get('referrer-policy'), 'no-referrer', `${path}: Referrer-Policy`);
}

test('hosted pages send CSP, nosniff and Referrer-Policy', async () => {
  const login = await fetch(`${SIGIL}/login`);
  assert.equal(login.status, 200);
  assert.match(login.headers.get('content-type') ?? '', /^text\/html/);
  checkHeaders('/login', login);
  const others = ['/signup', '/forgot-password', '/logout', '/reset-password?token=bogus',
    '/verify-email?token=bogus', '/oauth2/authorize?client_id=nope'];
  for (const path of others) {
    const res = await fetch(SIGIL + path, { redirect: 'manual' });
    if ((res.headers.get('content-type') ?? '').startsWith('text/html')) checkHeaders(path, res);
  }
});

test('a form posted to /login from another origin is refused with 403', async () => {
  const email = uniqueEmail('csrf');
  await signUp(email);
  const { page } = await openPage(browser);
  const creds = { action: `${SIGIL}/login`, email, password: PASSWORD };
  const posted = () => page.waitForResponse((r) => r.url() === `${SIGIL}/login` && r.request().method() === 'POST');

  // A plain HTML form on the SPA's origin (same site, another port).
  await page.goto(`${SPA}/`);
  let answer = posted();
  await page.evaluate(({ action, email, password }) => {
    const form = Object.assign(document.createElement('form'), { method: 'post', action });
    for (const [name, value] of Object.entries({ email, password })) {
      form.append(Object.assign(document.createElement('input'), { name, value }));
    }
    document.body.append(form);
    form.submit();
  }, creds);
  assert.equal((await answer).status(), 403);
  await page.waitForURL(`${SIGIL}/login`);

  // fetch with mode no-cors: the page cannot read the answer, the server must still refuse.
  await page.goto(`${SPA}/`);
  answer = posted();
  await page.evaluate(({ action, email, password }) => fetch(action, {
    method: 'POST', mode: 'no-cors', credentials: 'include', body: new URLSearchParams({ email, password }),
  }).catch(() => {}), creds);
  assert.equal((await answer).status(), 403);

  // Neither post signed the browser in: the SPA's sign-in shows the login form.
  await page.goto(`${SPA}/`);
  await page.locator('#status', { hasText: 'Not signed in' }).waitFor();
  await button(page, 'Sign in').click();
  await page.waitForURL((u) => u.href.startsWith(`${SIGIL}/login`));
  await field(page, 'Email').waitFor();
});

test('a signed-in dashboard refuses a cross-origin post and a post without its CSRF proof', async () => {
  const email = uniqueEmail('csrf-dash');
  await signUp(email);
  const { page, context } = await openPage(browser);
  await page.goto(`${SIGIL}/login`);
  await field(page, 'Email').fill(email);
  await field(page, 'Password').fill(PASSWORD);
  await button(page, 'Sign in').click();
  await page.waitForURL((u) => !u.href.startsWith(`${SIGIL}/login`));
  const posted = () => page.waitForResponse((r) => r.url() === `${SIGIL}/dashboard/api-keys` && r.request().method() === 'POST');

  // From the SPA's origin: a plain form posted to the dashboard, the session cookie riding along.
  await page.goto(`${SPA}/`);
  let answer = posted();
  await page.evaluate((action) => {
    const form = Object.assign(document.createElement('form'), { method: 'post', action });
    form.append(Object.assign(document.createElement('input'), { name: 'name', value: 'planted' }));
    document.body.append(form);
    form.submit();
  }, `${SIGIL}/dashboard/api-keys`);
  assert.equal((await answer).status(), 403);
  await page.waitForURL(`${SIGIL}/dashboard/api-keys`);
  await page.waitForLoadState();

  // Same origin, but not from a form Sigil served to this session: no proof.
  await page.goto(`${SIGIL}/dashboard/api-keys`);
  const status = await page.evaluate(() => fetch('/dashboard/api-keys', {
    method: 'POST', body: new URLSearchParams({ name: 'planted' }),
  }).then((r) => r.status));
  assert.equal(status, 403);

  // The form on the page carries the proof and works; nothing was planted.
  await page.goto(`${SIGIL}/dashboard/api-keys/new`);
  await field(page, 'Name').fill('mine');
  await button(page, 'Create key').click();
  await page.locator('#secret-value').waitFor();
  await page.goto(`${SIGIL}/dashboard/api-keys`);
  const text = await page.locator('body').innerText();
  assert.ok(text.includes('mine') && !text.includes('planted'), text);
  await context.close();
});
