// Shared by the browser tests: the environment browser_test.go sets, the
// browser, screenshots at two sizes, accessibility checks, the test
// mailbox, and API set-up.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { chromium } from 'playwright-core';

function need(name) {
  const v = process.env[name];
  if (!v) throw new Error(`${name} is not set: run these tests with go test ./e2e/browser/`);
  return v;
}

export const SIGIL = need('SIGIL_URL'); // http://localhost:<port>, also the issuer (the WebAuthn RP)
export const SPA = need('SPA_URL'); // the harness: SPA, /config.json, /mail, /api/hello
export const JOIN_CODE = need('JOIN_CODE');
const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
const SCREENSHOTS = need('SCREENSHOTS');

export const PASSWORD = 'correct horse battery staple';
export const DESKTOP = { width: 1280, height: 800 };
export const PHONE = { width: 375, height: 740 };

// launch starts Debian's Chromium headless; the flags keep it off the
// network it cannot reach here.
export function launch() {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
      '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-quic'],
  });
}

// openPage is a page in a fresh context (no cookies), with its script
// errors and console errors (CSP violations among them) collected in
// problems. "Failed to load resource" lines are left out: a 4xx page is
// expected in several tests.
export async function openPage(browser) {
  const context = await browser.newContext({ viewport: DESKTOP });
  const page = await context.newPage();
  page.setDefaultTimeout(10_000);
  page.setDefaultNavigationTimeout(15_000);
  const problems = [];
  page.on('pageerror', (err) => problems.push(`${page.url()}: ${err.message}`));
  page.on('console', (msg) => {
    if (msg.type() === 'error' && !msg.text().startsWith('Failed to load resource')) {
      problems.push(`${page.url()}: ${msg.text()}`);
    }
  });
  return { context, page, problems };
}

// shoot saves full-page screenshots of page as <name>-desktop.png,
// <name>-phone.png and, in the dark colour scheme, <name>-phone-dark.png,
// asserts that at the phone's 375 px the page does not scroll sideways,
// and leaves the page at the desktop size in the light scheme.
export async function shoot(page, name) {
  for (const [size, viewport] of [['desktop', DESKTOP], ['phone', PHONE]]) {
    await page.setViewportSize(viewport);
    await page.screenshot({ path: path.join(SCREENSHOTS, `${name}-${size}.png`), fullPage: true });
  }
  await checkNoOverflow(page, name);
  await page.emulateMedia({ colorScheme: 'dark' });
  await page.screenshot({ path: path.join(SCREENSHOTS, `${name}-phone-dark.png`), fullPage: true });
  await page.emulateMedia({ colorScheme: 'light' });
  await page.setViewportSize(DESKTOP);
}

// checkNoOverflow asserts that page, at its current viewport, is no wider
// than the viewport: nothing makes it scroll sideways.
export async function checkNoOverflow(page, name) {
  const { scrollWidth, innerWidth } = await page.evaluate(() => ({
    scrollWidth: document.documentElement.scrollWidth, innerWidth: window.innerWidth,
  }));
  assert.ok(scrollWidth <= innerWidth,
    `${name}: at ${innerWidth} px wide the page is ${scrollWidth} px wide (horizontal overflow)`);
}

// axe-core's browser build, injected with page.evaluate: that runs over
// the DevTools protocol, which the pages' CSP (script-src 'self') does not
// govern, whereas page.addScriptTag adds an inline script the CSP blocks.
const AXE_SOURCE = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');
// The WCAG 2.0 and 2.1 A and AA rules.
const AXE_TAGS = ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'];

// a11yViolations runs axe on page as it is now and returns its violations,
// one line per element: rule, impact, target, and for colour contrast the
// colours and ratio axe measured.
async function a11yViolations(page) {
  if (!await page.evaluate(() => typeof window.axe?.run === 'function')) {
    await page.evaluate(`${AXE_SOURCE}\n;void 0`);
  }
  return page.evaluate(async (tags) => {
    const result = await window.axe.run(document, { runOnly: { type: 'tag', values: tags } });
    return result.violations.flatMap((v) => v.nodes.map((n) => {
      const d = n.any.find((c) => c.data?.contrastRatio !== undefined)?.data;
      const contrast = d ? ` contrast ${d.contrastRatio}:1 (needs ${d.expectedContrastRatio}),`
        + ` ${d.fgColor} on ${d.bgColor}, ${d.fontSize} ${d.fontWeight}` : '';
      return `${v.id} [${v.impact}] ${n.target.join(' ')}${contrast} — ${v.help}`;
    }));
  }, AXE_TAGS);
}

// checkA11y runs axe-core's WCAG 2.1 A and AA rules on page in the light
// and the dark colour scheme, and fails listing every violation (rule,
// impact, element). It leaves the page in the light scheme.
export async function checkA11y(page, name) {
  const found = [];
  try {
    for (const colorScheme of ['light', 'dark']) {
      await page.emulateMedia({ colorScheme });
      for (const v of await a11yViolations(page)) found.push(`${name} (${colorScheme}): ${v}`);
    }
  } finally {
    await page.emulateMedia({ colorScheme: 'light' });
  }
  assert.ok(found.length === 0, `accessibility violations on ${page.url()}:\n  ${found.join('\n  ')}`);
}

// uniqueEmail is a fresh address, so tests never share an account.
export function uniqueEmail(tag) {
  return `${tag}-${randomBytes(5).toString('hex')}@example.com`;
}

// signUp creates an account through the API (API.md §4), for tests that
// are about another page.
export async function signUp(email, password = PASSWORD) {
  const res = await fetch(`${SIGIL}/v1/auth/signup`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ email, password, join_code: JOIN_CODE }),
  });
  assert.equal(res.status, 201, `POST /v1/auth/signup: ${await res.text()}`);
}

// mailLink waits up to 10 s for a mail to `to` holding a link to
// SIGIL + route ("/verify-email", "/reset-password") with a token, and
// returns the newest such link.
export async function mailLink(to, route) {
  const escaped = (SIGIL + route).replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const re = new RegExp(`${escaped}\\?token=[^\\s"'<>)]+`);
  const deadline = Date.now() + 10_000;
  for (;;) {
    const res = await fetch(`${SPA}/mail`);
    const msgs = await res.json();
    const links = msgs.filter((m) => m.to.toLowerCase() === to.toLowerCase())
      .map((m) => m.text.match(re)?.[0]).filter(Boolean);
    if (links.length > 0) return links.at(-1).replace(/[.,;]+$/, '');
    if (Date.now() > deadline) {
      assert.fail(`no mail to ${to} with a ${SIGIL}${route}?token=… link; the mailbox has ${JSON.stringify(msgs, null, 1)}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}

// Accessible locators of the hosted pages (exact names, as in the contract).
export const field = (page, label) => page.getByLabel(label, { exact: true });
export const button = (page, name) => page.getByRole('button', { name, exact: true });
export const link = (page, name) => page.getByRole('link', { name, exact: true });

// submit clicks a form's button and returns the final response of the
// navigation it starts (after redirects).
export async function submit(page, btn) {
  const done = page.waitForResponse((r) => r.request().isNavigationRequest()
    && r.frame() === page.mainFrame() && (r.status() < 300 || r.status() >= 400));
  await btn.click();
  const res = await done;
  await page.waitForLoadState();
  return res;
}

// alerts is the text of every role="alert" region that says something.
export async function alerts(page) {
  const texts = await page.getByRole('alert').allInnerTexts();
  return texts.map((t) => t.trim()).filter(Boolean);
}

// expectAlert asserts that the page shows a role="alert" saying pattern
// (after a submit, so the page is already there).
export async function expectAlert(page, pattern) {
  const said = (await alerts(page)).join(' | ');
  assert.match(said, pattern, `alerts on ${page.url()}: "${said}"`);
}

// fillLogin signs in on the hosted /login page already open in page.
export async function fillLogin(page, email, password) {
  await field(page, 'Email').fill(email);
  await field(page, 'Password').fill(password);
  return submit(page, button(page, 'Sign in'));
}

// bodyText is what the page shows.
export const bodyText = (page) => page.locator('body').innerText();

// copySecret checks a secret shown once (held by the element with id, under
// "You won't see it again. Store it now.") and that its Copy button copies
// it, and returns it. The page's context needs the clipboard permissions.
export async function copySecret(page, id) {
  const secret = (await page.locator(`#${id}`).innerText()).trim();
  assert.match(await bodyText(page), /You won't see it again\. Store it now\./);
  await button(page, 'Copy').click();
  await page.getByRole('button', { name: 'Copied' }).waitFor();
  assert.equal(await page.evaluate(() => navigator.clipboard.readText()), secret);
  return secret;
}

// authenticator adds a virtual platform authenticator to page and
// returns its CDP session and id.
export async function authenticator(page) {
  const cdp = await page.context().newCDPSession(page);
  await cdp.send('WebAuthn.enable', { enableUI: false });
  const { authenticatorId } = await cdp.send('WebAuthn.addVirtualAuthenticator', {
    options: {
      protocol: 'ctap2', transport: 'internal', hasResidentKey: true, hasUserVerification: true,
      isUserVerified: true, automaticPresenceSimulation: true,
    },
  });
  return { cdp, authenticatorId };
}
