// Single sign-on in the browser (API.md §12): an app's user signs in
// through an OpenID provider from the app's sign-in page and comes back
// to the app with tokens that say sso; Sign in with Apple answers with a
// cross-site form_post, which Chromium's default cookie rules keep our
// cookies off, and the sign-in still finishes in the browser that began
// it; the "single sign-on" page finds the connection by email domain.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import {
  SIGIL, SPA, authenticator, bodyText, button, checkA11y, field, launch, link, openPage, shoot, submit,
} from './helpers.mjs';

const need = (name) => {
  const v = process.env[name];
  if (!v) throw new Error(`${name} is not set: run these tests with go test ./e2e/browser/`);
  return v;
};
const OIDC_ID = need('SSO_OIDC_ID');
const OIDC_EMAIL = need('SSO_OIDC_EMAIL');
const APPLE_ID = need('SSO_APPLE_ID');
const APPLE_EMAIL = need('SSO_APPLE_EMAIL');
const PASSKEY_EMAIL = need('SSO_PASSKEY_EMAIL');

let browser;
before(async () => { browser = await launch(); });
after(async () => { await browser?.close(); });

// claims decodes a JWT's payload (the test trusts its own server here:
// the SPA and the API already verified it).
const claims = (jwt) => JSON.parse(Buffer.from(jwt.split('.')[1], 'base64url').toString());

test('an app signs a person in through an OpenID connection', async () => {
  const { page, problems } = await openPage(browser);
  await page.goto(`${SPA}/`);
  await page.locator('#status', { hasText: 'Not signed in' }).waitFor();
  await button(page, 'Sign in').click();
  await page.waitForURL((u) => u.href.startsWith(`${SIGIL}/login`));
  const choice = link(page, 'Continue with Test IdP');
  await choice.waitFor();
  await shoot(page, 'login-sso-buttons');
  await checkA11y(page, 'login-sso-buttons');
  await choice.click();
  await page.waitForURL((u) => u.hostname === '127.0.0.1'); // the IdP's own sign-in page
  await button(page, `Sign in as ${OIDC_EMAIL}`).click();
  await page.locator('#who', { hasText: OIDC_EMAIL })
    .or(page.locator('#status', { hasText: /failed|error/i })).waitFor();
  assert.equal(await page.locator('#who').innerText(), OIDC_EMAIL,
    `not signed in on ${page.url()}: ${await bodyText(page)}`);
  assert.equal(new URL(page.url()).origin, SPA);
  const user = await page.evaluate(() => {
    const key = Object.keys(sessionStorage).find((k) => k.startsWith('oidc.user:'));
    return JSON.parse(sessionStorage.getItem(key));
  });
  const at = claims(user.access_token);
  assert.deepEqual(at.amr, ['sso']);
  assert.equal(at.sso, OIDC_ID);
  assert.equal(claims(user.id_token).sso, OIDC_ID);
  assert.deepEqual(problems, []);
});

test('Sign in with Apple posts back cross-site and finishes in the same browser', async () => {
  const { page, problems } = await openPage(browser);
  await page.goto(`${SIGIL}/sso/${APPLE_ID}/start`);
  await page.waitForURL((u) => u.hostname === '127.0.0.1');
  const posted = page.waitForRequest((r) => r.method() === 'POST' && r.url() === `${SIGIL}/sso/${APPLE_ID}/callback`);
  await button(page, `Sign in as ${APPLE_EMAIL}`).click();
  const post = await posted;
  // The form_post is cross-site: Chromium sends no SameSite=Lax cookie
  // with it; the 303 to our own GET carries the flow cookie.
  assert.equal((await post.allHeaders())['sec-fetch-site'], 'cross-site');
  assert.ok(!(await post.allHeaders()).cookie, 'a cookie went with the cross-site POST');
  await page.waitForURL(`${SIGIL}/account`);
  assert.match(await bodyText(page), new RegExp(APPLE_EMAIL.replace('.', '\\.')));
  assert.deepEqual(problems, []);
});

test('the single sign-on page finds the connection by email domain', async () => {
  const { page, problems } = await openPage(browser);
  await page.goto(`${SIGIL}/login`);
  await link(page, 'Sign in with single sign-on (SSO)').click();
  await page.waitForURL(`${SIGIL}/login/sso`);
  await field(page, 'Work email').fill('someone@nowhere.test');
  await submit(page, button(page, 'Continue'));
  assert.match(await bodyText(page), /not set up for that email's domain/);
  await shoot(page, 'login-sso-unknown');
  await checkA11y(page, 'login-sso-unknown');
  await field(page, 'Work email').fill(OIDC_EMAIL);
  await button(page, 'Continue').click();
  await page.waitForURL((u) => u.hostname === '127.0.0.1');
  await button(page, `Sign in as ${OIDC_EMAIL}`).click();
  await page.waitForURL(`${SIGIL}/account`);
  assert.match(await bodyText(page), new RegExp(OIDC_EMAIL.replace('.', '\\.')));
  assert.deepEqual(problems, []);
});

test('a refused sign-in says why and offers the way back', async () => {
  const { page, problems } = await openPage(browser);
  await page.goto(`${SIGIL}/sso/${OIDC_ID}/callback?code=x&state=ss_forged`);
  assert.match(await bodyText(page), /Single sign-on did not work/);
  await shoot(page, 'sso-refused');
  await checkA11y(page, 'sso-refused');
  await link(page, 'Back to sign-in').click();
  await page.waitForURL(`${SIGIL}/login`);
  assert.deepEqual(problems.filter((p) => !p.includes('403')), []);
});

test('after single sign-on, a passkey is the second step', async () => {
  const { page, problems } = await openPage(browser);
  const { cdp, authenticatorId } = await authenticator(page);
  // Off while no passkey is wanted: /login's autofill would use it.
  const presence = (enabled) => cdp.send('WebAuthn.setAutomaticPresenceSimulation', { authenticatorId, enabled });
  const viaIdP = async () => {
    await page.goto(`${SIGIL}/sso/${OIDC_ID}/start`);
    await page.waitForURL((u) => u.hostname === '127.0.0.1');
    await button(page, `Sign in as ${PASSKEY_EMAIL}`).click();
  };
  await viaIdP();
  await page.waitForURL(`${SIGIL}/account`);
  await page.goto(`${SIGIL}/dashboard/security`);
  await field(page, 'Passkey name').fill('SSO laptop');
  await submit(page, button(page, 'Add passkey'));
  await page.waitForURL(`${SIGIL}/dashboard/security?passkey=1`);

  await presence(false);
  await page.goto(`${SIGIL}/logout`);
  await submit(page, button(page, 'Sign out'));
  await viaIdP();
  await button(page, 'Use your passkey').waitFor();
  await presence(true);
  await shoot(page, 'sso-mfa-passkey');
  await checkA11y(page, 'sso-mfa-passkey');
  await submit(page, button(page, 'Use your passkey'));
  await page.waitForURL(`${SIGIL}/account`);
  assert.match(await bodyText(page), new RegExp(PASSKEY_EMAIL.replace('.', '\\.')));
  assert.deepEqual(problems, []);
});
