// Members and the keyring, as people use them: the owner invites an
// address, the invitee signs up through the mailed link in another
// browser, the owner changes their scopes and removes them (which signs
// them out); and a person adds an Ed25519 key to their keyring by signing
// the page's challenge with node:crypto, signs in with it, and removes
// keys (the last one stays). Every page is screenshotted and checked
// with axe-core like the other pages.
import assert from 'node:assert/strict';
import { generateKeyPairSync, sign } from 'node:crypto';
import { after, before, test } from 'node:test';
import {
  PASSWORD, SIGIL, SPA, alerts, bodyText, button, checkA11y, expectAlert, field, fillLogin, launch, link, openPage,
  shoot, signUp, submit, uniqueEmail,
} from './helpers.mjs';

let browser;
before(async () => { browser = await launch(); });
after(async () => { await browser?.close(); });

// inviteLink waits up to 10 s for an invitation mailed to `to` and
// returns its link, <SIGIL>/signup?invite=….
async function inviteLink(to) {
  const re = new RegExp(`${SIGIL.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}/signup\\?invite=[^\\s"'<>)]+`);
  const deadline = Date.now() + 10_000;
  for (;;) {
    const msgs = await (await fetch(`${SPA}/mail`)).json();
    const found = msgs.filter((m) => m.to.toLowerCase() === to.toLowerCase()).map((m) => m.text.match(re)?.[0]).filter(Boolean);
    if (found.length > 0) return found.at(-1);
    if (Date.now() > deadline) assert.fail(`no invitation mailed to ${to}: ${JSON.stringify(msgs, null, 1)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

// signedIn is a fresh browser context signed in as email.
async function signedIn(email) {
  const opened = await openPage(browser);
  await opened.page.goto(`${SIGIL}/login`);
  await fillLogin(opened.page, email, PASSWORD);
  return opened;
}

// whoami is the identity of an email/password login through the API.
async function whoami(email) {
  const login = await fetch(`${SIGIL}/v1/auth/login`, {
    method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ email, password: PASSWORD }),
  });
  assert.equal(login.status, 200, await login.clone().text());
  const { access_token: token } = await login.json();
  return (await fetch(`${SIGIL}/v1/whoami`, { headers: { Authorization: `Bearer ${token}` } })).json();
}

test('an owner invites by email, changes the member\'s scopes and removes them', async () => {
  const owner = process.env.OWNER_EMAIL;
  assert.ok(owner, 'OWNER_EMAIL is not set');
  const { page, problems, context } = await signedIn(owner);
  await page.goto(`${SIGIL}/dashboard/members`);
  const email = uniqueEmail('invitee');
  await field(page, 'Email').fill(email);
  await field(page, 'Role').selectOption('admin');
  await submit(page, button(page, 'Send invitation'));
  assert.deepEqual(await alerts(page), []);
  assert.match(await bodyText(page), /Invitation sent/);
  assert.ok((await page.getByRole('table').last().innerText()).includes(email), 'the invitation is not listed');
  await shoot(page, 'dash-members-invite');
  await checkA11y(page, 'dash-members-invite');

  // The invitee, in a browser of their own, signs up through the link.
  const link1 = await inviteLink(email);
  const invitee = await openPage(browser);
  assert.equal((await invitee.page.goto(link1)).status(), 200);
  assert.equal(await field(invitee.page, 'Email').inputValue(), email);
  assert.equal(await field(invitee.page, 'Join code').count(), 0);
  assert.match(await bodyText(invitee.page), /invited as admin/);
  await shoot(invitee.page, 'signup-invited');
  await checkA11y(invitee.page, 'signup-invited');
  await field(invitee.page, 'Password').fill(PASSWORD);
  const created = await submit(invitee.page, button(invitee.page, 'Create account'));
  assert.ok(created.status() < 400, `sign-up answered ${created.status()}`);
  assert.deepEqual(await alerts(invitee.page), []);
  // The link works once.
  const late = await openPage(browser);
  assert.equal((await late.page.goto(link1)).status(), 400);
  assert.match(await bodyText(late.page), /already used/);
  await late.context.close();

  // The owner sees the new member and narrows their scopes.
  await page.goto(`${SIGIL}/dashboard/members`);
  const scopes = page.getByLabel(`Scopes of ${email}, separated by spaces`);
  assert.equal(await page.getByLabel(`Role of ${email}`).inputValue(), 'admin');
  await scopes.fill('read reports:read');
  await submit(page, button(page, `Save ${email}`));
  assert.match(await bodyText(page), /Member saved/);
  assert.equal(await page.getByLabel(`Scopes of ${email}, separated by spaces`).inputValue(), 'read reports:read');
  assert.deepEqual((await whoami(email)).scopes, ['read', 'reports:read']);

  // …and removes them, after a confirmation naming them.
  await page.getByRole('link', { name: `Remove ${email}` }).click();
  assert.match(await bodyText(page), /Remove invitee-[0-9a-f]+@example\.com from .*\?[\s\S]*signed out everywhere/);
  await shoot(page, 'dash-member-remove');
  await checkA11y(page, 'dash-member-remove');
  await submit(page, button(page, 'Remove member'));
  assert.match(await bodyText(page), /Member removed/);
  assert.ok(!(await bodyText(page)).includes(email));
  await invitee.page.goto(`${SIGIL}/dashboard/api-keys`);
  assert.equal(invitee.page.url(), `${SIGIL}/login`, 'the removed member is still signed in');
  assert.deepEqual([...problems, ...invitee.problems], []);
  await invitee.context.close();
  await context.close();
});

// newKey is an Ed25519 key pair and its raw public key in base64.
function newKey() {
  const { publicKey, privateKey } = generateKeyPairSync('ed25519');
  // The SPKI DER of an Ed25519 key is a 12-byte header and the raw 32 bytes.
  return { privateKey, raw: publicKey.export({ format: 'der', type: 'spki' }).subarray(12).toString('base64') };
}

// addKey adds key on the keyring page open in page: the public key, then
// the challenge signed with the private key; screenshots the signing step
// when shot is given.
async function addKey(page, key, shot) {
  await field(page, 'Public key').fill(key.raw);
  await submit(page, button(page, 'Continue'));
  if (shot) {
    await shoot(page, shot);
    await checkA11y(page, shot);
  }
  const challenge = await page.locator('#challenge-value').textContent();
  await field(page, 'Signature').fill(sign(null, Buffer.from(challenge), key.privateKey).toString('base64'));
  await submit(page, button(page, 'Add key'));
  assert.deepEqual(await alerts(page), []);
  assert.match(await bodyText(page), /Key added/);
}

test('the keyring: add an Ed25519 key, sign in with it, remove keys', async () => {
  const email = uniqueEmail('keyring');
  await signUp(email);
  const { page, problems, context } = await signedIn(email);
  await page.goto(`${SIGIL}/dashboard/api-keys`);
  await link(page, 'Keyring').click();
  await page.waitForURL(`${SIGIL}/dashboard/keyring`);
  assert.match(await bodyText(page), /No keys yet/);
  await shoot(page, 'dash-keyring-empty');
  await checkA11y(page, 'dash-keyring-empty');

  await field(page, 'Public key').fill('not a key');
  assert.equal((await submit(page, button(page, 'Continue'))).status(), 400);
  await expectAlert(page, /32-byte Ed25519 public key/);

  const first = newKey();
  const second = newKey();
  await addKey(page, first, 'dash-keyring-sign');
  await addKey(page, second);
  const text = await bodyText(page);
  for (const k of [first, second]) assert.ok(text.includes(k.raw.slice(0, 8)), `key ${k.raw} not listed:\n${text}`);
  await page.locator('details.key-full summary').first().click();
  await shoot(page, 'dash-keyring');
  await checkA11y(page, 'dash-keyring');

  // The key signs in as the person, by the user id the page names.
  const userId = (await page.locator('code', { hasText: /^usr_/ }).first().textContent()).trim();
  const { auth_code: code } = await (await fetch(`${SIGIL}/v1/auth/code`, {
    method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ user_id: userId }),
  })).json();
  const login = await fetch(`${SIGIL}/v1/auth/token`, {
    method: 'POST', headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ user_id: userId, auth_code: code, public_key: first.raw, scheme: 'ed25519',
      signature: sign(null, Buffer.from(code), first.privateKey).toString('base64') }),
  });
  assert.equal(login.status, 200, await login.clone().text());

  // Remove the first key after a confirmation; the last one stays.
  await page.getByRole('link', { name: `Remove key ${first.raw.slice(0, 8)}…${first.raw.slice(-6)}` }).click();
  assert.match(await bodyText(page), /Remove key .*\?[\s\S]*can no longer sign in/);
  await shoot(page, 'dash-keyring-remove');
  await checkA11y(page, 'dash-keyring-remove');
  await submit(page, button(page, 'Remove key'));
  assert.match(await bodyText(page), /Key removed/);
  assert.ok(!(await bodyText(page)).includes(first.raw.slice(0, 8)));
  await page.getByRole('link', { name: /^Remove key / }).click();
  assert.equal((await submit(page, button(page, 'Remove key'))).status(), 409);
  await expectAlert(page, /last key/);
  assert.ok((await bodyText(page)).includes(second.raw.slice(0, 8)));
  assert.deepEqual(problems, []);
  await context.close();
});
