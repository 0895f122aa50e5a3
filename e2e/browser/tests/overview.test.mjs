// The overview: an owner sees the workspace's sign-ins, failed sign-ins,
// rate-limited requests and active API keys as server-rendered SVG charts
// with their totals; a member gets 403. The numbers are made here through
// the API (other test files may add to them, so totals are lower bounds).
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import {
  PASSWORD, SIGIL, bodyText, checkA11y, fillLogin, launch, link, openPage, shoot, signUp, uniqueEmail,
} from './helpers.mjs';

let browser;
before(async () => { browser = await launch(); });
after(async () => { await browser?.close(); });

// api calls SIGIL's JSON API and returns the response.
function api(method, path, body, token, headers = {}) {
  return fetch(SIGIL + path, {
    method,
    headers: {
      ...headers,
      ...(body ? { 'Content-Type': 'application/json' } : {}),
      ...(token ? { Authorization: `Bearer ${token}` } : {}),
    },
    body: body ? JSON.stringify(body) : undefined,
  });
}

// login is POST /v1/auth/login with email and password: an access token.
async function login(email, password = PASSWORD) {
  const res = await api('POST', '/v1/auth/login', { email, password });
  assert.equal(res.status, 200, await res.clone().text());
  return (await res.json()).access_token;
}

// tieredKey makes a fresh member of the owner's workspace hold the "free"
// request tier (60 a minute at forward-auth) and returns an API key of
// theirs with that tier, so the owner's own scopes stay as they are.
async function tieredKey(ownerToken, email) {
  const me = await (await api('GET', '/v1/whoami', null, await login(email))).json();
  const patch = await api('PATCH', `/v1/workspaces/${me.workspace_id}/members/${me.subject}`,
    { scopes: ['read', 'tier:free'] }, ownerToken);
  assert.equal(patch.status, 200, await patch.clone().text());
  const res = await api('POST', '/v1/api-keys', { name: 'tiered', scopes: ['tier:free'] }, await login(email));
  assert.equal(res.status, 201, await res.clone().text());
  return (await res.json()).key;
}

// total is the number above chart id ("signins", "failures", "limited",
// "keys") on the overview open in page.
async function total(page, id) {
  const text = (await page.locator(`#${id}-total`).innerText()).trim();
  assert.match(text, /^\d+$/, `#${id}-total`);
  return Number(text);
}

test('overview: the charts count sign-ins, failures, 429s and keys; members get 403', async () => {
  const owner = process.env.OWNER_EMAIL;
  assert.ok(owner, 'OWNER_EMAIL is not set');
  const member = uniqueEmail('overview');
  await signUp(member);
  const key = await tieredKey(await login(owner), member);
  const wrong = await api('POST', '/v1/auth/login', { email: member, password: 'not the password' });
  assert.equal(wrong.status, 401);
  let limited = 0;
  for (let i = 0; i < 70 && limited === 0; i += 1) {
    const res = await api('GET', '/v1/authorize', null, null, { 'X-API-KEY': key });
    if (res.status === 429) limited += 1;
    else assert.equal(res.status, 200, await res.text());
  }
  assert.equal(limited, 1, 'the free tier never answered 429');

  const { page, problems, context } = await openPage(browser);
  await page.goto(`${SIGIL}/login`);
  await fillLogin(page, owner, PASSWORD);
  await page.goto(`${SIGIL}/dashboard`);
  assert.equal(page.url(), `${SIGIL}/dashboard/overview`, "an owner's dashboard starts at the overview");
  for (const name of [/^Sign-ins per hour/, /^Failed sign-ins per hour/, /^Rate-limited requests \(429\) per hour/,
    /^Active API keys per hour/]) {
    await page.getByRole('img', { name }).waitFor();
  }
  assert.equal(await page.locator('svg.chart-plot').count(), 4);
  // The owner's logins here (one API, one page) and the member's two.
  assert.ok(await total(page, 'signins') >= 4, `sign-ins ${await total(page, 'signins')}`);
  assert.ok(await total(page, 'failures') >= 1);
  assert.ok(await total(page, 'limited') >= 1);
  assert.ok(await total(page, 'keys') >= 1);
  assert.ok(await page.locator('rect.chart-bar').count() >= 4, 'bars for the counts');
  assert.match(await page.locator('.sr-only caption').innerText(), /Per hour over the last 24 hours/);
  await shoot(page, 'dash-overview');
  await checkA11y(page, 'dash-overview');

  await link(page, 'Last 30 days').click();
  await page.waitForURL(`${SIGIL}/dashboard/overview?range=30d`);
  await page.getByRole('img', { name: /^Sign-ins per day over the last 30 days/ }).waitFor();
  assert.ok(await total(page, 'limited') >= 1);
  assert.equal(await page.locator('[aria-current="true"]').innerText(), 'Last 30 days');
  await shoot(page, 'dash-overview-30d');
  await checkA11y(page, 'dash-overview-30d');
  assert.deepEqual(problems, []);
  await context.close();

  const m = await openPage(browser);
  await m.page.goto(`${SIGIL}/login`);
  await fillLogin(m.page, member, PASSWORD);
  await m.page.goto(`${SIGIL}/dashboard`);
  assert.equal(m.page.url(), `${SIGIL}/dashboard/api-keys`, "a member's dashboard starts at their keys");
  const nav = await m.page.getByRole('navigation', { name: 'Dashboard' }).innerText();
  assert.ok(!nav.includes('Overview'), `a member's navigation offers the overview: ${nav}`);
  const res = await m.page.goto(`${SIGIL}/dashboard/overview`);
  assert.equal(res.status(), 403);
  assert.doesNotMatch(await bodyText(m.page), /Sign-ins per/);
  assert.deepEqual(m.problems, []);
  await m.context.close();
});
