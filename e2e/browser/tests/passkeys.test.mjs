// Passkeys (API.md §13) in Chromium with a virtual authenticator (Chrome
// DevTools Protocol WebAuthn domain: CTAP2, internal transport, resident
// keys, user verification): add one on the dashboard, use it as the
// second step after the password and to sign in without one, and see a
// clone of it with a stale sign counter refused. Pages are screenshotted
// and checked with axe-core.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import {
  SIGIL, authenticator, bodyText, button, checkA11y, expectAlert, field, fillLogin, launch, openPage, shoot, signUp, submit, uniqueEmail,
} from './helpers.mjs';

let browser;
before(async () => { browser = await launch(); });
after(async () => { await browser?.close(); });

// presence turns the authenticator's automatic "touch" on or off. With it
// on, the sign-in page's autofill request (conditional mediation) is
// answered at once, so the steps that need the password turn it off.
async function presence(a, enabled) {
  await a.cdp.send('WebAuthn.setAutomaticPresenceSimulation', { authenticatorId: a.authenticatorId, enabled });
}

async function signOut(page) {
  await page.goto(`${SIGIL}/logout`);
  await submit(page, button(page, 'Sign out'));
}

test('passkey: add on the dashboard, second step, passwordless, a stale clone refused', async () => {
  const email = uniqueEmail('passkey');
  await signUp(email);
  const { context, page, problems } = await openPage(browser);
  const a = await authenticator(page);
  const { cdp, authenticatorId } = a;

  // Add a passkey on the security page.
  await page.goto(`${SIGIL}/login`);
  await fillLogin(page, email, 'correct horse battery staple');
  await page.goto(`${SIGIL}/dashboard/security`);
  assert.match(await bodyText(page), /Two-step verification is off/);
  await shoot(page, 'dash-security-passkey-none');
  await checkA11y(page, 'dash-security-passkey-none');
  await field(page, 'Passkey name').fill('Test laptop');
  await submit(page, button(page, 'Add passkey'));
  await page.waitForURL(`${SIGIL}/dashboard/security?passkey=1`);
  assert.match(await bodyText(page), /Passkey added/);
  assert.match(await bodyText(page), /Test laptop\s+(just now|\d+ (seconds?|s) ago|today)?/);
  let { credentials } = await cdp.send('WebAuthn.getCredentials', { authenticatorId });
  assert.equal(credentials.length, 1);
  assert.equal(credentials[0].isResidentCredential, true);
  assert.equal(credentials[0].rpId, new URL(SIGIL).hostname);
  await shoot(page, 'dash-security-passkey');
  await checkA11y(page, 'dash-security-passkey');

  // The second step after the password: "Use your passkey".
  await signOut(page);
  await presence(a, false);
  await page.goto(`${SIGIL}/login`);
  await fillLogin(page, email, 'correct horse battery staple');
  await button(page, 'Use your passkey').waitFor();
  await presence(a, true);
  await shoot(page, 'login-mfa-passkey');
  await checkA11y(page, 'login-mfa-passkey');
  await submit(page, button(page, 'Use your passkey'));
  await page.waitForURL(`${SIGIL}/account`);

  // Passwordless: "Sign in with a passkey" on the sign-in page. The
  // page's autofill request would be answered at once, so its options
  // are held back (the virtual authenticator decides when a request
  // starts): only the button's request goes through.
  await signOut(page);
  let clicked = false;
  await page.route(`${SIGIL}/login/passkey/begin`, (route) => { if (clicked) route.continue(); });
  await page.goto(`${SIGIL}/login`);
  await button(page, 'Sign in with a passkey').waitFor();
  await shoot(page, 'login-passkey');
  await checkA11y(page, 'login-passkey');
  clicked = true;
  await submit(page, button(page, 'Sign in with a passkey'));
  await page.waitForURL(`${SIGIL}/account`);
  assert.ok((await bodyText(page)).includes(email));
  await page.unrouteAll({ behavior: 'ignoreErrors' });

  // Passwordless through autofill: the email field offers the passkey
  // (conditional mediation), which the virtual authenticator accepts.
  await signOut(page);
  await page.goto(`${SIGIL}/login`);
  await page.waitForURL(`${SIGIL}/account`);
  assert.ok((await bodyText(page)).includes(email));

  // A clone: the same key and id in another browser, its counter behind.
  ({ credentials } = await cdp.send('WebAuthn.getCredentials', { authenticatorId }));
  const used = credentials[0].signCount;
  assert.ok(used >= 2, `sign count after two sign-ins: ${used}`);
  const other = await openPage(browser);
  const clone = await authenticator(other.page);
  await clone.cdp.send('WebAuthn.addCredential', {
    authenticatorId: clone.authenticatorId, credential: { ...credentials[0], signCount: 0 },
  });
  const refused = other.page.waitForResponse((r) => r.url() === `${SIGIL}/login/passkey`);
  await other.page.goto(`${SIGIL}/login`); // autofill offers it, the authenticator signs
  assert.equal((await refused).status(), 401);
  await other.page.waitForURL(`${SIGIL}/login/passkey`);
  await other.page.waitForLoadState();
  await expectAlert(other.page, /That passkey didn't sign you in/);
  await shoot(other.page, 'login-passkey-refused');
  await other.context.close();

  // The original goes on working. It is on the keyring beside the
  // Ed25519 keys (none here), and removing it there ends it.
  await signOut(page);
  await page.goto(`${SIGIL}/login`);
  await page.waitForURL(`${SIGIL}/account`);
  await page.goto(`${SIGIL}/dashboard/keyring`);
  const row = page.getByRole('row', { name: /Test laptop/ });
  assert.match(await row.innerText(), /Test laptop\s+Passkey\s+fac_\w+/);
  await shoot(page, 'dash-keyring-passkey');
  await checkA11y(page, 'dash-keyring-passkey');
  await page.getByRole('link', { name: 'Remove passkey Test laptop' }).click();
  assert.match(await bodyText(page), /Remove passkey Test laptop\?/);
  await shoot(page, 'dash-keyring-passkey-remove');
  await submit(page, button(page, 'Remove passkey'));
  await page.waitForURL(`${SIGIL}/dashboard/keyring?removed=1`);
  assert.match(await bodyText(page), /Key removed/);
  assert.doesNotMatch(await bodyText(page), /Test laptop/);
  await page.goto(`${SIGIL}/dashboard/security`);
  assert.match(await bodyText(page), /Two-step verification is off/);
  await context.close();
  assert.deepEqual(problems, []);
});
