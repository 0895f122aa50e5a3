// The dashboard's API-key and session pages, as a person uses them: create
// a key (shown once, copied with the button), see it listed by prefix,
// revoke it after a confirmation, and look at the sessions list. Every
// page is screenshotted and checked with axe-core like the sign-in pages.
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { after, before, test } from 'node:test';
import {
  SIGIL, bodyText, button, checkA11y, field, fillLogin, launch, link, openPage, shoot, signUp, submit, uniqueEmail,
} from './helpers.mjs';

// hello is GET / with headers: the API.md §2 endpoint every credential
// may call.
const hello = (headers) => fetch(`${SIGIL}/`, { headers });

// refusedWithin polls GET / with headers until it answers 401, and fails
// unless that happens within ms milliseconds of since.
async function refusedWithin(headers, since, ms) {
  for (;;) {
    const res = await hello(headers);
    if (res.status === 401) return;
    assert.equal(res.status, 200);
    assert.ok(Date.now() - since < ms, `still accepted ${Date.now() - since} ms after the dashboard revoked it`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

// hs256 is a customer-minted JWT (API.md §5.2): HS256 with the key's id
// as kid, signed with the secret's UTF-8 bytes.
function hs256(kid, secret, claims) {
  const b64 = (v) => Buffer.from(JSON.stringify(v)).toString('base64url');
  const body = `${b64({ alg: 'HS256', typ: 'JWT', kid })}.${b64(claims)}`;
  return `${body}.${createHmac('sha256', secret).update(body).digest('base64url')}`;
}

let browser;
before(async () => { browser = await launch(); });
after(async () => { await browser?.close(); });

test('API keys: create, copy, list, revoke; JWT keys; sessions', async () => {
  const email = uniqueEmail('dash');
  await signUp(email);
  const { context, page, problems } = await openPage(browser);
  await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: SIGIL });
  await page.goto(`${SIGIL}/login`);
  await fillLogin(page, email, 'correct horse battery staple');
  await link(page, 'Open the dashboard').click();
  await page.waitForURL(`${SIGIL}/dashboard/api-keys`);
  assert.match(await bodyText(page), /No API keys yet/);
  await shoot(page, 'dash-keys-empty');
  await checkA11y(page, 'dash-keys-empty');

  await link(page, 'Create key').first().click();
  await field(page, 'Name').fill('ci-deploy');
  await shoot(page, 'dash-key-new');
  await checkA11y(page, 'dash-key-new');
  const res = await submit(page, button(page, 'Create key'));
  assert.equal(res.status(), 201);
  const key = (await page.locator('#secret-value').innerText()).trim();
  assert.match(key, /^sk_/);
  assert.match(await bodyText(page), /You won't see it again\. Store it now\./);
  await button(page, 'Copy').click();
  await page.getByRole('button', { name: 'Copied' }).waitFor();
  assert.equal(await page.evaluate(() => navigator.clipboard.readText()), key);
  await shoot(page, 'dash-key-created');
  await checkA11y(page, 'dash-key-created');

  // The key works, and the list never shows it again.
  const ok = await hello({ 'X-API-KEY': key });
  assert.equal(ok.status, 200);
  assert.equal((await ok.json()).message, 'Oh, Hello');
  await link(page, 'Done').click();
  const list = await bodyText(page);
  assert.ok(list.includes('ci-deploy') && !list.includes(key), list);
  await shoot(page, 'dash-keys');
  await checkA11y(page, 'dash-keys');

  await page.getByRole('link', { name: /^Revoke/ }).click();
  assert.match(await bodyText(page), /Revoke key "ci-deploy"\?[\s\S]*fail immediately/);
  await shoot(page, 'dash-key-revoke');
  await checkA11y(page, 'dash-key-revoke');
  await submit(page, button(page, 'Revoke key'));
  const revokedAt = Date.now();
  assert.match(await bodyText(page), /Key revoked\. Requests using it now get 401\./);
  await refusedWithin({ 'X-API-KEY': key }, revokedAt, 1000);

  await link(page, 'JWT keys').click();
  assert.match(await bodyText(page), /No JWT keys yet/);
  await field(page, "New key's name").fill('web-backend');
  assert.equal((await submit(page, button(page, 'Create JWT key'))).status(), 201);
  const kid = (await page.locator('#kid-value').innerText()).trim();
  const secret = (await page.locator('#secret-value').innerText()).trim();
  assert.match(kid, /^[0-9a-f-]{36}$/);
  assert.match(await bodyText(page), /You won't see the secret again/);
  await shoot(page, 'dash-jwt-created');
  await checkA11y(page, 'dash-jwt-created');
  const jwt = { Authorization: `Bearer ${hs256(kid, secret, { sub: 'svc-1', exp: Math.floor(Date.now() / 1000) + 300 })}` };
  assert.equal((await hello(jwt)).status, 200);
  await link(page, 'Done').click();
  assert.ok((await bodyText(page)).includes(kid));
  await shoot(page, 'dash-jwt');
  await checkA11y(page, 'dash-jwt');
  await submit(page, button(page, 'Delete web-backend'));
  const deletedAt = Date.now();
  assert.ok(!(await bodyText(page)).includes(kid));
  await refusedWithin(jwt, deletedAt, 1000);

  await link(page, 'Profile').click();
  assert.match(await bodyText(page), /not verified/);
  await shoot(page, 'dash-profile');
  await checkA11y(page, 'dash-profile');

  await link(page, 'Sessions').click();
  assert.match(await bodyText(page), /this browser/);
  await shoot(page, 'dash-sessions');
  await checkA11y(page, 'dash-sessions');
  assert.deepEqual(problems, []);
  await context.close();
});

test('owners: apps and the audit log', async () => {
  const owner = process.env.OWNER_EMAIL;
  assert.ok(owner, 'OWNER_EMAIL is not set');
  const { page, problems, context } = await openPage(browser);
  await page.goto(`${SIGIL}/login`);
  await fillLogin(page, owner, 'correct horse battery staple');
  await page.goto(`${SIGIL}/dashboard/members`);
  assert.match(await bodyText(page), /owner@acme\.test/);
  await shoot(page, 'dash-members');
  await checkA11y(page, 'dash-members');

  await link(page, 'Apps').click();
  await field(page, 'Name').fill('Shop');
  await field(page, 'Redirect URIs').fill('https://shop.example/callback');
  await page.getByLabel(/Confidential/).check();
  await shoot(page, 'dash-apps');
  await checkA11y(page, 'dash-apps');
  assert.equal((await submit(page, button(page, 'Register app'))).status(), 201);
  assert.match((await page.locator('#secret-value').innerText()).trim(), /^cs_/);
  await shoot(page, 'dash-app-created');
  await checkA11y(page, 'dash-app-created');

  await link(page, 'Settings').click();
  await shoot(page, 'dash-settings');
  await checkA11y(page, 'dash-settings');

  await link(page, 'Audit log').click();
  assert.match(await bodyText(page), /app\.create/);
  await shoot(page, 'dash-audit');
  await checkA11y(page, 'dash-audit');
  assert.deepEqual(problems, []);
  await context.close();
});

