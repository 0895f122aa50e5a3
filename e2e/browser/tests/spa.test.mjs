// A single-page app (spa/) signs in through Sigil with the stock
// oidc-client-ts library: authorization code + PKCE, an API call verified
// by the verify middleware, refresh, RP-initiated logout, and silent
// re-authorization while the browser session lives.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import {
  PASSWORD, SIGIL, SPA, button, fillLogin, launch, openPage, signUp, uniqueEmail,
} from './helpers.mjs';

let browser;
before(async () => { browser = await launch(); });
after(async () => { await browser?.close(); });

// waitText waits until the element with selector says pattern.
const waitText = (page, selector, pattern) => page.locator(selector, { hasText: pattern }).waitFor();

// stored is the user oidc-client-ts keeps in sessionStorage, or null.
function stored(page) {
  return page.evaluate(() => {
    const key = Object.keys(sessionStorage).find((k) => k.startsWith('oidc.user:'));
    return key ? JSON.parse(sessionStorage.getItem(key)) : null;
  });
}

// callAPI clicks "Call API" and returns what #api then shows.
async function callAPI(page) {
  await page.locator('#api').evaluate((el) => { el.textContent = ''; });
  await button(page, 'Call API').click();
  await page.locator('#api').filter({ hasText: /./ }).waitFor();
  return page.locator('#api').innerText();
}

// signedIn waits until the SPA shows email in #who, or says it failed.
async function signedIn(page, email, problems) {
  await page.locator('#who', { hasText: email })
    .or(page.locator('#status', { hasText: /failed|error/i })).waitFor();
  const status = await page.locator('#status').innerText();
  const who = await page.locator('#who').count() ? await page.locator('#who').innerText() : '';
  assert.equal(who, email,
    `not signed in on ${page.url()}: #status "${status}"; problems: ${problems.join('; ')}`);
}

// spaSignIn signs email in from the SPA through Sigil's login form.
async function spaSignIn(page, email, problems) {
  await page.goto(`${SPA}/`);
  await waitText(page, '#status', 'Not signed in');
  await button(page, 'Sign in').click();
  await page.waitForURL((u) => u.href.startsWith(`${SIGIL}/login`));
  await fillLogin(page, email, PASSWORD);
  await signedIn(page, email, problems);
  assert.equal(new URL(page.url()).origin, SPA);
}

// refusedSoon checks that the API refuses token with 401 within 3 s (the
// verify middleware hears of an ended session through the revocation feed).
async function refusedSoon(token) {
  const deadline = Date.now() + 3000;
  for (;;) {
    const res = await fetch(`${SPA}/api/hello`, { headers: { Authorization: `Bearer ${token}` } });
    if (res.status === 401) return;
    if (Date.now() > deadline) assert.fail(`an ended session's token still gets ${res.status}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

test('the SPA signs in, calls the API, refreshes and signs out', async () => {
  const email = uniqueEmail('spa');
  await signUp(email);
  const { page, problems } = await openPage(browser);
  await spaSignIn(page, email, problems);
  const expires = Date.parse(await page.locator('#expires').innerText());
  assert.ok(expires > Date.now(), 'the access token shown has expired');

  const first = await stored(page);
  assert.ok(first?.access_token && first?.refresh_token, 'no access and refresh token stored');
  assert.deepEqual(JSON.parse(await callAPI(page)), { hello: first.profile.sub });

  await button(page, 'Refresh').click();
  await waitText(page, '#status', 'Token refreshed');
  const second = await stored(page);
  assert.notEqual(second.access_token, first.access_token);
  assert.deepEqual(JSON.parse(await callAPI(page)), { hello: first.profile.sub });

  const leaving = page.waitForRequest((r) => r.isNavigationRequest() && r.url().startsWith(SIGIL));
  await button(page, 'Sign out').click();
  await leaving;
  await waitText(page, '#status', 'Not signed in');
  assert.equal(new URL(page.url()).origin, SPA);
  assert.equal(await page.locator('#who').innerText(), '');
  assert.equal(await stored(page), null);
  await refusedSoon(second.access_token);
  await refusedSoon(first.access_token);
  assert.deepEqual(problems, []);
});

test('a second authorize in a live browser session skips the login form', async () => {
  const email = uniqueEmail('silent');
  await signUp(email);
  const { page, problems } = await openPage(browser);
  await spaSignIn(page, email, problems);

  // The app forgets its tokens; Sigil's browser session remains.
  await page.evaluate(() => sessionStorage.clear());
  await page.reload();
  await waitText(page, '#status', 'Not signed in');
  const visited = [];
  page.on('request', (r) => {
    if (r.isNavigationRequest() && r.url().startsWith(SIGIL)) visited.push(new URL(r.url()).pathname);
  });
  await button(page, 'Sign in').click();
  await signedIn(page, email, problems);
  assert.ok(visited.includes('/oauth2/authorize'), `visited ${visited}`);
  assert.ok(!visited.includes('/login'), `the login form was shown: visited ${visited}`);
  assert.match(await callAPI(page), /"hello"/);
  assert.deepEqual(problems, []);
});
