// Sign-in with the keyboard alone (WCAG 2.1.1, 2.4.3, 2.4.7): the hosted
// login form in tab order, each control showing a focus indicator, and
// Enter on "Sign in" submitting it.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import {
  PASSWORD, SIGIL, alerts, bodyText, button, field, launch, link, openPage, signUp, uniqueEmail,
} from './helpers.mjs';

let browser;
before(async () => { browser = await launch(); });
after(async () => { await browser?.close(); });

// focused describes the focused element: its tag, id, accessible name
// (label or text), and whether a focus indicator is drawn (an outline or
// a box-shadow, as the browser computes it).
function focused(page) {
  return page.evaluate(() => {
    const el = document.activeElement;
    const style = getComputedStyle(el);
    const outline = style.outlineStyle !== 'none' && parseFloat(style.outlineWidth) > 0;
    const shadow = style.boxShadow !== 'none' && style.boxShadow !== '';
    const name = (el.labels?.[0]?.textContent ?? el.getAttribute('aria-label') ?? el.textContent ?? '').trim();
    return {
      tag: el.tagName.toLowerCase(), id: el.id, name, ring: outline || shadow,
      style: `outline ${style.outlineStyle} ${style.outlineWidth} ${style.outlineColor}; box-shadow ${style.boxShadow}`,
    };
  });
}

// isFocused tells whether locator is the focused element.
const isFocused = (locator) => locator.evaluate((el) => el === document.activeElement);

test('the login form works with the keyboard alone, in order, with visible focus', async () => {
  const email = uniqueEmail('keyboard');
  await signUp(email);
  const { page, problems } = await openPage(browser);
  await page.goto(`${SIGIL}/login`);

  // The Email field has autofocus; should the browser not honour it, the
  // first Tab must reach it.
  if ((await focused(page)).tag === 'body') await page.keyboard.press('Tab');
  const order = [
    ['Email field', field(page, 'Email'), { tag: 'input', id: 'email', name: 'Email' }],
    ['"Forgot password?" link', link(page, 'Forgot password?'), { tag: 'a', name: 'Forgot password?' }],
    ['Password field', field(page, 'Password'), { tag: 'input', id: 'password', name: 'Password' }],
    ['"Sign in" button', button(page, 'Sign in'), { tag: 'button', name: 'Sign in' }],
  ];
  for (const [i, [what, locator, want]] of order.entries()) {
    if (i > 0) await page.keyboard.press('Tab');
    const got = await focused(page);
    assert.ok(await isFocused(locator), `step ${i + 1}: focus should be on the ${what}, is on ${JSON.stringify(got)}`);
    for (const [k, v] of Object.entries(want)) assert.equal(got[k], v, `step ${i + 1} (${what}): ${k}`);
    assert.ok(got.ring, `the focused ${what} shows no focus indicator: ${got.style}`);
    if (what === 'Email field') await page.keyboard.type(email);
    if (what === 'Password field') await page.keyboard.type(PASSWORD);
  }
  assert.equal(await field(page, 'Email').inputValue(), email);
  assert.equal(await field(page, 'Password').inputValue(), PASSWORD);

  // Enter on the focused button submits: POST /login, then /account.
  const done = page.waitForResponse((r) => r.request().isNavigationRequest()
    && r.frame() === page.mainFrame() && (r.status() < 300 || r.status() >= 400));
  await page.keyboard.press('Enter');
  const res = await done;
  assert.equal(res.status(), 200, `${res.url()}: ${res.status()}`);
  await page.waitForURL((u) => u.pathname === '/account');
  assert.deepEqual(await alerts(page), []);
  const shown = await bodyText(page);
  assert.ok(shown.includes(`Signed in as ${email}`), `/account shows: ${shown}`);
  assert.deepEqual(problems, []);
});
